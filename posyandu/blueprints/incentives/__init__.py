from flask import Blueprint

bp = Blueprint("incentives", __name__, url_prefix="/insentif")

from . import routes  # noqa: E402,F401
