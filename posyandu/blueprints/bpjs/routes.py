"""BPJS Ketenagakerjaan for kader: the enrolment list per kelurahan/desa, premiums, who pays, the export."""
from datetime import date

from flask import flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import IntegerField

from ...domain.incentives import rupiah
from ...database import unit_of_work
from ...extensions import db
from ...forms import BaseForm, in_range, present
from ...models import District, Kelurahan
from ...roles import role_required
from ...services import bpjs, scope
from ...web import int_arg, render
from . import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RatesForm(BaseForm):
    income = IntegerField(_l("Penghasilan yang dilaporkan (Rp)"), validators=[present(), in_range(0, 100_000_000)])
    jkk_bp = IntegerField(_l("Tarif JKK (basis poin; 100 = 1 persen)"), validators=[present(), in_range(0, 10_000)])
    jkm = IntegerField(_l("Iuran JKM (Rp)"), validators=[present(), in_range(0, 1_000_000)])


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


@bp.route("/")
@role_required("district_admin", "kelurahan_clerk")
def enrolment():
    """Who is enrolled, since when and until when, who lacks a NIK or is not enrolled; the month's premium per kader
    and in total and who pays it; `?format=csv|xlsx` downloads the list for the BPJS office."""
    today = date.today()
    kels = list(db.session.scalars(select(Kelurahan).where(Kelurahan.id.in_(scope.kelurahan_ids(current_user)))
                                   .order_by(Kelurahan.name)))
    kel_id = int_arg("kelurahan")
    kel_id = kel_id if kel_id in {k.id for k in kels} else None
    e = bpjs.enrolment(current_user, today, kel_id)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        district = db.session.get(District, current_user.district_id)
        kel_name = next((k.name for k in kels if k.id == kel_id), None)
        title = (f"Kader Posyandu peserta BPJS Ketenagakerjaan (BPU) — {district.name}"
                 + (f", {kel_name}" if kel_name else "") + f" — {today.isoformat()}")
        data = bpjs.export_csv(e) if fmt == "csv" else bpjs.export_xlsx(e, title)
        resp = make_response(data)
        resp.headers["Content-Type"] = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
        slug = "".join(ch if ch.isalnum() else "-" for ch in (kel_name or district.name).lower())
        resp.headers["Content-Disposition"] = f'attachment; filename="bpjs-tk-kader-{slug}-{today.isoformat()}.{fmt}"'
        return resp
    form = None
    if current_user.role == "district_admin":
        d = db.session.get(District, current_user.district_id)
        form = RatesForm(data={"income": d.bpjs_income, "jkk_bp": d.bpjs_jkk_bp, "jkm": d.bpjs_jkm})
    # A district opens one kelurahan/desa at a time; before that it sees the counts per kelurahan/desa.
    summary = bpjs.per_kelurahan(e) if kel_id is None and len(kels) > 1 else None
    return render("bpjs/enrolment.html", e=e, kels=kels, kel_id=kel_id, today=today, rupiah=rupiah,
                  rates_form=form, summary=summary)


@bp.route("/tarif", methods=["POST"])
@role_required("district_admin")
def set_rates():
    """The district's declared income, JKK rate and JKM amount."""
    form = RatesForm()
    if form.validate_on_submit():
        with unit_of_work():
            bpjs.set_rates(current_user, form.income.data, form.jkk_bp.data, form.jkm.data)
        flash(_("Tarif iuran disimpan."), "success")
    else:
        flash(_("Tarif tidak valid."), "error")
    return redirect(url_for("bpjs.enrolment"), 303)
