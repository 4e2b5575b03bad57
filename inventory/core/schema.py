"""Refuse to serve an un-migrated database, or migrate the embedded default by itself.

Choice (documented in README): the embedded SQLite default (no DATABASE_URL) is upgraded
automatically on first start, so `flask run` just works on a fresh machine. A configured
database (PostgreSQL) is never migrated behind the operator's back: the app refuses to start
and names the command to run.
"""
import fcntl
import logging
import os

import click
from flask import current_app

from ..database import schema_state
from ..extensions import db

log = logging.getLogger(__name__)
UPGRADE_COMMAND = "flask --app inventory db upgrade"


class SchemaOutOfDate(RuntimeError):
    pass


def ensure_schema(app=None):
    """Make sure the database is at the latest migration (see the module docstring)."""
    app = app or current_app
    with app.app_context():
        directory = app.extensions["migrate"].directory
        current, head = schema_state(db.engine, directory)
        if current == head:
            return
        if not app.config.get("EMBEDDED_DATABASE"):
            state = f"at revision {current}" if current else "empty"
            raise SchemaOutOfDate(
                f"The database is {state}, but this version of the app needs revision {head}.\n"
                f"Run: {UPGRADE_COMMAND}"
            )
        import flask_migrate

        lock_path = os.path.join(app.instance_path, "migrate.lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # several workers starting at once migrate once
            current, head = schema_state(db.engine, directory)
            if current != head:
                log.warning("Migrating the embedded SQLite database to revision %s", head)
                flask_migrate.upgrade(directory=directory)


def init_app(app):
    if app.testing or app.config.get("SKIP_SCHEMA_CHECK"):
        return
    if click.get_current_context(silent=True) is None:
        # Started by a WSGI server (gunicorn): check now, refuse to start if behind.
        ensure_schema(app)
        return
    # Started from the command line (`flask run`, `flask db ...`): `db` commands must work on
    # an empty database, so check at the first request instead, and in our own commands.
    state = {"checked": False}

    @app.before_request
    def _check_schema_once():
        if not state["checked"]:
            ensure_schema(app)
            state["checked"] = True
