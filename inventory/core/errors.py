"""Error pages: HTML for pages, JSON for the API."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from ..extensions import db


def _wants_json():
    return request.path.startswith("/api/")


def init_app(app):
    def page(template, status, **context):
        if _wants_json():
            return jsonify(error=context.get("message") or template), status
        return render_template(template, **context), status

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
        return page("errors/404.html", 404, message="Not found.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page("errors/400.html", 405, message="That method is not allowed here.")

    @app.errorhandler(413)
    def too_large(error):
        return page("errors/400.html", 413, message="The upload is too large (8 MB at most).")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return page("errors/500.html", 500, message="Something went wrong on our side.")
