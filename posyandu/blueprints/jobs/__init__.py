from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/tugas")

from . import routes  # noqa: E402,F401
