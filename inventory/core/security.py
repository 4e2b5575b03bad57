"""Secure defaults: headers on every response, Secure cookies over HTTPS, proxy headers, and
same-site redirects."""
from urllib.parse import urlsplit

from flask import request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Only our own scripts and styles: no inline script, no CDN. 'wasm-unsafe-eval' lets the Scan
# page compile the QR reader's WebAssembly (static/vendor/zxing-wasm-*) where the browser has no
# BarcodeDetector of its own (iOS); it allows no JavaScript eval.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def is_local_path(target):
    """True for a path on this site ("/catalog/p/3"), false for anything a browser could take
    off-site: "//host", "https://host", and the lookalikes browsers read the same way, with a
    backslash ("/\\host") or a tab or newline inside ("/<tab>/host": browsers drop them)."""
    if not target or not target.startswith("/") or "\\" in target:
        return False
    if any(ord(character) < 32 or ord(character) == 127 for character in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not target.startswith("//")


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came in over HTTPS, and refreshes an
    unchanged session's cookie only on page loads.

    The session (login, flashed messages) lives in the cookie, and with a permanent session Flask
    would send the whole cookie back on every response to renew its expiry. A background request
    (an htmx suggestion list, a scanned code's /scan/read, a bin's QR image) carries the cookie as
    it was when it started; answering it with that copy would overwrite whatever a request running
    alongside it had just stored. That is how a form's confirmation went missing: typing or
    scanning a code fires a suggestion request 250 ms later, the user taps Move meanwhile, the
    move's redirect stores the "Moved 5 × …" flash, then the suggestion's answer lands and puts back
    the cookie without it (a logout could be undone the same way). So a request that did not change
    the session renews the cookie only when it is a page load (Sec-Fetch-Mode: navigate, which
    browsers send; without that header, any request but an htmx one); page loads keep the 14-day
    expiry sliding as before. A request that changed the session always sends it."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def should_set_cookie(self, app, session):
        if session.modified:
            return True
        return super().should_set_cookie(app, session) and _is_page_load()


def _is_page_load():
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode:
        return mode == "navigate"
    return request.headers.get("HX-Request") != "true"


def init_app(app):
    app.session_interface = SessionInterface()
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
