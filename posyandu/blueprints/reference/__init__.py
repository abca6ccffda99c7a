from flask import Blueprint

bp = Blueprint("reference", __name__, url_prefix="/referensi")

from . import routes  # noqa: E402,F401
