"""Swag & print inventory: stock of swag and print collateral in QR-labelled bins, shared by
Sales and Marketing."""
import logging
import os

from dotenv import load_dotenv
from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from .config import DEFAULTS, development_secret_key, from_environment
from .extensions import csrf, db, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
log = logging.getLogger(__name__)


class InventoryApp(Flask):
    def dispatch_request(self):
        """A page read (GET/HEAD) whose database connection was lost under it (a restart, a
        failover) is run once more on a fresh connection, so that only writes in flight, not
        every reader, see the failure. Writes are never run twice here."""
        try:
            return super().dispatch_request()
        except DBAPIError as error:
            if request.method not in ("GET", "HEAD") or not error.connection_invalidated \
                    or g.get("committed_a_write") or g.get("read_retried"):
                raise
            log.warning("database connection lost during %s %s; reading once more", request.method, request.path)
            g.read_retried = True
            from .core.errors import settle_session  # core imports the app's extensions
            settle_session()
            g.pop("_login_user", None)
            g.pop("user_session", None)
            return super().dispatch_request()


class BoundedIntegerConverter(IntegerConverter):
    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(test_config=None):
    """Build the app. `test_config` overrides the environment (tests pass their own database)."""
    load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)
    app = InventoryApp(
        __name__,
        instance_relative_config=True,
        instance_path=(test_config or {}).get("INSTANCE_PATH"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(DEFAULTS)
    app.config.update(from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    configure_secret_key(app)
    if "SQLALCHEMY_ENGINE_OPTIONS" not in (test_config or {}):
        from .database import engine_options
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_STATEMENT_TIMEOUT"],
            app.config["DATABASE_CONNECT_TIMEOUT"])

    register_extensions(app)
    # <int:id> in URLs stops at what a database INTEGER holds: a larger id is a 404, not a 500.
    app.url_map.converters["int"] = BoundedIntegerConverter
    register_blueprints(app)
    from .core import access_log, errors, inputs, security, templating
    access_log.install_werkzeug_filter()  # no secret query values in the development server's log
    errors.init_app(app)
    inputs.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    from . import commands
    commands.init_app(app)
    from .core import schema
    schema.init_app(app)
    from . import querycount
    querycount.init_app(app)  # only with BENCH_COUNT_QUERIES=1 (the benchmark)
    return app


def configure_secret_key(app):
    """Refuse to run in production without SECRET_KEY; debug and tests get a random one."""
    if app.config.get("SECRET_KEY"):
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = development_secret_key()
        return
    raise RuntimeError(
        "SECRET_KEY is not set. Set it in the environment or in .env, for example:\n"
        "  echo \"SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')\" >> .env"
    )


def register_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)

    @app.before_request
    def _forget_the_last_requests_user():
        # Each request finds its user from its own cookie. (A test's app context outlives its
        # requests, and `g` with it; in production every request has a fresh `g` anyway.)
        g.pop("_login_user", None)
        g.pop("user_session", None)
        g.pop("draft_lines", None)  # the navigation's badge (core/templating.py)
        g.pop("room_for_files", None)  # core/inputs.py

    from .core.inputs import room_for_files
    app.before_request(room_for_files)  # after the user is forgotten, before the CSRF check reads the form
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    from flask import session as cookie

    from .auth import sessions

    @login_manager.user_loader
    def load_user(user_id):
        """The user of a live server-side session (auth/sessions.py): the cookie's key must name
        a session that was not ended or left idle too long, of this user, who is still active."""
        row = sessions.find(db.session, cookie.get("sid"), user_id,
                            lifetime=app.config["PERMANENT_SESSION_LIFETIME"])
        if row is None:
            return None
        g.user_session = row
        return row.user



def register_blueprints(app):
    from .api import events as _api_events  # noqa: F401
    from .api import files as _api_files  # noqa: F401
    from .api import forecast as _api_forecast  # noqa: F401
    from .api import purchasing as _api_purchasing  # noqa: F401
    from .api import requests as _api_requests  # noqa: F401  (registers its routes on the API blueprint)
    from .api import teams as _api_teams  # noqa: F401
    from .api.views import bp as api_bp
    from .auth.views import bp as auth_bp
    from .blobs import models as _blob_models  # noqa: F401  (tables known to Alembic)
    from .bins.views import bp as bins_bp
    from .budgets import models as _budget_models  # noqa: F401  (tables known to Alembic)
    from .budgets.views import bp as budgets_bp
    from .budgets.team_views import bp as teams_bp
    from .catalog.views import bp as catalog_bp
    from .chat import models as _chat_models  # noqa: F401
    from .core.views import bp as core_bp
    from .events import models as _event_models  # noqa: F401  (tables known to Alembic)
    from .events.views import bp as events_bp
    from .files import models as _file_models  # noqa: F401
    from .files.views import bp as files_bp
    from .forecast import models as _forecast_models  # noqa: F401
    from .forecast import stored as _forecast_stored  # noqa: F401  (re-projects changed items at commit)
    from .forecast.views import bp as forecast_bp
    from .labels.views import bp as labels_bp
    from .mail import models as _mail_models  # noqa: F401
    from .mail.views import bp as mail_bp
    from .purchasing import models as _purchasing_models  # noqa: F401
    from .purchasing.views import bp as purchasing_bp
    from .reports.views import bp as reports_bp
    from .requests import models as _request_models  # noqa: F401
    from .requests.views import bp as requests_bp
    from .stock.views import bp as stock_bp
    from .today.views import bp as today_bp
    from .transfer.views import bp as transfer_bp

    for blueprint in (core_bp, auth_bp, catalog_bp, bins_bp, stock_bp, requests_bp, forecast_bp, labels_bp, api_bp,
                      purchasing_bp, events_bp, mail_bp, reports_bp, transfer_bp, today_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(budgets_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(files_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never cookies
