"""Role checks. Every page and API endpoint declares who may use it; a test walks the URL map
and fails on any route without a declaration."""
from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from .models import ROLES

EVERYONE = ROLES
STAFF = ("staff", "manager", "admin")
MANAGERS = ("manager", "admin")
ADMINS = ("admin",)


def roles_required(*roles):
    """Allow the view to logged-in users whose role is one of `roles`; others get 403."""
    roles = tuple(r for group in roles for r in ((group,) if isinstance(group, str) else group))

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to everyone (login page, health check)."""
    view.allowed_roles = "public"
    return view


def can(user, roles):
    return user.is_authenticated and user.role in roles
