"""A stored file as an HTTP response: streamed chunk by chunk (storage.stream_chunks), its SHA-256
as the ETag (a stored file never changes, so If-None-Match answers 304 without a byte read),
Content-Length, Cache-Control, and a Content-Disposition whose name is ours, never the upload's
path. `nosniff` keeps browsers to the type we checked; an image or PDF opens in the browser,
Office files download."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, request

from ..extensions import db
from .models import StoredFile
from .storage import stream_chunks


def disposition(kind: str, name: str) -> str:
    """`attachment; filename="..."; filename*=UTF-8''...` with an ASCII fallback (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or "file"
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


# A stored file's own Content-Security-Policy (the app's default is for its pages). A PDF gets one
# that leaves the browser's PDF viewer alone (object-src 'none' would stop Chrome's), and may not
# be framed; anything else is a sandboxed document that may load nothing.
PDF_POLICY = "frame-ancestors 'none'"
FILE_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"


def send_stored(stored: StoredFile, *, download_name: str | None = None, inline: bool = True,
                cache: str = "private, max-age=86400") -> Response:
    etag = stored.sha256
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": PDF_POLICY if stored.content_type == "application/pdf" else FILE_POLICY}
    if download_name:
        headers["Content-Disposition"] = disposition("inline" if inline else "attachment", download_name)
    if etag and request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
        response.set_etag(etag)
        return response
    body = stream_chunks(db.engine, stored.id, stored.chunks) if request.method != "HEAD" else iter(())
    response = Response(body, mimetype=stored.content_type, headers=headers, direct_passthrough=True)
    response.content_length = stored.size
    if etag:
        response.set_etag(etag)
    return response
