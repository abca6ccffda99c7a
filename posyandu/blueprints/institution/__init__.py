from flask import Blueprint

bp = Blueprint("institution", __name__)

from . import routes  # noqa: E402,F401
