from flask import Blueprint

bp = Blueprint("people", __name__)

from . import routes  # noqa: E402,F401
from . import identity  # noqa: E402,F401
