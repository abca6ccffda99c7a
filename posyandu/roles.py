"""Role checks for views (scope checks live in services.scope)."""
from functools import wraps

from flask import abort
from flask_login import current_user


def role_required(*roles):
    """Only these roles may use the view; others get 403."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
