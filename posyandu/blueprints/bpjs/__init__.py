from flask import Blueprint

bp = Blueprint("bpjs", __name__, url_prefix="/bpjs")

from . import routes  # noqa: E402,F401
