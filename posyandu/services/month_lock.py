"""An approved month is frozen: no record of that Posyandu-month may be created, changed or deleted.

The service-layer half of the lock (the database half is a trigger on each table, see the migration
`month_close`): a flush listener looks at every session-day record about to be written — hari buka, duty, visit,
measurement, service, screening, home visit — works out its Posyandu and month (before and after the change) and
refuses the flush with `MonthClosed` when one of them is approved. Every path that writes through the ORM (forms,
imports, CLI, the sync to come) is covered, with a reason a person can read.
"""
from datetime import date

from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from ..domain.errors import Locked
from ..domain.reports import month_start
from ..models import Duty, HariBuka, HomeVisit, Measurement, Person, PosyanduMonth, ScreeningRecord, ServiceRecord, Visit


class MonthClosed(Locked):
    """A record of an approved (frozen) Posyandu-month was about to change."""

    def __init__(self, posyandu_id: int, month: date):
        super().__init__(f"posyandu {posyandu_id} month {month:%Y-%m} is approved and frozen")
        self.posyandu_id, self.month = posyandu_id, month
        self.code = "month_closed"


def _hari_buka(session, hari_buka_id):
    return session.get(HariBuka, hari_buka_id) if hari_buka_id is not None else None


def _visit_key(session, visit_id):
    visit = session.get(Visit, visit_id) if visit_id is not None else None
    hb = _hari_buka(session, visit.hari_buka_id) if visit is not None else None
    return (hb.posyandu_id, hb.held_on) if hb is not None else None


def _key(session, cls, values: dict):
    """(posyandu_id, day) of a record from its column values, or None when it cannot be placed."""
    if cls in (HariBuka, Measurement, HomeVisit):
        day = values.get({HariBuka: "held_on", Measurement: "measured_on", HomeVisit: "visited_on"}[cls])
        return (values.get("posyandu_id"), day)
    if cls in (Duty, Visit):
        hb = _hari_buka(session, values.get("hari_buka_id"))
        return (hb.posyandu_id, hb.held_on) if hb is not None else None
    if cls is ScreeningRecord:
        return _visit_key(session, values.get("visit_id"))
    if cls is ServiceRecord:
        placed = _visit_key(session, values.get("visit_id"))
        if placed is None:
            person = session.get(Person, values.get("person_id")) if values.get("person_id") else None
            placed = (person.posyandu_id, None) if person is not None else None
        return (placed[0], values.get("given_on")) if placed is not None else None
    return None


GUARDED = (HariBuka, Duty, Visit, Measurement, ServiceRecord, ScreeningRecord, HomeVisit)
_COLUMNS = ("posyandu_id", "held_on", "measured_on", "visited_on", "hari_buka_id", "visit_id", "person_id", "given_on")


def _values(obj, committed: bool) -> dict:
    state = inspect(obj)
    out = {}
    for name in _COLUMNS:
        if name not in state.mapper.columns:
            continue
        hist = state.attrs[name].history
        if committed:
            out[name] = hist.deleted[0] if hist.deleted else (hist.unchanged[0] if hist.unchanged else None)
        else:
            out[name] = getattr(obj, name)
    return out


def keys_of(session, objects) -> set[tuple[int, date]]:
    """The (Posyandu, first day of month) pairs the pending changes touch, old and new values alike."""
    keys = set()
    for obj, states in objects:
        for committed in states:
            key = _key(session, type(obj), _values(obj, committed))
            if key is not None and key[0] is not None and key[1] is not None:
                keys.add((key[0], month_start(key[1])))
    return keys


def frozen_among(session, keys: set[tuple[int, date]]) -> tuple[int, date] | None:
    """The first approved month among the pairs, if any."""
    if not keys:
        return None
    cond = or_(*(and_(PosyanduMonth.posyandu_id == p, PosyanduMonth.month == m) for p, m in keys))
    row = session.execute(select(PosyanduMonth.posyandu_id, PosyanduMonth.month)
                          .where(PosyanduMonth.state == "approved", cond).limit(1)).first()
    return (row[0], row[1]) if row is not None else None


def is_frozen(session, posyandu_id: int, day: date) -> bool:
    return frozen_among(session, {(posyandu_id, month_start(day))}) is not None


def assert_open(session, posyandu_id: int, day: date) -> None:
    """Raise MonthClosed when the Posyandu's month of `day` is approved (for a check before work starts)."""
    if is_frozen(session, posyandu_id, day):
        raise MonthClosed(posyandu_id, month_start(day))


@event.listens_for(Session, "before_flush")
def _refuse_frozen(session, flush_context, instances):
    pending = []
    for obj in session.new:
        if isinstance(obj, GUARDED):
            pending.append((obj, (False,)))
    for obj in session.dirty:
        if isinstance(obj, GUARDED) and session.is_modified(obj, include_collections=False):
            pending.append((obj, (True, False)))
    for obj in session.deleted:
        if isinstance(obj, GUARDED):
            pending.append((obj, (True,)))
    if not pending:
        return
    with session.no_autoflush:
        hit = frozen_among(session, keys_of(session, pending))
    if hit is not None:
        raise MonthClosed(*hit)
