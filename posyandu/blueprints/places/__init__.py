from flask import Blueprint

bp = Blueprint("places", __name__)

from . import routes  # noqa: E402,F401
