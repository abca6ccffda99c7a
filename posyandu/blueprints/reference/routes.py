"""Reference tables that districts may adjust: the KBM (minimal weight gain) table, kept in versions."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...database import unit_of_work
from ...extensions import db
from ...models import KbmTable
from ...roles import role_required
from ...services import session_day
from ...web import render
from . import bp
from .forms import KbmForm


@bp.before_request
@login_required
@role_required("district_admin")
def _admins_only():
    """Only district admins change reference tables."""


@bp.route("/kbm", methods=["GET", "POST"])
def kbm():
    """The KBM versions the district uses (its own and the installation-wide ones); a new version is the
    district's and applies to its weighings from its date on (older codes keep theirs)."""
    versions = list(db.session.scalars(session_day.kbm_versions(current_user.district_id)
                                       .order_by(KbmTable.valid_from.desc(), KbmTable.id.desc())))
    form = KbmForm()
    if form.validate_on_submit():
        with unit_of_work():
            session_day.add_kbm_version(current_user, form.name.data, form.valid_from.data, form.parsed)
        flash(_("Versi KBM baru disimpan."), "success")
        return redirect(url_for("reference.kbm"), 303)
    if not form.is_submitted() and versions:
        form.grams.data = "\n".join(f"{m}: {versions[0].grams[str(m)]}" for m in range(1, 61))
    status = 422 if form.is_submitted() else 200
    return render("reference/kbm.html", form=form, versions=versions, status=status)
