"""Closing a Posyandu's month: submit, verify, approve, reopen — who and when, and the snapshot on approval.

A month with no row is open. Each step writes a MonthEvent (who, when, why) and is audited; approval freezes the
month's records (services.month_lock) and stores the numbers (services.month_snapshot) with their hash, so
reports and pay of the month read one set of numbers forever. Reopening (with a reason) lifts the freeze; the
replaced snapshot's hash stays in the event.
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain import months as dom
from ..domain.errors import Invalid
from ..domain.reports import month_start, shift_month
from ..extensions import db
from ..models import HariBuka, Kelurahan, MonthEvent, Posyandu, PosyanduMonth, User
from ..models.base import utcnow
from . import month_snapshot
from .audit import acting

TIMEZONE = "Asia/Makassar"  # overridden by the app's BABEL_DEFAULT_TIMEZONE (see local_date)


class MonthError(Invalid):
    """A step that does not apply: the code says why (state, role, previous_open, future, reason)."""


@dataclass(frozen=True)
class Settings:
    timely_days: int
    verify: bool


def settings_of(posyandu: Posyandu) -> Settings:
    district = posyandu.kelurahan.kecamatan.district
    return Settings(district.timely_days, district.month_verify)


def local_date(at: datetime, tz: str | None = None) -> date:
    """The district's calendar date of a stored UTC time (WITA for East Kalimantan)."""
    if tz is None:
        try:
            from flask import current_app
            tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
        except RuntimeError:
            tz = TIMEZONE
    return at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()


def month_of(posyandu_id: int, month: date) -> PosyanduMonth | None:
    return db.session.scalar(select(PosyanduMonth).where(
        PosyanduMonth.posyandu_id == posyandu_id, PosyanduMonth.month == month_start(month)))


def state_of(posyandu_id: int, month: date) -> str:
    pm = month_of(posyandu_id, month)
    return pm.state if pm is not None else "open"


def _row(posyandu_id: int, month: date) -> PosyanduMonth:
    """The month's row, created open (and flushed) if none exists yet; locked for the step on PostgreSQL."""
    month = month_start(month)
    pm = month_of(posyandu_id, month)
    if pm is None:
        try:
            with db.session.begin_nested():
                pm = PosyanduMonth(posyandu_id=posyandu_id, month=month, state="open")
                db.session.add(pm)
        except IntegrityError:  # a twin request created it first
            pm = month_of(posyandu_id, month)
    if db.session.get_bind().dialect.name == "postgresql":
        pm = db.session.get(PosyanduMonth, pm.id, with_for_update=True, populate_existing=True)
    return pm


def first_month(posyandu_id: int) -> date | None:
    """The first month the Posyandu held a hari buka (months before it have nothing to report)."""
    first = db.session.scalar(select(HariBuka.held_on).where(HariBuka.posyandu_id == posyandu_id)
                              .order_by(HariBuka.held_on).limit(1))
    return month_start(first) if first is not None else None


def previous_open(posyandu_id: int, month: date) -> bool:
    """Whether the month before is still open (and the Posyandu was already reporting then)."""
    prev = shift_month(month, -1)
    first = first_month(posyandu_id)
    return first is not None and prev >= first and state_of(posyandu_id, prev) == "open"


def allowed(user: User, pm: PosyanduMonth | None, posyandu: Posyandu, month: date) -> list[str]:
    """The steps this user may take on the month now (scope is the caller's check)."""
    state = pm.state if pm is not None else "open"
    verify = settings_of(posyandu).verify
    return [a for a in dom.ACTIONS if dom.target(a, state, verify) and dom.role_may(user.role, a, state)
            and not (a == "submit" and user.role == "ketua" and user.posyandu_id != posyandu.id)]


def _step(actor: User, posyandu: Posyandu, month: date, action: str, reason: str | None = None,
          today: date | None = None) -> PosyanduMonth:
    month = month_start(month)
    today = today or local_date(utcnow())
    if month > month_start(today):
        raise MonthError("future")
    pm = _row(posyandu.id, month)
    state, verify = pm.state, settings_of(posyandu).verify
    to = dom.target(action, state, verify)
    if to is None:
        raise MonthError("state")
    if not dom.role_may(actor.role, action, state):
        raise MonthError("role")
    if action == "submit" and previous_open(posyandu.id, month):
        raise MonthError("previous_open")
    reason = (reason or "").strip() or None
    if action == "reopen" and not reason:
        raise MonthError("reason")
    acting(db.session, actor)
    now = utcnow()
    event = MonthEvent(posyandu_month=pm, action=action, from_state=state, to_state=to, actor_id=actor.id, at=now,
                       reason=reason)
    db.session.add(event)
    if action == "submit":
        pm.submitted_at, pm.submitted_by_id = now, actor.id
        if pm.first_submitted_at is None:
            pm.first_submitted_at = now
            pm.on_time = dom.on_time(local_date(now), month, settings_of(posyandu).timely_days)
    elif action == "verify":
        pm.verified_at, pm.verified_by_id = now, actor.id
    elif action == "approve":
        pm.approved_at, pm.approved_by_id = now, actor.id
        snapshot = month_snapshot.build(posyandu.id, month)
        pm.snapshot, pm.snapshot_sha256 = snapshot, month_snapshot.digest(snapshot)
    elif action == "reopen":
        event.snapshot_sha256 = pm.snapshot_sha256
        pm.snapshot, pm.snapshot_sha256 = None, None
        pm.verified_at = pm.verified_by_id = pm.approved_at = pm.approved_by_id = None
    pm.state = to
    db.session.flush()
    return pm


def submit(actor: User, posyandu: Posyandu, month: date, today: date | None = None) -> PosyanduMonth:
    return _step(actor, posyandu, month, "submit", today=today)


def verify(actor: User, posyandu: Posyandu, month: date, today: date | None = None) -> PosyanduMonth:
    return _step(actor, posyandu, month, "verify", today=today)


def approve(actor: User, posyandu: Posyandu, month: date, today: date | None = None) -> PosyanduMonth:
    return _step(actor, posyandu, month, "approve", today=today)


def reopen(actor: User, posyandu: Posyandu, month: date, reason: str, today: date | None = None) -> PosyanduMonth:
    """Send a month back to open (a submitted month for correction, or a closed one), with a reason."""
    return _step(actor, posyandu, month, "reopen", reason, today=today)


def approved_ids(posyandu_ids, month: date) -> set[int]:
    """The Posyandu among `posyandu_ids` (a select or a collection) whose month is approved."""
    return set(db.session.scalars(select(PosyanduMonth.posyandu_id).where(
        PosyanduMonth.posyandu_id.in_(posyandu_ids), PosyanduMonth.month == month_start(month),
        PosyanduMonth.state == "approved")))


def snapshots(posyandu_ids, month: date) -> dict[int, dict]:
    """The whole stored snapshots of the approved months among `posyandu_ids`."""
    return month_snapshot.load(posyandu_ids, month)


def states(posyandu_ids, month: date) -> dict[int, PosyanduMonth]:
    """The month rows of these Posyandu (missing: open)."""
    return {pm.posyandu_id: pm for pm in db.session.scalars(select(PosyanduMonth).where(
        PosyanduMonth.posyandu_id.in_(posyandu_ids), PosyanduMonth.month == month_start(month)))}
