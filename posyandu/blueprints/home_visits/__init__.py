from flask import Blueprint

bp = Blueprint("home_visits", __name__, url_prefix="/kunjungan-rumah")

from . import routes  # noqa: E402,F401
