"""Kader roster, competence, verification, commitment signing and certificates (kelurahan and district)."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ... import labels
from ...domain import competence
from ...domain.commitment import svg_path
from ...database import unit_of_work
from ...extensions import db
from ...models import Certificate, Commitment, Kader, KaderRole, Kelurahan, User
from ...pdf.certificates import certificates_pdf, qr_svg_path
from ...jobs import runner as job_runner
from ...jobs import start as start_job
from ...pdf.commitment import commitment_pdf
from ...roles import role_required
from ...parsing import parse_id
from ...services import certificates, commitments, documents, roster, scope, signers
from ...services.review import ReviewError, step as review_step
from ...web import get_or_404, int_arg, pdf_response, render, search_query
from . import bp
from .forms import (
    AssessmentForm,
    AwardForm,
    CertificateForm,
    CountersignForm,
    EndRoleForm,
    KaderForm,
    LinkForm,
    OwnPinForm,
    PinForm,
    ReviewForm,
    RevokeForm,
    RoleForm,
    SignForm,
    TemplateForm,
)

VIEW = ("district_admin", "kelurahan_clerk", "nakes", "ketua")
EDIT = ("district_admin", "kelurahan_clerk", "ketua")
ASSESS = ("district_admin", "kelurahan_clerk", "nakes")
SIGN = ("district_admin", "kelurahan_clerk", "ketua", "kader")
COUNTERSIGN = ("kelurahan_clerk", "ketua")
ISSUE = ("district_admin", "kelurahan_clerk")
CERTS = ("district_admin", "kelurahan_clerk", "ketua")
TZ_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _year() -> int:
    return int_arg("tahun", date.today().year, 2020, 2100)


def _posyandu_filter() -> int | None:
    """A Posyandu chosen in a list filter, only if in scope (else no filter)."""
    pid = int_arg("posyandu", source=request.values)
    return pid if pid and pid in {p.id for p in scope.visible_posyandu(current_user)} else None


def _local(dt: datetime | None) -> str:
    if dt is None:
        return ""
    tz = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    text = format_datetime(dt.replace(tzinfo=timezone.utc), "d MMMM y, HH.mm", tzinfo=ZoneInfo(tz), locale="id")
    return f"{text} {TZ_NAMES.get(tz, tz)}"


_long_date = documents.long_date


# --- roster -----------------------------------------------------------------------------------------------------

@bp.route("/", methods=["GET", "POST"])
@role_required(*VIEW)
def list_kader():
    """The kader roster of the Posyandu in scope, with active search by name or NIK (posted, so a NIK never
    lands in a URL)."""
    q, page = search_query()
    posyandu_id, today = _posyandu_filter(), date.today()
    rows, more = roster.search(current_user, q, posyandu_id, page, current_app.config["PAGE_SIZE"], today)
    strata = roster.strata(select(Kader.id).where(Kader.id.in_([k.id for k in rows]))) if rows else {}
    return render("kader/list.html", "kader/_results.html", rows=rows, more=more, q=q, page=page, today=today,
                  posyandu_id=posyandu_id, posyandu=scope.visible_posyandu(current_user), strata=strata,
                  current_roles=roster.current_roles)


@bp.route("/<int:kader_id>")
@role_required(*VIEW)
def view_kader(kader_id: int):
    """A kader's page: data, roles, competence and stratum, verification, commitment and certificates."""
    kader = get_or_404(Kader, kader_id)
    today = date.today()
    done = roster.assessments(kader)
    cat = competence.catalogue()
    passed = roster.passed_skills(select(Kader.id).where(Kader.id == kader.id)).get(kader.id, set())
    groups = competence.completed_groups(passed, cat)
    stratum = competence.stratum_for(groups, roster.stratum_rule(current_user.district))
    role_form = RoleForm()
    _role_choices(role_form)
    role_form.start_date.data = today
    assess = AssessmentForm()
    assess.skills.choices = [(s.code, f"{s.code} · {s.name}") for s in cat.skills]
    assess.assessed_on.data = today
    cert_form = CertificateForm()
    cert_form.type_code.choices = _kader_cert_types()
    cert_form.issued_on.data = today
    _signer_defaults(cert_form, "kader")
    return render("kader/view.html", kader=kader, today=today, assessments=done, cat=cat, passed=passed,
                  **_identity_context(kader),
                  groups=groups, stratum=stratum, role_form=role_form, end_form=EndRoleForm(), assess_form=assess,
                  review_form=ReviewForm(), cert_form=cert_form, commitment=commitments.commitment_of(kader.id, today.year),
                  certs=certificates.of_kader(kader.id), current=roster.current_roles(kader, today),
                  qr_warning=_qr_warning(),
                  skill_names={s.code: s.name for s in cat.skills})


def _identity_context(kader) -> dict:
    """Her signing identity on her page: the linked account and whether she has a PIN, and the forms to set them."""
    signer = signers.signer_of(kader.id)
    linked = db.session.get(User, signer.user_id) if signer and signer.user_id else None
    link_form = None
    if current_user.role in signers.LINK:
        link_form = LinkForm()
        link_form.user_id.choices = [(0, "—")] + [
            (u.id, f"{u.username} · {u.display_name}")
            for u in signers.account_choices(kader, {p.id for p in scope.visible_posyandu(current_user)})]
        link_form.user_id.data = linked.id if linked else 0
    return {"signer": signer, "linked": linked, "link_form": link_form,
            "pin_form": PinForm() if current_user.role in signers.SET_PIN else None}


@bp.route("/<int:kader_id>/akun", methods=["POST"])
@role_required(*signers.LINK)
def link_account(kader_id: int):
    """Link the kader to her own account (she then signs from it without a PIN), or unlink."""
    kader = get_or_404(Kader, kader_id)
    form = LinkForm()
    form.user_id.choices = [(0, "—")] + [(u.id, u.username) for u in signers.account_choices(
        kader, {p.id for p in scope.visible_posyandu(current_user)})]
    if form.validate_on_submit():
        user = db.session.get(User, form.user_id.data) if form.user_id.data else None
        try:
            with unit_of_work():
                signers.link_account(current_user, kader, user)
            flash(_("Akun kader disimpan."), "success")
        except signers.IdentityError:
            flash(_("Akun ini tidak dapat dihubungkan dengan kader ini."), "error")
    else:
        flash(_("Akun ini tidak dapat dihubungkan dengan kader ini."), "error")
    return redirect(url_for("kader.view_kader", kader_id=kader.id) + "#tanda-tangan", 303)


@bp.route("/<int:kader_id>/pin", methods=["POST"])
@role_required(*signers.SET_PIN)
def set_pin(kader_id: int):
    """The ketua or the kelurahan sets the kader's personal signing PIN (for a shared Posyandu laptop)."""
    kader = get_or_404(Kader, kader_id)
    form = PinForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                signers.set_pin(current_user, kader, form.pin.data)
            flash(_("PIN kader disimpan. Sampaikan PIN hanya kepada kader ini."), "success")
        except signers.IdentityError as e:
            flash(_pin_error(str(e)), "error")
    else:
        flash(_("PIN tidak sama.") if form.confirm.errors and form.pin.data else _pin_error("pin_format"), "error")
    return redirect(url_for("kader.view_kader", kader_id=kader.id) + "#tanda-tangan", 303)


@bp.route("/<int:kader_id>/pin/ganti", methods=["GET", "POST"])
@role_required(*signers.ACCOUNT_ROLES)
def change_own_pin(kader_id: int):
    """The kader replaces the PIN the ketua or the kelurahan gave her with one only she knows (old PIN first on a
    shared login; on her own account she is already known)."""
    kader = get_or_404(Kader, kader_id)
    signer = signers.signer_of(kader.id)
    own = signer is not None and signer.user_id == current_user.id
    form = OwnPinForm()
    error, status = None, 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                with unit_of_work():
                    signers.change_own_pin(current_user, kader, form.current.data, form.pin.data)
                flash(_("PIN %(name)s diganti. Hanya dia yang mengetahuinya.", name=kader.name), "success")
                return redirect(url_for("kader.view_kader", kader_id=kader.id) + "#tanda-tangan", 303)
            except signers.IdentityError as e:
                code = str(e)
                error = _pin_error(code) if code in ("pin_weak", "pin_format") else _identity_error(e, kader.name)
                status = 429 if code == "throttled" else 422
        else:
            error = _("PIN tidak sama.") if form.confirm.errors and form.pin.data else _pin_error("pin_format")
    return render("kader/own_pin.html", status=status, form=form, kader=kader, own=own, error=error,
                  has_pin=bool(signer and signer.pin_hash))


def _pin_error(code: str) -> str:
    if code == "pin_weak":
        return _("PIN terlalu mudah ditebak (angka sama atau berurutan). Pilih 6 angka lain.")
    return _("PIN harus 6 angka.")


def _role_choices(form):
    form.posyandu_id.choices = [(p.id, f"{p.name} — {p.kelurahan.name}") for p in scope.visible_posyandu(current_user)]
    form.role.choices = [(k, str(v)) for k, v in labels.POSITIONS.items()]


@bp.route("/<int:kader_id>/ubah", methods=["GET", "POST"])
@role_required(*EDIT)
def edit_kader(kader_id: int):
    """Correct a kader's data; a change sends the record back for verification."""
    kader = get_or_404(Kader, kader_id)
    form = KaderForm(obj=kader)
    if form.validate_on_submit():
        data = {f: getattr(form, f).data for f in roster.KADER_FIELDS}
        data["education"] = data["education"] or None
        with unit_of_work():
            roster.update(current_user, kader, data)
        flash(_("Perubahan disimpan."), "success")
        return redirect(url_for("kader.view_kader", kader_id=kader.id), 303)
    status = 422 if form.is_submitted() else 200
    return render("kader/edit.html", "kader/_form.html", status=status, form=form, kader=kader)


@bp.route("/<int:kader_id>/peran", methods=["POST"])
@role_required("district_admin", "kelurahan_clerk")
def add_role(kader_id: int):
    """Give the kader another role (kader or board position) in a Posyandu in scope."""
    kader = get_or_404(Kader, kader_id)
    form = RoleForm()
    _role_choices(form)
    if form.validate_on_submit():
        with unit_of_work():
            roster.add_role(current_user, kader, form.posyandu_id.data, form.role.data, form.start_date.data)
        flash(_("Peran ditambahkan."), "success")
    else:
        flash(_("Peran tidak tersimpan: periksa isian."), "error")
    return redirect(url_for("kader.view_kader", kader_id=kader.id), 303)


@bp.route("/<int:kader_id>/peran/akhiri", methods=["POST"])
@role_required("district_admin", "kelurahan_clerk")
def end_role(kader_id: int):
    """End one of the kader's roles on a date."""
    kader = get_or_404(Kader, kader_id)
    form = EndRoleForm()
    role_id = parse_id(form.role_id.data)
    role = db.session.get(KaderRole, role_id) if role_id else None
    if role is None or role.kader_id != kader.id or role.posyandu_id not in {p.id for p in scope.visible_posyandu(current_user)}:
        abort(404)
    if form.validate_on_submit():
        with unit_of_work():
            roster.end_role(current_user, role, form.end_date.data)
        flash(_("Peran diakhiri."), "success")
    return redirect(url_for("kader.view_kader", kader_id=kader.id), 303)


@bp.route("/<int:kader_id>/penilaian", methods=["POST"])
@role_required(*ASSESS)
def add_assessment(kader_id: int):
    """Record the skills assessed on one date."""
    kader = get_or_404(Kader, kader_id)
    form = AssessmentForm()
    form.skills.choices = [(s.code, s.code) for s in competence.catalogue().skills]
    if form.validate_on_submit():
        with unit_of_work():
            n = roster.record_assessments(current_user, kader, form.skills.data, form.assessed_on.data,
                                          form.assessor.data, form.passed.data == "1")
        flash(_("%(n)s penilaian dicatat.", n=n), "success")
        return redirect(url_for("kader.view_kader", kader_id=kader.id) + "#kompetensi", 303)
    return render("kader/assessment.html", status=422, form=form, kader=kader)


@bp.route("/<int:kader_id>/tinjau", methods=["POST"])
@role_required("district_admin", "kelurahan_clerk")
def review_kader(kader_id: int):
    """Verify (kelurahan), validate (district) or send back with a reason."""
    kader = get_or_404(Kader, kader_id)
    form = ReviewForm()
    action = request.form.get("action")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                review_step(current_user, kader, action, form.reason.data)
            flash({"verify": _("Data kader diverifikasi."), "validate": _("Data kader divalidasi."),
                   "return": _("Data kader dikembalikan.")}[action], "success")
        except ReviewError as e:
            flash(_("Tulis alasan pengembalian.") if str(e) == "reason" else _("Langkah ini tidak dapat dilakukan."),
                  "error")
    return redirect(url_for("kader.view_kader", kader_id=kader.id) + "#tinjau", 303)


# --- reports ----------------------------------------------------------------------------------------------------

@bp.route("/peran-ganda")
@role_required(*VIEW)
def double_roles():
    """Everyone holding more than one role now."""
    return render("kader/double_roles.html", rows=roster.double_roles(current_user, date.today()))


@bp.route("/kualitas-data")
@role_required("district_admin", "kelurahan_clerk", "ketua")
def data_quality():
    """Kader records with a missing, invalid or duplicate NIK, double roles, or not yet verified."""
    rows = roster.data_quality(current_user, date.today())
    counts = {p: sum(1 for r in rows if p in r.problems) for p in roster.QUALITY_PROBLEMS}
    return render("kader/quality.html", rows=rows, counts=counts)


@bp.route("/kompetensi")
@role_required(*VIEW)
def competence_report():
    """The share of trained kader per kelurahan, Puskesmas and district against the target."""
    return render("kader/competence.html", shares=roster.trained_shares(current_user, date.today()),
                  target=roster.trained_target(current_user.district), rule=roster.stratum_rule(current_user.district), cat=competence.catalogue())


# --- commitments ------------------------------------------------------------------------------------------------

@bp.route("/komitmen/")
@role_required(*SIGN)
def commitments_list():
    """Who has signed the year's commitment and who has not, per Posyandu and kelurahan."""
    year, posyandu_id = _year(), _posyandu_filter()
    rows = commitments.status(current_user, year, posyandu_id)
    return render("kader/commitments.html", rows=rows, counts=commitments.counts(rows), year=year,
                  posyandu_id=posyandu_id, posyandu=scope.visible_posyandu(current_user),
                  template=commitments.current_template(current_user.district_id, year))


@bp.route("/komitmen/naskah", methods=["GET", "POST"])
@role_required("district_admin")
def commitment_templates():
    """The district's commitment texts; saving publishes a new version (earlier ones stay as signed)."""
    form = TemplateForm()
    if request.method == "GET":
        latest = commitments.current_template(current_user.district_id, date.today().year)
        form.year.data = date.today().year
        form.title.data = latest.title if latest else commitments.DEFAULT_TITLE
        form.body.data = latest.body if latest else commitments.DEFAULT_BODY.format(year=date.today().year)
    elif form.validate_on_submit():
        with unit_of_work():
            t = commitments.new_version(current_user, current_user.district_id, form.year.data, form.title.data,
                                        form.body.data)
        flash(_("Naskah versi %(v)s tahun %(y)s diterbitkan.", v=t.version, y=t.year), "success")
        return redirect(url_for("kader.commitment_templates"), 303)
    status = 422 if form.is_submitted() else 200
    return render("kader/templates.html", status=status, form=form,
                  templates=commitments.templates(current_user.district_id))


def _sign_context(kader, form):
    template = commitments.current_template(current_user.district_id, date.today().year)
    today = date.today()
    own = [r.posyandu for r in roster.current_roles(kader, today)
           if r.posyandu_id in {p.id for p in scope.visible_posyandu(current_user)}]
    form.posyandu_id.choices = list({p.id: (p.id, p.name) for p in own}.values())
    return template


@bp.route("/<int:kader_id>/komitmen", methods=["GET", "POST"])
@role_required(*SIGN)
def sign_commitment(kader_id: int):
    """The kader reads the year's commitment and signs it as herself: from her own account, or with her PIN on a
    shared login (drawn signature; without JavaScript her name typed)."""
    kader = get_or_404(Kader, kader_id)
    form = SignForm()
    template = _sign_context(kader, form)
    existing = commitments.commitment_of(kader.id, date.today().year)
    if existing is not None:
        return redirect(url_for("kader.view_commitment", commitment_id=existing.id), 303)
    signer = signers.signer_of(kader.id)
    own = signer is not None and signer.user_id == current_user.id
    page = {"kader": kader, "template": template, "own": own, "has_pin": bool(signer and signer.pin_hash)}
    blocked = ("no_template" if template is None else "no_role" if not form.posyandu_id.choices
               else None if own or page["has_pin"] else "no_pin")
    if blocked:
        return render("kader/sign.html", status=422 if request.method == "POST" else 200, form=None,
                      blocked=blocked, **page)
    if request.method == "GET":
        form.text_sha256.data = template.body_sha256
        form.posyandu_id.data = form.posyandu_id.choices[0][0]
        return render("kader/sign.html", form=form, **page)
    error = pin_error = None
    status = 422
    if form.validate_on_submit():
        kind = "drawn" if form.signature.data else "typed"
        try:
            with unit_of_work():
                c = commitments.sign(current_user, kader, form.posyandu_id.data, template, kind,
                                     form.signature.data, form.typed_name.data, form.text_sha256.data,
                                     pin=form.pin.data)
            flash(_("Komitmen %(name)s ditandatangani.", name=kader.name), "success")
            return redirect(url_for("kader.view_commitment", commitment_id=c.id), 303)
        except commitments.CommitmentError as e:
            if str(e) == "already":
                return redirect(url_for("kader.sign_commitment", kader_id=kader.id), 303)
            error = _sign_error(str(e), kader.name)
            form.text_sha256.data = template.body_sha256
        except signers.IdentityError as e:
            pin_error, status = _identity_error(e, kader.name), 429 if str(e) == "throttled" else 422
    elif not (form.signature.data or form.typed_name.data):
        error = _sign_error("signature")
    return render("kader/sign.html", status=status, form=form, sign_error=error, pin_error=pin_error, **page)


def _sign_error(code: str, name: str = "") -> str:
    if code == "stale":
        return _("Naskah komitmen baru saja diperbarui. Baca naskah terbaru di atas, lalu tanda tangani lagi.")
    if code == "typed_name":
        return _("Nama yang diketik harus nama penanda tangan: %(name)s.", name=name)
    if code == "name":
        return _("Tulis nama lurah/kepala desa yang menandatangani.")
    if code == "no_ketua":
        return _("Posyandu ini belum mencatat ketua. Catat peran ketua di data kader, atau minta lurah menandatangani.")
    if code == "own":
        return _("Ketua tidak menandatangani komitmennya sendiri sebagai yang mengetahui; lurah yang menandatangani.")
    if code == "drawing":
        return _("Tanda tangan tidak terbaca atau terlalu kecil. Hapus lalu gambar ulang di kotak.")
    if code == "posyandu":
        return _("%(name)s tidak bertugas di Posyandu ini hari ini.", name=name)
    return _("Tanda tangan belum dibuat. Gambar tanda tangan di kotak (atau ketik nama lengkap).")


def _identity_error(e: signers.IdentityError, name: str) -> str:
    code = str(e)
    if code == "throttled":
        return _("Terlalu banyak PIN salah. Coba lagi dalam %(n)s detik.", n=e.retry_after)
    if code == "wrong_pin":
        return _("PIN salah.")
    if code == "no_pin":
        return _("%(name)s belum punya PIN. Ketua Posyandu atau kelurahan dapat membuatnya di halaman kader.",
                 name=name)
    return _("Ketik PIN pribadi %(name)s.", name=name)


def _countersign_form(c):
    """The countersigning form for the ketua or the kelurahan, with who will sign (None when not theirs)."""
    if current_user.role not in COUNTERSIGN or c.countersigned_at is not None:
        return None, None
    form = CountersignForm()
    ketua = commitments.countersigner(current_user, c)
    if current_user.role == "kelurahan_clerk" and not form.is_submitted():
        form.title.data = commitments.head_title(c)
    return form, ketua


@bp.route("/komitmen/<int:commitment_id>")
@role_required(*SIGN)
def view_commitment(commitment_id: int):
    """A signed commitment exactly as it was signed, with the countersigning form for the ketua or lurah."""
    c = get_or_404(Commitment, commitment_id)
    form, ketua = _countersign_form(c)
    return _commitment_page(c, form, ketua)


def _commitment_page(c, form, ketua=None, error=None, pin_error=None, status=200):
    signer = signers.signer_of(ketua.id) if ketua else None
    people = {u.id: u.display_name for u in db.session.scalars(select(User).where(
        User.id.in_([i for i in (c.recorded_by_id, c.countersigned_by_id) if i])))}
    return render("kader/commitment.html", status=status, c=c, form=form, ketua=ketua, sign_error=error,
                  pin_error=pin_error, svg_path=svg_path, local=_local, people=people,
                  ketua_own=bool(signer and signer.user_id == current_user.id), ketua_title=commitments.ketua_title(c),
                  ketua_has_pin=bool(signer and signer.pin_hash))


@bp.route("/komitmen/<int:commitment_id>/ketahui", methods=["POST"])
@role_required(*COUNTERSIGN)
def countersign_commitment(commitment_id: int):
    """The ketua (as herself: account or PIN) or the lurah (name entered by the kelurahan) countersigns once;
    afterwards the record is fixed."""
    c = get_or_404(Commitment, commitment_id)
    if c.countersigned_at is not None:
        flash(_("Komitmen ini sudah ditandatangani oleh yang mengetahui."), "info")
        return redirect(url_for("kader.view_commitment", commitment_id=c.id), 303)
    form, ketua = _countersign_form(c)
    error = pin_error = None
    status = 422
    if form.validate_on_submit():
        kind = "drawn" if form.signature.data else "typed"
        try:
            with unit_of_work():
                commitments.countersign(current_user, c, kind, form.signature.data, form.typed_name.data,
                                        pin=form.pin.data, name=form.name.data, title=form.title.data)
            flash(_("Komitmen ditandatangani oleh %(name)s.", name=c.countersigner_name), "success")
            return redirect(url_for("kader.view_commitment", commitment_id=c.id), 303)
        except commitments.CommitmentError as e:
            if str(e) == "already":
                return redirect(url_for("kader.view_commitment", commitment_id=c.id), 303)
            error = _sign_error(str(e), ketua.name if ketua else (form.name.data or ""))
        except signers.IdentityError as e:
            pin_error, status = _identity_error(e, ketua.name if ketua else ""), 429 if str(e) == "throttled" else 422
    elif not (form.signature.data or form.typed_name.data):
        error = _sign_error("signature")
    return _commitment_page(c, form, ketua, error, pin_error, status)


@bp.route("/komitmen/<int:commitment_id>/pdf")
@role_required(*SIGN)
def commitment_pdf_view(commitment_id: int):
    """The signed commitment as a PDF: the exact text, its hash and both signatures."""
    c = get_or_404(Commitment, commitment_id)
    kel = c.posyandu.kelurahan
    data = {"title": c.title, "year": c.year, "text": c.text, "text_sha256": c.text_sha256,
            "kader_name": c.signer_name, "nik_masked": labels.masked_nik(c.kader.nik), "posyandu": c.posyandu.name,
            "kelurahan": kel.name, "district": kel.kecamatan.district.name, "signed_at": _local(c.signed_at),
            "signature_kind": c.signature_kind, "signature": c.signature,
            "countersigner_name": c.countersigner_name, "countersigner_title": c.countersigner_title,
            "countersigned_at": _local(c.countersigned_at), "countersignature_kind": c.countersignature_kind,
            "countersignature": c.countersignature, "signer_method": c.signer_method,
            "countersigner_method": c.countersigner_method,
            "place_date": f"{kel.kecamatan.district.place}, {_long_date(c.signed_at.date())}",
            "doc_header": kel.kecamatan.district.document_header()}
    return pdf_response(commitment_pdf(data), f"komitmen-{c.year}-{c.id}.pdf")


# --- certificates -----------------------------------------------------------------------------------------------

def _cert_types(subject: str) -> list[tuple[str, str]]:
    """The district's certificate types for a kader or a kelurahan, as it words their titles."""
    return [(code, t["title"]) for code, t in certificates.types_of(current_user.district).items()
            if t["subject"] == subject]


def _kader_cert_types():
    return _cert_types("kader")


def _signer_defaults(form, subject: str) -> None:
    """The signer the district set (for the first type offered that has one), typed in already; she may change
    it."""
    first = next((t for t in certificates.types_of(current_user.district).values()
                  if t["subject"] == subject and (t["issuer_name"] or t["issuer_title"])), None)
    if first and not form.is_submitted():
        form.issuer_name.data = form.issuer_name.data or first["issuer_name"] or None
        form.issuer_title.data = form.issuer_title.data or first["issuer_title"] or None


def _kelurahan_in_scope() -> list[Kelurahan]:
    return list(db.session.scalars(select(Kelurahan).where(Kelurahan.id.in_(scope.kelurahan_ids(current_user)))
                                   .order_by(Kelurahan.name)))


def _qr_warning() -> str | None:
    """The address the QR codes would open, when nobody outside this machine can reach it (PUBLIC_BASE_URL unset
    or pointing at loopback); None when printed certificates can be checked from anywhere."""
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return None if certificates.reachable_base_url(configured) else (configured or request.host_url).rstrip("/")


@bp.route("/sertifikat/")
@role_required(*ISSUE)
def certificates_list():
    """Certificates of a kelurahan (issued and revoked), a form for kelurahan awards, and printing all as one PDF."""
    kels = _kelurahan_in_scope()
    kel_id = int_arg("kelurahan")
    kel = next((k for k in kels if k.id == kel_id), kels[0] if kels else None)
    rows = certificates.of_kelurahan(kel.id, include_revoked=True) if kel else []
    form = None
    if current_user.role in ISSUE:
        form = AwardForm()
        form.type_code.choices = _cert_types("kelurahan")
        form.kelurahan_id.choices = [(k.id, k.name) for k in kels]
        form.kelurahan_id.data = kel.id if kel else None
        form.issued_on.data = date.today()
        _signer_defaults(form, "kelurahan")
    return render("kader/certificates.html", kels=kels, kel=kel, rows=rows, form=form, qr_warning=_qr_warning())


def _issue(form, kel: Kelurahan, kader: Kader | None, back: str):
    stratum = None
    if kader is not None and form.type_code.data == "stratum":
        stratum = roster.strata(select(Kader.id).where(Kader.id == kader.id)).get(kader.id)
        if stratum is None:
            flash(_("Kader ini belum memenuhi stratum mana pun; sertifikat stratum belum dapat diterbitkan."), "error")
            return redirect(back, 303)
    with unit_of_work():
        cert = certificates.issue(current_user, form.type_code.data, kel, form.issued_on.data, form.issuer_name.data,
                                  form.issuer_title.data, kader=kader, stratum=stratum, key=form.idempotency_key.data)
    flash(_("Sertifikat %(n)s diterbitkan.", n=cert.number), "success")
    return redirect(back, 303)


@bp.route("/<int:kader_id>/sertifikat", methods=["POST"])
@role_required(*ISSUE)
def issue_kader_certificate(kader_id: int):
    """Issue a stratum certificate or a piagam penghargaan to a kader."""
    kader = get_or_404(Kader, kader_id)
    form = CertificateForm()
    form.type_code.choices = _kader_cert_types()
    back = url_for("kader.view_kader", kader_id=kader.id) + "#sertifikat"
    if not form.validate_on_submit():
        flash(_("Sertifikat tidak diterbitkan: periksa isian."), "error")
        return redirect(back, 303)
    roles = roster.current_roles(kader, date.today()) or kader.roles
    visible = {p.id: p for p in scope.visible_posyandu(current_user)}
    pos = next((visible[r.posyandu_id] for r in roles if r.posyandu_id in visible), None)
    if pos is None:
        abort(404)
    return _issue(form, pos.kelurahan, kader, back)


@bp.route("/sertifikat/kelurahan", methods=["POST"])
@role_required(*ISSUE)
def issue_kelurahan_award():
    """Issue a kelurahan award (Anugerah Kelurahan Sehat, ODF)."""
    form = AwardForm()
    kels = {k.id: k for k in _kelurahan_in_scope()}
    form.type_code.choices = _cert_types("kelurahan")
    form.kelurahan_id.choices = [(k.id, k.name) for k in kels.values()]
    if form.validate_on_submit() and form.kelurahan_id.data in kels:
        kel = kels[form.kelurahan_id.data]
        return _issue(form, kel, None, url_for("kader.certificates_list", kelurahan=kel.id))
    flash(_("Sertifikat tidak diterbitkan: periksa isian."), "error")
    return redirect(url_for("kader.certificates_list"), 303)


@bp.route("/sertifikat/<int:certificate_id>/cabut", methods=["POST"])
@role_required(*ISSUE)
def revoke_certificate(certificate_id: int):
    """Revoke a certificate with a reason; its verification page then says it is revoked."""
    cert = get_or_404(Certificate, certificate_id)
    form = RevokeForm()
    if form.validate_on_submit() and cert.revoked_at is None:
        with unit_of_work():
            certificates.revoke(current_user, cert, form.reason.data)
        flash(_("Sertifikat %(n)s dicabut.", n=cert.number), "success")
    elif cert.revoked_at is None:
        flash(_("Tulis alasan pencabutan."), "error")
    return redirect(url_for("kader.certificates_list", kelurahan=cert.kelurahan_id), 303)


@bp.route("/sertifikat/<int:certificate_id>/pdf")
@role_required(*CERTS)
def certificate_pdf(certificate_id: int):
    """One certificate as a landscape A4 PDF (a revoked one is marked DICABUT)."""
    cert = get_or_404(Certificate, certificate_id)
    return pdf_response(certificates_pdf([documents.certificate_data(cert)], cert.title),
                        f"sertifikat-{cert.id}.pdf")


def _chosen(kel: Kelurahan, ids: set[int] | None = None) -> list[Certificate]:
    """The certificates ticked on the list (id=…, only this kelurahan's), or all valid ones if none is."""
    if ids is None:
        ids = {i for i in map(parse_id, request.values.getlist("id")) if i}
    if not ids:
        return certificates.of_kelurahan(kel.id)
    return [c for c in certificates.of_kelurahan(kel.id, include_revoked=True) if c.id in ids]


@bp.route("/sertifikat/kelurahan/<int:kelurahan_id>/pratinjau", methods=["GET", "POST"])
@role_required(*ISSUE)
def preview_certificates(kelurahan_id: int):
    """The chosen certificates as they will print (text, number and the QR's address), before printing them
    (posted from the list, whose form also starts the printing)."""
    kel = get_or_404(Kelurahan, kelurahan_id)
    certs = _chosen(kel)
    return render("kader/certificates_preview.html", kel=kel,
                  certs=[(c, documents.certificate_data(c)) for c in certs],
                  ids=[c.id for c in certs], qr_warning=_qr_warning(), qr_svg=qr_svg_path)


@bp.route("/sertifikat/kelurahan/<int:kelurahan_id>/pdf", methods=["POST"])
@role_required(*ISSUE)
def kelurahan_certificates_pdf(kelurahan_id: int):
    """Start printing the chosen certificates of a kelurahan (all valid ones by default) into one PDF, as a
    background job: its page shows the progress and then the download."""
    kel = get_or_404(Kelurahan, kelurahan_id)
    ids = sorted({i for i in map(parse_id, request.form.getlist("id")) if i})
    n = len(_chosen(kel, set(ids)))
    return start_job("certificates", {"kelurahan_id": kel.id, "ids": ids},
                     _("%(n)s sertifikat Kelurahan %(name)s (PDF)", n=n, name=kel.name),
                     f"sertifikat-kelurahan-{kel.id}.pdf", "application/pdf")


@job_runner("certificates")
def _certificates_job(params: dict, out, progress) -> None:
    """The certificates of a bulk print job, as the job's user (her role and scope checked again)."""
    if current_user.role not in ISSUE:
        abort(403)
    kel = get_or_404(Kelurahan, params["kelurahan_id"])
    certs = _chosen(kel, set(params["ids"]))
    out.write(certificates_pdf([documents.certificate_data(c) for c in certs], f"Sertifikat Kelurahan {kel.name}", progress))
