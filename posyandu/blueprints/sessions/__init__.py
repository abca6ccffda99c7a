from flask import Blueprint

bp = Blueprint("sessions", __name__, url_prefix="/hari-buka")

from . import routes  # noqa: E402,F401
