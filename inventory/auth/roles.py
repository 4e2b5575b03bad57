"""Role checks. Every page and API endpoint declares who may use it; a test walks the URL map
and fails on any route without a declaration."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from .models import ROLES, User

View = Callable[..., Any]  # a view function

EVERYONE = ROLES
STAFF = ("staff", "manager", "admin")
MANAGERS = ("manager", "admin")
ADMINS = ("admin",)


def roles_required(*roles: str | Iterable[str]) -> Callable[[View], View]:
    """Allow the view to logged-in users whose role is one of `roles`; others get 403."""
    roles = tuple(r for group in roles for r in ((group,) if isinstance(group, str) else group))

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]  # a mark on the function, read by the route test
        return wrapped

    return decorator


def public(view: View) -> View:
    """Mark a view as open to everyone (login page, health check)."""
    view.allowed_roles = "public"  # type: ignore[attr-defined]  # a mark on the function, read by the route test
    return view


def can(user: User, roles: Iterable[str]) -> bool:
    return user.is_authenticated and user.role in roles
