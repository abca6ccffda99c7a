"""Reference tables that districts may adjust: the KBM (minimal weight gain) table, kept in versions."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ...extensions import db
from ...models import KbmTable
from ...roles import role_required
from ...services.audit import acting
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
    """The KBM versions; a new version applies to weighings from its date on (older codes keep theirs)."""
    versions = list(db.session.scalars(select(KbmTable).order_by(KbmTable.valid_from.desc(), KbmTable.id.desc())))
    form = KbmForm()
    if form.validate_on_submit():
        acting(db.session, current_user)
        db.session.add(KbmTable(name=form.name.data, valid_from=form.valid_from.data, grams=form.parsed))
        db.session.commit()
        flash(_("Versi KBM baru disimpan."), "success")
        return redirect(url_for("reference.kbm"), 303)
    if not form.is_submitted() and versions:
        form.grams.data = "\n".join(f"{m}: {versions[0].grams[str(m)]}" for m in range(1, 61))
    status = 422 if form.is_submitted() else 200
    return render("reference/kbm.html", form=form, versions=versions, status=status)
