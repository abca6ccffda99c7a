from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/saya")

from . import routes  # noqa: E402,F401
