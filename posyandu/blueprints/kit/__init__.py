from flask import Blueprint

bp = Blueprint("kit", __name__)

from . import routes  # noqa: E402,F401


@bp.app_template_global("kit_scale_warnings")
def _scale_warnings(posyandu_id: int, on):
    """The Posyandu's scales past their check, for the hari buka pages (only those pages call it)."""
    from ...services.assets import scale_warnings

    return scale_warnings(posyandu_id, on)
