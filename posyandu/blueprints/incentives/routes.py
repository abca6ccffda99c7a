"""Kader incentives: the district policy, monthly batches per kelurahan (compute, review, adjust, approve, mark
paid, correct) and their documents (slips, daftar penerimaan, kuitansi, XLSX, transfer CSV)."""
from datetime import date

from flask import abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ...database import unit_of_work
from ...domain import incentives as dom
from ...extensions import db
from ...forms import CsrfForm
from ...models import IncentiveBatch, IncentiveLine, IncentivePolicy, Kelurahan, User
from ...pdf.incentives import daftar_pdf, kuitansi_pdf, slips_pdf
from ...roles import role_required
from ...services import incentive_exports, incentives, scope
from ...parsing import parse_id
from ...web import get_or_404, int_arg, render
from ..months.labels import STATES as MONTH_STATES
from . import bp
from .forms import (AdjustForm, ComputeForm, CorrectForm, PaidForm, PolicyForm, condition_values)

STAFF = incentives.COMPUTE  # district admin and kelurahan clerk


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _errors() -> dict:
    return {
        "state": _("Langkah ini tidak dapat dilakukan pada status batch sekarang."),
        "role": _("Peran Anda tidak dapat melakukan langkah ini."),
        "same_person": _("Batch ini disiapkan oleh Anda sendiri; admin lain yang harus menyetujuinya."),
        "empty": _("Batch ini tidak berisi kader."),
        "no_policy": _("Belum ada kebijakan insentif yang berlaku untuk bulan ini."),
        "no_difference": _("Tidak ada selisih: data sekarang sama dengan yang sudah dibayar."),
        "in_use": _("Kebijakan ini sudah dipakai batch; buat kebijakan baru mulai bulan berikutnya."),
        "same_month": _("Sudah ada kebijakan yang mulai berlaku pada bulan ini."),
        "reason": _("Tulis alasan penyesuaian."),
        "negative": _("Penyesuaian tidak boleh membuat jumlah bruto negatif."),
        "recovery": _("Baris pengembalian kelebihan bayar tidak dapat disesuaikan."),
    }


def _kelurahan_in_scope() -> list[Kelurahan]:
    return list(db.session.scalars(select(Kelurahan).where(Kelurahan.id.in_(scope.kelurahan_ids(current_user)))
                                   .order_by(Kelurahan.name)))


def _last_month() -> date:
    first = date.today().replace(day=1)
    return date.fromordinal(first.toordinal() - 1).replace(day=1)


# --- policies ---------------------------------------------------------------------------------------------------

def _policy_data(form: PolicyForm) -> dict | None:
    conditions = condition_values(form)
    if conditions is None:
        return None
    return {"valid_from": form.valid_from.data, "amount": form.amount.value, "funding_source": form.funding_source.data,
            "pph21_bp": form.pph21.value, "bpjs_deduction": form.bpjs_deduction.data,
            "bpjs_amount": form.bpjs_amount.value, "pay_per_role": form.pay_per_role.data,
            "min_home_visits": int(form.min_home_visits.data), "legal_basis": form.legal_basis.data or None,
            "hold_unverified": form.hold_unverified.data, "board_amount": form.board_amount.value, **conditions}


def _save_policy(form: PolicyForm, policy: IncentivePolicy | None):
    """Validate and save; None on success after flashing, else the error text for the page."""
    if not form.validate_on_submit():
        return ""
    data = _policy_data(form)
    if data is None:
        return ""
    try:
        with unit_of_work():
            incentives.save_policy(current_user, data, policy, key=None if policy else form.idempotency_key.data)
    except incentives.IncentiveError as e:
        if str(e) == "same_month":
            form.valid_from.errors = [_errors()["same_month"]]
            return ""
        return _errors().get(str(e), _errors()["state"])
    except ValueError:
        return _("Periksa kembali potongan: persen paling besar 100 dan setiap potongan yang berlaku perlu alasan.")
    return None


@bp.route("/kebijakan", methods=["GET", "POST"])
@role_required("district_admin")
def policies():
    """The district's incentive policies by effective month (the history), and a form for a new one."""
    form = PolicyForm()
    error = None
    if request.method == "GET":
        form.pph21.data = "2,5"
    else:
        error = _save_policy(form, None)
        if error is None:
            flash(_("Kebijakan insentif disimpan."), "success")
            return redirect(url_for("incentives.policies"), 303)
    status = 422 if request.method == "POST" else 200
    rows = incentives.policies(current_user.district_id)
    return render("incentives/policies.html", status=status, form=form, rows=rows, error=error,
                  used={p.id for p in rows if incentives.policy_in_use(p)}, rupiah=dom.rupiah,
                  rate=incentives.rate_text)


@bp.route("/kebijakan/<int:policy_id>", methods=["GET", "POST"])
@role_required("district_admin")
def edit_policy(policy_id: int):
    """Correct a policy that no batch has used yet; a used one is shown read-only (it is history)."""
    policy = get_or_404(IncentivePolicy, policy_id)
    in_use = incentives.policy_in_use(policy)
    form = PolicyForm(obj=policy) if request.method == "GET" else PolicyForm()
    error = None
    if request.method == "GET":
        form.amount.data = f"{policy.amount:,}".replace(",", ".")
        form.bpjs_amount.data = f"{policy.bpjs_amount:,}".replace(",", ".")
        form.board_amount.data = "" if policy.board_amount is None else f"{policy.board_amount:,}".replace(",", ".")
        form.pph21.data = incentives.rate_text(policy.pph21_bp).rstrip("%")
        form.min_home_visits.data = str(policy.min_home_visits)
        for c in dom.CONDITIONS:
            kind, value = getattr(policy, f"{c}_cut_kind"), getattr(policy, f"{c}_cut_value")
            getattr(form, f"{c}_cut_value").data = (incentives.rate_text(value).rstrip("%") if kind == "percent"
                                                    else str(value))
    elif in_use:
        error = _errors()["in_use"]
    else:
        error = _save_policy(form, policy)
        if error is None:
            flash(_("Kebijakan insentif diperbarui."), "success")
            return redirect(url_for("incentives.policies"), 303)
    status = 422 if request.method == "POST" else 200
    return render("incentives/policy.html", status=status, form=form, policy=policy, in_use=in_use, error=error)


# --- batches ----------------------------------------------------------------------------------------------------

def _compute_form(kels) -> ComputeForm:
    form = ComputeForm()
    form.kelurahan_id.choices = [(k.id, k.name) for k in kels]
    return form


@bp.route("/")
@role_required(*STAFF)
def batches():
    """The batches of the kelurahan in scope, newest month first, and the form to compute a month."""
    kels = _kelurahan_in_scope()
    form = _compute_form(kels)
    form.month.data = _last_month()
    return render("incentives/batches.html", form=form, rows=incentives.batches(current_user), kels=kels,
                  **_approvals(kels, form.month.data))


def _approvals(kels, month: date) -> dict:
    """The kelurahan whose Posyandu-months of `month` are not all approved yet (a batch would hold their kader)."""
    counts = incentives.approval_counts([k.id for k in kels], month)
    pending = [(k, *counts[k.id]) for k in kels if k.id in counts and counts[k.id][0] < counts[k.id][1]]
    return {"pending": pending, "pending_month": dom.month_name(month)}


@bp.route("/hitung", methods=["POST"])
@role_required(*STAFF)
def compute():
    """Compute a kelurahan's batch for a month as a draft (a double click computes one batch)."""
    kels = _kelurahan_in_scope()
    posted = parse_id(request.form.get("kelurahan_id"))
    if posted is not None and posted not in {k.id for k in kels}:
        abort(404)  # another kelurahan's batch: not found, as for any object outside the scope
    form = _compute_form(kels)
    error = None
    if form.validate_on_submit():
        kel = next(k for k in kels if k.id == form.kelurahan_id.data)
        try:
            with unit_of_work():
                batch = incentives.compute(current_user, kel, form.month.data, form.pph21.value,
                                           key=form.idempotency_key.data)
            flash(_("Batch %(month)s dihitung: %(n)s kader.", month=dom.month_name(batch.month), n=len(batch.lines)),
                  "success")
            return redirect(url_for("incentives.view_batch", batch_id=batch.id), 303)
        except incentives.IncentiveError as e:
            error = _errors().get(str(e))
    return render("incentives/batches.html", status=422, form=form, rows=incentives.batches(current_user), kels=kels,
                  error=error, **_approvals(kels, _last_month()))


LINES_PER_PAGE = 40  # a kelurahan of 420 kader stays within the 14 KB page budget, ten pages of lines


def _batch_page(batch: IncentiveBatch, status: int = 200, paid_form=None):
    if paid_form is None:
        paid_form = PaidForm()
        paid_form.paid_on.data = date.today()
    page = int_arg("page", 1, 1, 1000)
    lines = batch.lines[(page - 1) * LINES_PER_PAGE: page * LINES_PER_PAGE]
    preparers = sorted(incentives.preparer_ids(batch))
    months = incentives.month_status(batch.kelurahan_id, batch.month)
    return render("incentives/batch.html", unapproved=[m for m in months if m["state"] != "approved"],
                  month_states=MONTH_STATES,
                  held=sum(1 for ln in batch.lines if any(c["code"] == "month_open" for c in ln.reductions)), status=status, batch=batch, totals=incentives.batch_totals(batch),
                  lines=lines, page=page, first=(page - 1) * LINES_PER_PAGE,
                  more=len(batch.lines) > page * LINES_PER_PAGE,
                  paid_form=paid_form, correct_form=CorrectForm(), csrf_form=CsrfForm(), rupiah=dom.rupiah,
                  month_name=dom.month_name, rate=incentives.rate_text, number=incentives.batch_number(batch),
                  people=_people(batch, preparers), preparers=preparers,
                  may_approve=incentives.may_approve(current_user, batch))


def _people(batch: IncentiveBatch, preparers=()) -> dict:
    ids = {i for i in (batch.prepared_by_id, batch.approved_by_id, batch.paid_by_id, *preparers) if i}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.route("/<int:batch_id>")
@role_required(*STAFF)
def view_batch(batch_id: int):
    """Review a batch: a line per person with reductions and reasons, totals, the next step and the documents;
    the kelurahan's Posyandu whose month is not approved yet (their kader held), each linked to its month."""
    return _batch_page(get_or_404(IncentiveBatch, batch_id))


def _step(batch_id: int, action, done_message: str):
    batch = get_or_404(IncentiveBatch, batch_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            action(batch)
        flash(done_message, "success")
    except incentives.IncentiveError as e:
        flash(_errors().get(str(e), _errors()["state"]), "error")
    return redirect(url_for("incentives.view_batch", batch_id=batch.id), 303)


@bp.route("/<int:batch_id>/hitung-ulang", methods=["POST"])
@role_required(*STAFF)
def recompute(batch_id: int):
    """Recompute a draft from the months approved by now (adjustments are kept)."""
    return _step(batch_id, lambda b: incentives.recompute(current_user, b), _("Batch dihitung ulang."))


@bp.route("/<int:batch_id>/setujui", methods=["POST"])
@role_required("district_admin")
def approve(batch_id: int):
    """Approve a draft (a district admin who did not compute or adjust any of it since its last approval)."""
    return _step(batch_id, lambda b: incentives.approve(current_user, b), _("Batch disetujui."))


@bp.route("/<int:batch_id>/kembalikan", methods=["POST"])
@role_required("district_admin")
def reopen(batch_id: int):
    """Send an approved batch back to draft (before payment)."""
    return _step(batch_id, lambda b: incentives.reopen(current_user, b), _("Batch dikembalikan ke draf."))


@bp.route("/<int:batch_id>/hapus", methods=["POST"])
@role_required(*STAFF)
def delete_batch(batch_id: int):
    """Throw away a draft."""
    batch = get_or_404(IncentiveBatch, batch_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            incentives.delete_draft(current_user, batch)
    except incentives.IncentiveError as e:
        flash(_errors().get(str(e), _errors()["state"]), "error")
        return redirect(url_for("incentives.view_batch", batch_id=batch_id), 303)
    flash(_("Draf batch dihapus."), "success")
    return redirect(url_for("incentives.batches"), 303)


@bp.route("/<int:batch_id>/bayar", methods=["POST"])
@role_required(*STAFF)
def mark_paid(batch_id: int):
    """Record the payment; the batch is locked for good afterwards."""
    batch = get_or_404(IncentiveBatch, batch_id)
    form = PaidForm()
    if not form.validate_on_submit():
        return _batch_page(batch, 422, form)
    try:
        with unit_of_work():
            incentives.mark_paid(current_user, batch, form.paid_on.data, form.reference.data)
        flash(_("Pembayaran dicatat; batch dikunci."), "success")
    except incentives.IncentiveError as e:
        flash(_errors().get(str(e), _errors()["state"]), "error")
    return redirect(url_for("incentives.view_batch", batch_id=batch.id), 303)


@bp.route("/<int:batch_id>/koreksi", methods=["POST"])
@role_required(*STAFF)
def correct(batch_id: int):
    """Start a correction of a paid month: a new adjusting batch with the differences."""
    batch = get_or_404(IncentiveBatch, batch_id)
    form = CorrectForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            fix = incentives.correct(current_user, batch, key=form.idempotency_key.data)
    except incentives.IncentiveError as e:
        flash(_errors().get(str(e), _errors()["state"]), "error")
        return redirect(url_for("incentives.view_batch", batch_id=batch.id), 303)
    flash(_("Batch koreksi dibuat."), "success")
    return redirect(url_for("incentives.view_batch", batch_id=fix.id), 303)


@bp.route("/<int:batch_id>/baris/<int:line_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def adjust_line(batch_id: int, line_id: int):
    """Adjust one person's line by an amount with a reason (draft batches only)."""
    batch = get_or_404(IncentiveBatch, batch_id)
    line = get_or_404(IncentiveLine, line_id)
    if line.batch_id != batch.id:
        abort(404)
    form = AdjustForm()
    error = None
    if request.method == "GET":
        form.amount.data = f"{line.adjustment:,}".replace(",", ".")
        form.reason.data = line.adjustment_reason or ""
    elif form.validate_on_submit():
        try:
            with unit_of_work():
                incentives.adjust_line(current_user, line, form.amount.value, form.reason.data or "")
            flash(_("Baris %(name)s disesuaikan.", name=line.name), "success")
            return redirect(url_for("incentives.view_batch", batch_id=batch.id) + f"#baris-{line.id}", 303)
        except incentives.IncentiveError as e:
            if str(e) in ("reason", "negative"):
                form.amount.errors = [_errors()[str(e)]] if str(e) == "negative" else []
                form.reason.errors = [_errors()["reason"]] if str(e) == "reason" else []
            else:
                error = _errors().get(str(e), _errors()["state"])
    status = 422 if request.method == "POST" else 200
    return render("incentives/line.html", status=status, form=form, batch=batch, line=line, error=error,
                  rupiah=dom.rupiah)


# --- documents --------------------------------------------------------------------------------------------------

def _download(data: bytes, mime: str, filename: str, inline: bool = False):
    resp = make_response(data)
    resp.headers["Content-Type"] = mime
    resp.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return resp


def _doc(batch: IncentiveBatch) -> dict:
    preparer = db.session.get(User, batch.prepared_by_id) if batch.prepared_by_id else None
    return incentives.document_data(batch, preparer=preparer.display_name if preparer else None)


def _name(batch: IncentiveBatch, what: str, ext: str) -> str:
    return f"{what}-{batch.month:%Y-%m}-{batch.kelurahan_id}-{batch.id}.{ext}"


@bp.route("/<int:batch_id>/slip.pdf")
@role_required(*STAFF)
def slips(batch_id: int):
    """Every slip of the batch; ?per=1…4 slips on an A4 page (3 by default)."""
    batch = get_or_404(IncentiveBatch, batch_id)
    per = int_arg("per", 3, 1, 4)
    return _download(slips_pdf(_doc(batch), per), "application/pdf", _name(batch, "slip-insentif", "pdf"), True)


@bp.route("/<int:batch_id>/daftar.pdf")
@role_required(*STAFF)
def daftar(batch_id: int):
    """The daftar penerimaan (A4 landscape) to be signed by each kader, the clerk, the lurah and the bendahara."""
    batch = get_or_404(IncentiveBatch, batch_id)
    return _download(daftar_pdf(_doc(batch)), "application/pdf", _name(batch, "daftar-penerimaan", "pdf"), True)


@bp.route("/<int:batch_id>/kuitansi.pdf")
@role_required(*STAFF)
def kuitansi(batch_id: int):
    """The kuitansi for the batch total."""
    batch = get_or_404(IncentiveBatch, batch_id)
    return _download(kuitansi_pdf(_doc(batch)), "application/pdf", _name(batch, "kuitansi", "pdf"), True)


@bp.route("/<int:batch_id>/insentif.xlsx")
@role_required(*STAFF)
def xlsx(batch_id: int):
    """The batch as a spreadsheet with every figure and reason."""
    batch = get_or_404(IncentiveBatch, batch_id)
    return _download(incentive_exports.batch_xlsx(_doc(batch)),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     _name(batch, "insentif", "xlsx"))


@bp.route("/<int:batch_id>/transfer.csv")
@role_required(*STAFF)
def transfer(batch_id: int):
    """The bank transfer list: account, holder, bank, amount, reference (cash payments are left out)."""
    batch = get_or_404(IncentiveBatch, batch_id)
    return _download(incentive_exports.transfer_csv(_doc(batch)), "text/csv; charset=utf-8",
                     _name(batch, "transfer", "csv"))
