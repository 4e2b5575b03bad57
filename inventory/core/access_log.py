"""Secrets stay out of access logs.

A calendar app fetches `/events.ics?token=<secret>`; a web server's access log would keep every
such link in full for anyone who reads the logs. Both servers we run under write the request
line through these redactors, so the log shows `token=[redacted]`:
- gunicorn: `gunicorn.conf.py` (read from the working directory) sets `RedactingLogger`;
- the development server (`flask run`): a filter on the "werkzeug" logger, installed by
  create_app.
"""
import logging
import re

# Query parameters that carry a secret.
_SECRET_PARAMETER = re.compile(r"((?:^|[?&;])(?:token|key|secret)=)[^&;\s\"]*", re.IGNORECASE)


def redact(text):
    """`text` (a request line, a query string, a URL) with secret query values replaced."""
    return _SECRET_PARAMETER.sub(r"\1[redacted]", text) if isinstance(text, str) else text


class RedactingFilter(logging.Filter):
    """For the "werkzeug" logger: its request lines arrive as the record's arguments."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_werkzeug_filter():
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is for deployment; the app runs without it
    _GunicornLogger = None

if _GunicornLogger is not None:
    class RedactingLogger(_GunicornLogger):
        """gunicorn's logger with the request line, query string and referrer redacted."""

        def atoms(self, resp, req, environ, request_time):
            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "q", "f"):
                atoms[key] = redact(atoms.get(key))
            return atoms
