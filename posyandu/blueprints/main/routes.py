"""The home page."""
from datetime import date

from flask_login import current_user, login_required

from ...domain.schedule import next_open_day
from ...models.base import utcnow
from ...services import month_views, months, scope, session_views, stats
from ...web import render
from ..months.labels import STATES as MONTH_STATES
from . import bp


@bp.route("/")
@login_required
def index():
    """Home: what the user's area holds and where to start."""
    today = date.today()
    pos = current_user.posyandu
    next_day = pos and next_open_day(today, pos.schedule_kind, pos.schedule_day, pos.schedule_week,
                                     pos.schedule_weekday)
    return render("main/index.html", counts=stats.group_counts(current_user, today),
                  posyandu_count=stats.posyandu_count(current_user), pos=pos, next_day=next_day, today=today,
                  open_days=session_views.open_today(current_user, today), report=_report_due(),
                  month_states=MONTH_STATES)


def _report_due() -> dict:
    """The month whose report is due now: its state for the user's own Posyandu, else how many Posyandu of the
    area have sent it (one grouped query)."""
    due = month_views.due_month(months.local_date(utcnow()))
    if current_user.posyandu_id:
        return {"month": due, "state": months.state_of(current_user.posyandu_id, due)}
    return {"month": due, "rate": month_views.rates(scope.posyandu_ids(current_user), due).whole}


@bp.route("/healthz")
def health():
    """For monitoring: answers without a login and touches nothing."""
    return {"ok": True}
