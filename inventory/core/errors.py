"""Error pages: HTML for pages, JSON for the API.

An error page never needs the database: it may be the database that failed. Before one is drawn
the session is rolled back (or thrown away if even that fails), and after a database failure the
page is drawn as for a visitor who is not logged in, so nothing on it reads the user or their
navigation badges.
"""
import logging
import sys
import time

from flask import current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import NotFound as werkzeug_not_found
from sqlalchemy.exc import DBAPIError

from ..database import BUSY, TOO_SLOW, UNAVAILABLE, UNWRITABLE, failure_kind
from ..extensions import db, login_manager
from . import health

log = logging.getLogger(__name__)

# What a user reads when the database fails, and how soon to try again (Retry-After, seconds).
DATABASE_FAILURES = {
    UNAVAILABLE: ("The stock database is not answering. Nothing you entered was saved: go back, and try "
                  "again in a minute.", 30),
    UNWRITABLE: ("The database cannot be written (disk full or read-only). Nothing you entered was saved; "
                 "pages can still be read. Tell an admin.", 60),
    BUSY: ("The stock database is busy. Nothing you entered was saved: go back and try again.", 2),
    TOO_SLOW: ("That took too long and was stopped. Nothing you entered was saved: go back and try again; "
               "tell an admin if it keeps happening.", 5),
}
_LOG_EVERY = 60  # seconds: a database that is down is logged once a minute, not once a request
_last_logged = {}


def json_errors(view):
    """Mark a page's background endpoint that answers JSON (the scanner's /scan/read): its
    errors, a refused input included, are JSON too."""
    view.json_errors = True
    return view


def _wants_json():
    if request.path.startswith("/api/"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "json_errors", False))


def settle_session(forget_user=False):
    """Leave the database session usable (or gone) before an error page is drawn. With
    `forget_user`, the page is drawn as for a visitor: the logged-in user is an ORM object whose
    attributes would have to be read again from the database."""
    try:
        db.session.rollback()
    except Exception:  # the connection is dead: drop the session, the next request gets a new one
        try:
            db.session.remove()
        except Exception:
            pass
    if forget_user:
        g._login_user = login_manager.anonymous_user()
        g.pop("user_session", None)


def _log_database_failure(kind, error):
    now = time.monotonic()
    if now - _last_logged.get(kind, -_LOG_EVERY) >= _LOG_EVERY:
        _last_logged[kind] = now
        log.error("database %s: %s (logged once a minute while it lasts)", kind,
                  str(getattr(error, "orig", error)).strip().splitlines()[0][:300])


def init_app(app):
    @app.teardown_appcontext
    def _close_session_safely(_error):
        """Runs before Flask-SQLAlchemy's own teardown (teardowns run last-registered first).
        Closing a session rolls its connection back; on a connection the server has just ended
        (a restart, a failover) that rollback raises, after the response was made, and the
        server would answer with its bare error page. Throw such a connection away instead."""
        session = db.session()
        try:
            session.close()
        except Exception:  # noqa: BLE001
            try:
                session.invalidate()
            except Exception:  # noqa: BLE001
                pass

    def page(template, status, headers=None, **context):
        if _wants_json():
            return jsonify(error=context.get("message") or template), status, headers or {}
        try:
            return render_template(template, **context), status, headers or {}
        except Exception:  # even the error page failed: a plain one that needs nothing
            log.exception("the %s page could not be drawn", status)
            settle_session(forget_user=True)
            return (_PLAIN_PAGE.format(message=_escape(context.get("message") or "Something went wrong.")),
                    status, {**(headers or {}), "Content-Type": "text/html; charset=utf-8"})

    @app.errorhandler(400)
    def bad_request(error):
        return page("errors/400.html", 400, message=getattr(error, "description", "Bad request"))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page("errors/400.html", 400,
                    message="The form had expired or came from elsewhere. Go back, reload the page and try again.")

    @app.errorhandler(403)
    def forbidden(error):
        return page("errors/403.html", 403, message="Your role does not allow this.")

    @app.errorhandler(404)
    def not_found(error):
        # abort(404, description="No file #12 ...") says what was not found; werkzeug's own words do not.
        custom = getattr(error, "description", None) not in (None, werkzeug_not_found.description)
        return page("errors/404.html", 404, message=error.description if custom else "Not found.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page("errors/400.html", 405, message="That method is not allowed here.")

    @app.errorhandler(413)
    def too_large(error):
        limit = (request.max_content_length or 8 * 1024 * 1024) // (1024 * 1024)
        if g.get("room_for_files"):
            limit = current_app.config.get("MAX_FILE_MB") or 50  # set for a file: its limit, not the request's
        return page("errors/400.html", 413, message=f"The upload is too large ({limit} MB at most).")

    @app.errorhandler(DBAPIError)
    def database_failed(error):
        from ..api import idempotency
        if idempotency.is_duplicate(error):  # a copy of this request with its key committed first
            settle_session(forget_user=True)
            return page("errors/400.html", 409, message=f"A request with this {idempotency.HEADER} was carried out "
                                                        "just now; send it again to get its answer.")
        kind = failure_kind(error)
        if kind is None:  # our bug, not the database's state: the 500 page, logged in full
            current_app.log_exception(sys.exc_info())
            return server_error(error)
        _log_database_failure(kind, error)
        health.note_failure(db.engine, kind, error)
        settle_session(forget_user=True)
        message, retry_after = DATABASE_FAILURES[kind]
        if g.get("committed_a_write"):  # it failed after saving something: say so
            message = ("The stock database stopped answering after saving. What you entered may have been saved: "
                       "reload the page and check before you try again.")
        return page("errors/503.html", 503, {"Retry-After": str(retry_after)}, message=message)

    @app.errorhandler(500)
    def server_error(error):
        settle_session(forget_user=isinstance(getattr(error, "original_exception", error), DBAPIError))
        return page("errors/500.html", 500, message="Something went wrong on our side.")


def _escape(text):
    from markupsafe import escape
    return str(escape(text))


_PLAIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Swag stock</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="container"><h1>Sorry</h1><p>{message}</p><p><a href="/">Back to the start</a></p></main></body></html>
"""
