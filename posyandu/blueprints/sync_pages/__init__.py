from flask import Blueprint

bp = Blueprint("sync_pages", __name__)

from . import routes  # noqa: E402,F401
