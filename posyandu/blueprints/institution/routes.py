"""The Posyandu as an institution: SPM fields, verification and validation, the registration-completeness report."""
from datetime import date

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ... import labels
from ...database import unit_of_work
from ...extensions import db
from ...domain import institution as dom
from ...models import Kelurahan, Posyandu, User
from ...roles import role_required
from ...services import institution, scope
from ...services.report_exports import XLSX
from ...services.review import ReviewError, step as review_step
from ...web import get_or_404, int_arg, page_number, render
from . import bp
from .forms import InstitutionReviewForm, SpmForm, TargetForm

REVIEWERS = ("district_admin", "kelurahan_clerk")


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def panel_context(pos: Posyandu, today: date) -> dict:
    """What the Posyandu page shows of the institution: SPM fields, what its registration lacks, its review."""
    spm_form = SpmForm()
    spm_form.fields.data = dom.parse_fields(pos.spm_fields)
    return {"reg": institution.registration_of(pos, today), "spm_form": spm_form,
            "spm_served": dom.parse_fields(pos.spm_fields), "inst_review_form": InstitutionReviewForm(),
            "reviewer": current_user.role in REVIEWERS,
            "returned_by": (db.session.get(User, pos.returned_by_id).display_name
                            if pos.returned_by_id and db.session.get(User, pos.returned_by_id) else None)}


def _back(pos: Posyandu, anchor: str):
    return redirect(url_for("places.view_posyandu", posyandu_id=pos.id) + anchor, 303)


@bp.route("/posyandu/<int:posyandu_id>/bidang-spm", methods=["POST"])
@role_required(*REVIEWERS)
def set_fields(posyandu_id: int):
    """The SPM fields this Posyandu serves; each then needs a ketua bidang on the board."""
    pos = get_or_404(Posyandu, posyandu_id)
    form = SpmForm()
    if form.validate_on_submit():
        with unit_of_work():
            changed = institution.set_fields(current_user, pos, form.fields.data or [])
        if changed:
            flash(_("Bidang SPM disimpan."), "success")
    else:
        flash(_("Bidang SPM tidak dikenal."), "error")
    return _back(pos, "#lembaga")


@bp.route("/posyandu/<int:posyandu_id>/tinjau", methods=["POST"])
@role_required(*REVIEWERS)
def review(posyandu_id: int):
    """Verify the institution (kelurahan/desa), validate it (district), or send it back with a reason."""
    pos = get_or_404(Posyandu, posyandu_id)
    form = InstitutionReviewForm()
    action = request.form.get("action", "")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                review_step(current_user, pos, action, form.reason.data)
            flash({"verify": _("Lembaga Posyandu diverifikasi."), "validate": _("Lembaga Posyandu divalidasi."),
                   "return": _("Lembaga Posyandu dikembalikan.")}[action], "success")
        except ReviewError as e:
            flash(_("Tulis alasan pengembalian.") if str(e) == "reason" else _("Langkah ini tidak dapat dilakukan."),
                  "error")
    return _back(pos, "#lembaga")


@bp.route("/lembaga/kelengkapan")
@role_required(*REVIEWERS)
def completeness():
    """Which Posyandu lack a registration number, SK, board or verification, per kecamatan and desa, against the
    district's target date; `?format=csv` downloads the list."""
    today = date.today()
    kels = {k.id: k for k in scope_kelurahan()}
    kel_id = int_arg("kelurahan")
    kel_id = kel_id if kel_id in kels else None
    only_incomplete = request.args.get("kurang") == "1"
    report = institution.completeness(current_user, today, kel_id, only_incomplete)
    names = (labels.REGISTRATION_GAPS, labels.POSITIONS, labels.SPM_FIELDS, labels.REVIEW_STATES)
    if request.args.get("format") == "csv":
        resp = make_response(institution.completeness_csv(report, *names))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        resp.headers["Content-Disposition"] = f'attachment; filename="registrasi-posyandu-{today.isoformat()}.csv"'
        return resp
    if request.args.get("format") == "xlsx":
        title = _("Kelengkapan registrasi Posyandu, %(d)s", d=format_date(today, "d MMMM y"))
        resp = make_response(institution.completeness_xlsx(report, *names, title=title))
        resp.headers["Content-Type"] = XLSX
        resp.headers["Content-Disposition"] = f'attachment; filename="registrasi-posyandu-{today.isoformat()}.xlsx"'
        return resp
    target_form = TargetForm()
    target_form.target.data = report.target
    # The counts cover every Posyandu; the list below them shows one page (the downloads hold all rows).
    page, size = page_number(), current_app.config["PAGE_SIZE"]
    rows = report.rows[(page - 1) * size:page * size]
    return render("institution/completeness.html", report=report, kels=list(kels.values()), kel_id=kel_id,
                  only_incomplete=only_incomplete, target_form=target_form, today=today, gaps=dom.GAPS,
                  rows=rows, page=page, more=len(report.rows) > page * size)


def scope_kelurahan() -> list[Kelurahan]:
    """The kelurahan/desa in the user's scope, by name (the report's filter)."""
    return list(db.session.scalars(select(Kelurahan).where(Kelurahan.id.in_(scope.kelurahan_ids(current_user)))
                                   .order_by(Kelurahan.name)))


@bp.route("/lembaga/target", methods=["POST"])
@role_required("district_admin")
def set_target():
    """The district's date by which every Posyandu should be registered."""
    form = TargetForm()
    if form.validate_on_submit():
        with unit_of_work():
            institution.set_target(current_user, form.target.data)
        flash(_("Target disimpan."), "success")
    else:
        flash(_("Tanggal tidak valid."), "error")
    return redirect(url_for("institution.completeness"), 303)
