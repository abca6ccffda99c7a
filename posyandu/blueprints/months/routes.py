"""Closing the month: the review page of a Posyandu-month (what is missing, the timeline, the steps the user may
take) and the overview of an area (reporting and on-time rates, who has not reported)."""
import re
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...domain import months as dom
from ...domain.reports import month_start, months_back, parse_month, shift_month
from ...database import unit_of_work
from ...forms import CsrfForm
from ...models import Posyandu
from ...models.base import utcnow
from ...services import month_views, months, scope
from ...web import get_or_404, render
from . import bp
from .labels import ACTIONS, BUTTONS, DONE, STATES

MONTH_RE = re.compile(r"\d{4}-\d{2}")
STEPS = {"submit": months.submit, "verify": months.verify, "approve": months.approve}


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _today() -> date:
    return months.local_date(utcnow())


def month_arg(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _month_or_404(text: str) -> date:
    """A month in the URL: YYYY-MM, not after the current month."""
    if not MONTH_RE.fullmatch(text):
        abort(404)
    month = parse_month(text, date.min)
    if month == date.min.replace(day=1) or month > month_start(_today()):
        abort(404)
    return month


def _error_text(code: str, month: date) -> str:
    if code == "previous_open":
        prev = format_date(shift_month(month, -1), "MMMM y")
        return _("Laporan bulan %(prev)s belum dikirim; kirim dulu bulan itu.", prev=prev)
    if code == "reason":
        return _("Tuliskan alasan pengembalian.")
    if code == "future":
        return _("Bulan ini belum berakhir untuk dilaporkan.")
    if code == "role":
        return _("Langkah ini bukan untuk peran Anda.")
    return _("Langkah ini tidak berlaku untuk status laporan sekarang. Muat ulang halaman.")


def _review(pos: Posyandu, month: date, error: str | None = None, reason: str = "", status: int = 200):
    pm = months.month_of(pos.id, month)
    state = pm.state if pm is not None else "open"
    settings = months.settings_of(pos)
    deadline = dom.deadline(month, settings.timely_days)
    sent_on = months.local_date(pm.first_submitted_at) if pm is not None and pm.first_submitted_at else None
    return render("months/review.html", status=status, pos=pos, month=month, month_arg=month_arg(month), pm=pm,
                  state=state, levels=dom.levels(settings.verify), steps=month_views.timeline(pm),
                  missing=month_views.missing(pos.id, month), allowed=months.allowed(current_user, pm, pos, month),
                  deadline=deadline, sent_on=sent_on, late_now=sent_on is None and _today() > deadline,
                  previous_open=state == "open" and months.previous_open(pos.id, month),
                  prev=shift_month(month, -1), prev_arg=month_arg(shift_month(month, -1)), error=error, reason=reason, buttons=BUTTONS,
                  states=STATES, labels_actions=ACTIONS, form=CsrfForm())


@bp.route("/<int:posyandu_id>/<month>")
def review(posyandu_id: int, month: str):
    """A Posyandu's month: its state and timeline, on time or late, what is missing, and the next step."""
    pos = get_or_404(Posyandu, posyandu_id)
    return _review(pos, _month_or_404(month))


@bp.route("/<int:posyandu_id>/<month>", methods=["POST"])
def step(posyandu_id: int, month: str):
    """Take one step (submit, verify, approve, reopen) on the month. The form names the state it was shown in:
    a repeated post finds the month already moved on and only goes back to the page — no second step."""
    pos = get_or_404(Posyandu, posyandu_id)  # on a post, locks the Posyandu row: twin posts take turns
    month_d = _month_or_404(month)
    if not CsrfForm().validate_on_submit():
        abort(400)
    action, seen = request.form.get("action"), request.form.get("state")
    reason = (request.form.get("reason") or "")[:1000]
    if action not in dom.ACTIONS or seen not in dom.STATES:
        abort(400)
    back = redirect(url_for("months.review", posyandu_id=pos.id, month=month_arg(month_d)), 303)
    pm = months.month_of(pos.id, month_d)
    state = pm.state if pm is not None else "open"
    if state != seen:
        flash(_("Status laporan sudah berubah menjadi: %(state)s.", state=STATES[state]), "info")
        return back
    if action not in months.allowed(current_user, pm, pos, month_d):
        abort(403)
    try:
        with unit_of_work():
            if action == "reopen":
                months.reopen(current_user, pos, month_d, reason)
            else:
                STEPS[action](current_user, pos, month_d)
    except months.MonthError as e:
        return _review(pos, month_d, error=_error_text(str(e), month_d), reason=reason, status=422)
    flash(str(DONE[action]), "success")
    return back


@bp.route("/")
def overview():
    """The month of the user's area: reporting and on-time rates per kelurahan, Puskesmas, kecamatan and the whole,
    and the Posyandu that have not reported. A Posyandu's own people see their months instead."""
    today = _today()
    month = parse_month(request.args.get("bulan") or request.args.get("month"), month_views.due_month(today))
    if month > month_start(today):
        month = month_start(today)
    choices = [(month_arg(m), m) for m in reversed(months_back(month_start(today), 24))]
    if current_user.posyandu_id:
        pos = get_or_404(Posyandu, current_user.posyandu_id)
        return render("months/own.html", pos=pos, rows=month_views.month_list(pos.id, month_start(today)),
                      states=STATES, month_arg=month_arg, due=month_views.due_month(today))
    pos_ids = scope.posyandu_ids(current_user)
    district = current_user.district
    return render("months/overview.html", month=month, month_arg=month_arg(month), months=choices,
                  rates=month_views.rates(pos_ids, month), missing=month_views.not_reported(pos_ids, month),
                  waiting=month_views.to_act(current_user, pos_ids, month), states=STATES,
                  deadline=dom.deadline(month, district.timely_days), verify=district.month_verify)
