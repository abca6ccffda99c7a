from flask import Blueprint

bp = Blueprint("months", __name__, url_prefix="/bulan")

from . import routes  # noqa: E402,F401
