from flask import Blueprint

bp = Blueprint("districts", __name__)

from . import routes  # noqa: E402,F401
