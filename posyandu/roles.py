"""Role checks for views (scope checks live in services.scope)."""
from functools import wraps

from flask import abort, current_app
from flask_login import current_user


def role_required(*roles):
    """Only these roles may use the view; others get 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles
        return wrapper

    return decorate


def may_open(user, endpoint: str) -> bool:
    """Whether role_required lets this user into the view (so menus never offer a page that answers 403)."""
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "allowed_roles", None)
    return view is not None and (roles is None or user.role in roles)
