"""Input refused whole, before any view reads it: text the database cannot hold.

Every request passes through here, so no page, API endpoint or form has to remember it:
- a NUL character in a query parameter, a form value or a URL part (PostgreSQL cannot store or
  compare text with NUL) answers 400;
- a JSON body nested past MAX_JSON_DEPTH (100,000 "[" made the parser raise RecursionError, a 500)
  answers 400;
- a JSON string holding a NUL or a lone surrogate ("\\ud800" is valid JSON but no UTF-8 text, so
  the database driver failed on it) answers 400 naming the field, and so do NaN and Infinity
  (Python's parser reads them). Whole numbers are left to the rules, which cap each one in their
  own words (a quantity at 1,000,000, an id at 2**31 - 1: a larger one names nothing, a 404).
For /api/ the 400 handler (core/errors.py) answers JSON {"error": ...}; pages get the 400 page.
"""
import math
import re

from flask import current_app, Request as FlaskRequest
from flask import abort, g, request
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..auth.roles import MANAGERS
from ..auth.services import token_for
from ..extensions import db

MAX_JSON_DEPTH = 32  # our bodies nest three levels (an object, its lines, a line)
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class Request(FlaskRequest):
    """Flask's request, whose get_json() refuses what the database could not store."""

    def get_json(self, force=False, silent=False, cache=True):
        try:
            data = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            # Refused even when silent: "send a JSON object" would not say what is wrong.
            raise BadRequest(f"The JSON body is nested too deeply ({MAX_JSON_DEPTH} levels at most).") from None
        if data is not None and not getattr(self, "_json_checked", False):
            problem = json_problem(data)
            if problem:
                raise BadRequest(problem)
            self._json_checked = True
        return data


def json_problem(data):
    """What is wrong with parsed JSON `data` for this app, in words, or None. Walks it without
    recursion, so any depth the parser accepted is safe to look at."""
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body is nested too deeply ({MAX_JSON_DEPTH} levels at most)."
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                return f"'{path or 'body'}' {problem}."
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) and not math.isfinite(value):
            return f"'{path or 'body'}' must be a number."
        elif isinstance(value, dict):
            for key, inner in value.items():
                name = f"{path}.{key}" if path else str(key)
                problem = _text_problem(key)
                if problem:
                    return f"A field name {problem}."
                stack.append((inner, name, depth + 1))
        elif isinstance(value, list):
            stack.extend((inner, f"{path}[{index}]", depth + 1) for index, inner in enumerate(value))
    return None


def _text_problem(text):
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "is not valid text (it holds a lone UTF-16 surrogate such as \\ud800)"


def _refuse_nul_characters():
    try:
        form = request.form
    except RequestEntityTooLarge:
        form = MultiDict()  # the view says so in its own words (an import: "8 MB at most")
    for where, values in (("query parameter", request.args), ("form field", form)):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, description=f"The {where} '{name.replace(chr(0), '')}' must not contain NUL characters.")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            abort(400, description="The address must not contain NUL characters.")


def large_upload(view):
    """Mark a view that takes a collateral file: its request may be MAX_FILE_MB (and a little
    for the other fields) instead of MAX_CONTENT_LENGTH. The file goes to a temporary file as
    it arrives (werkzeug spools anything over 500 KB to disk), never whole into memory."""
    view.large_upload = True
    return view


def _uploader_is_a_manager():
    """Whether whoever sends this request may upload files: a signed-in manager or admin, or a
    manager's API token. Asked before the body is read, so that nobody else can make the server
    take MAX_FILE_MB into a temporary file."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        row = token_for(db.session, token.strip())
        return row is not None and row.user.role in MANAGERS
    return bool(current_user.is_authenticated and current_user.role in MANAGERS)


def room_for_files():
    """Before the CSRF check reads the form: raise the size limit for views marked large_upload,
    for the people who may upload there (others keep MAX_CONTENT_LENGTH, and the view refuses them)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "large_upload", False) and request.method == "POST" and _uploader_is_a_manager():
        request.max_content_length = (current_app.config.get("MAX_FILE_MB") or 50) * 1024 * 1024 + 1024 * 1024
        g.room_for_files = True  # a 413 then names the file's limit


def init_app(app):
    app.request_class = Request
    app.before_request(_refuse_nul_characters)
