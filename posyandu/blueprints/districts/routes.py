"""Districts on one installation: the installation admin's district list and new districts with their first
admin; the district admin's own settings and the import of a kode wilayah list."""
import json
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ...domain import competence
from ...database import unit_of_work
from ...extensions import db
from ...models import District
from ...roles import role_required
from ...services import certificates, commitments, districts, invitations
from ...web import invited_page, render
from . import bp
from .forms import (CERT_FIELDS, AdminForm, ConfirmImportForm, DistrictForm, ImportForm, NewDistrictForm, SettingsForm,
                    cert_field_name)

install_only = role_required("installation_admin")
# What an installation admin may open: her own pages, logging in and out, her password and language.
INSTALLATION_ENDPOINTS = {"auth.login", "auth.logout", "auth.change_password", "auth.set_language", "static",
                          "auth.open_invitation", "auth.accept_invitation",
                          "main.health", "verify.certificate"}  # a certificate QR code is public anyway


@bp.before_app_request
def _contain_installation_admin():
    """Deny by default: an installation admin sees the districts, never a page of a district's data."""
    if (current_user.is_authenticated and current_user.role == "installation_admin" and request.endpoint
            and not request.endpoint.startswith("districts.installation")
            and request.endpoint not in INSTALLATION_ENDPOINTS):
        if request.endpoint == "main.index":
            return redirect(url_for("districts.installation"))
        abort(403)


_TAKEN = {"name": ("name", _l("Nama ini sudah dipakai kabupaten/kota lain.")),
          "code": ("code", _l("Kode ini sudah dipakai kabupaten/kota lain.")),
          "username": ("username", _l("Nama pengguna sudah dipakai."))}


def _taken(form, err):
    field, msg = _TAKEN[err.args[0]]
    getattr(form, field).errors.append(str(msg))


@bp.route("/instalasi/")
@login_required
@install_only
def installation():
    """Every district of this installation: its size and its admins."""
    return render("districts/installation.html", rows=districts.district_rows())


@bp.route("/instalasi/baru", methods=["GET", "POST"])
@login_required
@install_only
def installation_new():
    """A new district and its first district admin."""
    form = NewDistrictForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():  # the district, its first admin and her invitation: all or nothing
                d, user = districts.create_district(
                    current_user, {"name": form.name.data, "kind": form.kind.data, "code": form.code.data or None},
                    {"username": form.username.data, "display_name": form.display_name.data}, form.password.data,
                    key=form.idempotency_key.data)
                token = None if invitations.has_password(user) else invitations.create(current_user, user)
        except districts.Taken as err:
            _taken(form, err)
        else:
            back = url_for("districts.installation_district", district_id=d.id)
            if token:
                return invited_page(user, token, back)
            flash(_("%(d)s dibuat. Berikan nama pengguna %(u)s dan kata sandi awalnya kepada admin secara langsung; "
                    "ia menggantinya setelah masuk.", d=d.name, u=user.username), "success")
            return redirect(back, 303)
    return render("districts/new.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/instalasi/<int:district_id>", methods=["GET", "POST"])
@login_required
@install_only
def installation_district(district_id: int):
    """One district: change its name, kind and code."""
    d = db.session.get(District, district_id) or abort(404)
    form = DistrictForm(obj=d)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                districts.save_district(current_user, d, {"name": form.name.data, "kind": form.kind.data,
                                                          "code": form.code.data or None})
        except districts.Taken as err:
            _taken(form, err)
        else:
            flash(_("Tersimpan."), "success")
            return redirect(url_for("districts.installation_district", district_id=d.id), 303)
    row = next(r for r in districts.district_rows() if r["district"].id == d.id)
    return render("districts/district.html", d=d, row=row, form=form, admin_form=AdminForm(),
                  status=422 if form.is_submitted() else 200)


@bp.route("/instalasi/<int:district_id>/admin", methods=["POST"])
@login_required
@install_only
def installation_admin_new(district_id: int):
    """One more district admin (when the first has left or a second is needed)."""
    d = db.session.get(District, district_id) or abort(404)
    form = AdminForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                user = districts.add_admin(current_user, d, {"username": form.username.data,
                                                             "display_name": form.display_name.data},
                                           form.password.data)
                token = None if invitations.has_password(user) else invitations.create(current_user, user)
        except districts.Taken as err:
            _taken(form, err)
        else:
            back = url_for("districts.installation_district", district_id=d.id)
            if token:
                return invited_page(user, token, back)
            flash(_("Admin %(u)s dibuat.", u=user.username), "success")
            return redirect(back, 303)
    row = next(r for r in districts.district_rows() if r["district"].id == d.id)
    return render("districts/district.html", d=d, row=row, form=DistrictForm(obj=d), admin_form=form, status=422)


# --- the district admin's own settings -------------------------------------------------------------------------

def _settings_defaults(form, d: District) -> None:
    """The form opened with what the district prints today: its certificate texts (shipped ones where it has none
    of its own) and this year's commitment text."""
    if not d.stratum_rule:
        form.stratum_rule.data = ""
    for code, t in certificates.types_of(d).items():
        for key in CERT_FIELDS:
            form[cert_field_name(code, key)].data = t.get(key) or ""
    current = commitments.current_template(d.id, date.today().year)
    form.commitment_title.data = current.title if current else commitments.DEFAULT_TITLE
    form.commitment_body.data = current.body if current else commitments.DEFAULT_BODY.format(year=date.today().year)


def _cert_texts(form) -> dict[str, dict]:
    """The certificate texts typed in, per type; a text naming something a certificate cannot fill is refused."""
    out = {}
    for code in certificates.types():
        out[code] = {}
        for key in CERT_FIELDS:
            f = form[cert_field_name(code, key)]
            out[code][key] = f.data or ""
            problem = certificates.text_problem(f.data) if key in ("title", "heading", "body") else None
            if problem:
                allowed = ", ".join("{" + p + "}" for p in certificates.PLACEHOLDERS)
                f.errors = list(f.errors) + [_("Teks memakai {%(p)s}; yang boleh: %(ok)s.", p=problem, ok=allowed)]
    return out


@bp.route("/pengaturan/", methods=["GET", "POST"])
@login_required
@role_required("district_admin")
def settings():
    """What the district decides for itself: document header and place, trained-kader target, stratum rule, when a
    monthly report is on time and whether the Puskesmas verifies it, its certificate texts and signers, and the
    year's commitment text."""
    d = current_user.district
    form = SettingsForm(obj=d)
    if request.method == "GET":
        _settings_defaults(form, d)
    if form.validate_on_submit():
        rule = None
        if form.stratum_rule.data:
            try:
                rule = json.dumps(districts.check_rule(form.stratum_rule.data), ensure_ascii=False)
            except (ValueError, TypeError, KeyError) as err:
                form.stratum_rule.errors.append(_("Aturan strata tidak dapat dibaca: %(e)s", e=str(err)[:200]))
        texts = _cert_texts(form)
        if not any(f.errors for f in form):
            with unit_of_work():  # the settings and the commitment text: both saved, or neither
                districts.save_settings(current_user, d, {
                    "government_name": form.government_name.data or None,
                    "place_name": form.place_name.data or None,
                    "trained_target_pct": form.trained_target_pct.data, "stratum_rule": rule,
                    "timely_days": d.timely_days if form.timely_days.data is None else form.timely_days.data,
                    "month_verify": bool(form.month_verify.data),
                    "certificate_texts": certificates.own_texts(texts)})
                if form.commitment_body.data:
                    commitments.publish_if_changed(current_user, d.id, date.today().year,
                                                   form.commitment_title.data or commitments.DEFAULT_TITLE,
                                                   form.commitment_body.data)
            flash(_("Tersimpan."), "success")
            return redirect(url_for("districts.settings"), 303)
    return render("districts/settings.html", d=d, form=form, cert_types=certificates.types_of(d),
                  cert_fields=CERT_FIELDS, cert_field_name=cert_field_name,
                  placeholders=", ".join("{" + p + "}" for p in certificates.PLACEHOLDERS),
                  default_rule=json.dumps(competence.DEFAULT_STRATUM_RULE, ensure_ascii=False),
                  status=422 if form.is_submitted() else 200)


# --- import of a kode wilayah list -----------------------------------------------------------------------------

ERRORS = {
    "no_header": lambda e: _("Baris judul tidak ditemukan: perlu kolom \u201ckode\u201d dan \u201cnama\u201d."),
    "bad_code": lambda e: _("Kode %(c)s bukan kode kecamatan (64.02.01) atau kelurahan/desa (64.02.01.2001).",
                            c=e[2] or "—"),
    "no_name": lambda e: _("Nama kosong untuk kode %(c)s.", c=e[2]),
    "duplicate": lambda e: _("Kode %(c)s sudah ada di baris %(n)s.", c=e[2], n=e[3]),
    "other_district": lambda e: _("Kode %(c)s bukan kode kabupaten/kota ini.", c=e[2]),
    "no_kecamatan": lambda e: _("Kecamatan untuk kode %(c)s tidak ada di berkas maupun di wilayah.", c=e[2]),
}


@bp.route("/wilayah/impor", methods=["GET", "POST"])
@login_required
@role_required("district_admin")
def import_places():
    """Upload a kode wilayah CSV and see what it would create and change (nothing is saved yet)."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        if not data.strip():
            form.file.errors = [_("Pilih berkas CSV.")]
        else:
            from ...domain.kode_wilayah import decode

            text = decode(data)
            steps, errors = districts.import_plan(current_user.district, text)
            confirm = ConfirmImportForm(content=text)
            return render("districts/import_preview.html", steps=steps,
                          errors=[(e[0], ERRORS[e[1]](e)) for e in errors], confirm=confirm,
                          counts={a: sum(s.action == a for s in steps) for a in ("create", "update", "same")})
    return render("districts/import.html", form=form, status=422 if form.is_submitted() else 200)


@bp.route("/wilayah/impor/simpan", methods=["POST"])
@login_required
@role_required("district_admin")
def import_places_apply():
    """Save what the preview showed (the plan is worked out again from the same text: re-importing changes
    nothing)."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            done = districts.import_apply(current_user, current_user.district, form.content.data or "")
    except ValueError:
        flash(_("Ada baris yang salah; perbaiki berkasnya lalu unggah lagi."), "error")
        return redirect(url_for("districts.import_places"), 303)
    flash(_("Impor selesai: %(c)s baru, %(u)s diubah, %(s)s tetap.", c=done["create"], u=done["update"],
            s=done["same"]), "success")
    return redirect(url_for("places.index"), 303)
