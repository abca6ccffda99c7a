from flask import Blueprint

bp = Blueprint("kader", __name__, url_prefix="/kader")

from . import routes  # noqa: E402,F401
