"""The sync endpoints a laptop talks to (docs/sync.md): JSON, device credentials instead of a login and CSRF."""
from flask import Blueprint

from ...extensions import csrf

bp = Blueprint("sync_api", __name__, url_prefix="/sync/v1")
csrf.exempt(bp)  # no browser session here: every request carries the device's own credential

from . import routes  # noqa: E402,F401
