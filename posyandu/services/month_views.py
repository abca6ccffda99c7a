"""What the month-close pages read: what is missing before a Posyandu sends its month, the timeline, and the
reporting and on-time rates of an area — aggregated in SQL (one query per page part, not one per Posyandu).

Read-only; the steps themselves are services.months.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, case, func, literal, select

from ..domain import months as dom
from ..domain.reports import month_end, month_start, shift_month
from ..extensions import db
from ..models import (District, HariBuka, Kecamatan, Kelurahan, Measurement, MonthEvent, Person, Posyandu,
                      PosyanduMonth, Puskesmas, User, Visit)
from . import months
from .reports import child_month

REPORTED = ("submitted", "verified", "approved")
MISSING_LIMIT = 50  # names shown per kind of missing item; the count is always the whole


# --- one Posyandu-month --------------------------------------------------------------------------------------

@dataclass
class Missing:
    """What is still missing in a month before it is sent (each list at most MISSING_LIMIT long)."""

    unmeasured: list  # (Person) balita of S without a weighing in the month
    unmeasured_total: int
    flagged: list  # (Measurement, Person, HariBuka | None) implausible values kept, to be checked again
    flagged_total: int
    open_days: list  # HariBuka of the month not closed

    @property
    def count(self) -> int:
        return self.unmeasured_total + self.flagged_total + len(self.open_days)


def missing(posyandu_id: int, month: date) -> Missing:
    """The month's gaps, by the report's own definitions: S without D (services.reports.child_month), the month's
    measurements marked implausible (Measurement.flagged with its check_note), and hari buka still open."""
    first, last = month_start(month), month_end(month)
    pos = select(Posyandu.id).where(Posyandu.id == posyandu_id)
    c = child_month(pos, first)
    not_weighed = (select(Person).join(c, c.c.person_id == Person.id).where(c.c.weighed.is_(None))
                   .order_by(Person.name, Person.id))
    unmeasured = list(db.session.scalars(not_weighed.limit(MISSING_LIMIT)))
    unmeasured_total = (len(unmeasured) if len(unmeasured) < MISSING_LIMIT else
                        db.session.scalar(select(func.count()).select_from(not_weighed.order_by(None).subquery())))
    in_month = and_(Measurement.posyandu_id == posyandu_id, Measurement.measured_on >= first,
                    Measurement.measured_on <= last, Measurement.flagged.is_(True))
    flagged = db.session.execute(
        select(Measurement, Person, HariBuka).join(Person, Person.id == Measurement.person_id)
        .outerjoin(Visit, Visit.id == Measurement.visit_id).outerjoin(HariBuka, HariBuka.id == Visit.hari_buka_id)
        .where(in_month, Person.deleted_at.is_(None)).order_by(Measurement.measured_on, Person.name)
        .limit(MISSING_LIMIT)).all()
    flagged_total = (len(flagged) if len(flagged) < MISSING_LIMIT else db.session.scalar(
        select(func.count()).select_from(Measurement).join(Person, Person.id == Measurement.person_id)
        .where(in_month, Person.deleted_at.is_(None))))
    open_days = list(db.session.scalars(select(HariBuka).where(
        HariBuka.posyandu_id == posyandu_id, HariBuka.held_on >= first, HariBuka.held_on <= last,
        HariBuka.closed_at.is_(None)).order_by(HariBuka.held_on)))
    return Missing(unmeasured, unmeasured_total, flagged, flagged_total, open_days)


@dataclass
class Step:
    event: MonthEvent
    actor: str | None


def timeline(pm: PosyanduMonth | None) -> list[Step]:
    """The month's steps, oldest first, with the names of who took them (one query)."""
    if pm is None:
        return []
    rows = db.session.execute(select(MonthEvent, User.display_name).outerjoin(User, User.id == MonthEvent.actor_id)
                              .where(MonthEvent.posyandu_month_id == pm.id).order_by(MonthEvent.id)).all()
    return [Step(e, name) for e, name in rows]


def month_list(posyandu_id: int, last: date, n: int = 12) -> list[tuple[date, PosyanduMonth | None]]:
    """The Posyandu's last `n` months ending with `last`, newest first, with their rows (missing: open)."""
    first = shift_month(last, -(n - 1))
    rows = {pm.month: pm for pm in db.session.scalars(select(PosyanduMonth).where(
        PosyanduMonth.posyandu_id == posyandu_id, PosyanduMonth.month >= first, PosyanduMonth.month <= last))}
    return [(m, rows.get(m)) for m in (shift_month(last, -k) for k in range(n))]


# --- an area: rates -----------------------------------------------------------------------------------------

@dataclass
class Rate:
    expected: int = 0
    reported: int = 0
    on_time: int = 0
    approved: int = 0

    def add(self, other: "Rate") -> None:
        self.expected += other.expected
        self.reported += other.reported
        self.on_time += other.on_time
        self.approved += other.approved

    @property
    def reported_pct(self) -> float | None:
        return 100 * self.reported / self.expected if self.expected else None

    @property
    def on_time_pct(self) -> float | None:
        return 100 * self.on_time / self.expected if self.expected else None


@dataclass
class Rates:
    whole: Rate
    kelurahan: list  # (id, name, Rate) by name
    puskesmas: list
    kecamatan: list
    levels: dict = field(default_factory=dict)


def _month_join(month: date):
    return and_(PosyanduMonth.posyandu_id == Posyandu.id, PosyanduMonth.month == month_start(month))


def active_in(pos: Select):
    return and_(Posyandu.id.in_(pos), Posyandu.active.is_(True))


def rates(pos: Select, month: date) -> Rates:
    """Reporting and on-time rates of the active Posyandu among `pos` (a select of ids within the user's scope):
    counted per kelurahan in one grouped query, summed up to Puskesmas, kecamatan and the whole in Python.
    Expected: active Posyandu; reported: submitted or later; on time: reported and first sent by the deadline."""
    reported = PosyanduMonth.state.in_(REPORTED)
    rows = db.session.execute(
        select(Kelurahan.id, Kelurahan.name, Puskesmas.id, Puskesmas.name, Kecamatan.id, Kecamatan.name,
               func.count(Posyandu.id),
               func.coalesce(func.sum(case((reported, 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(reported, PosyanduMonth.on_time.is_(True)), 1), else_=0)), 0),
               func.coalesce(func.sum(case((PosyanduMonth.state == "approved", 1), else_=0)), 0))
        .select_from(Posyandu).join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id)
        .join(Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id)
        .outerjoin(Puskesmas, Puskesmas.id == Kelurahan.puskesmas_id)
        .outerjoin(PosyanduMonth, _month_join(month))
        .where(active_in(pos))
        .group_by(Kelurahan.id, Kelurahan.name, Puskesmas.id, Puskesmas.name, Kecamatan.id, Kecamatan.name)).all()
    whole = Rate()
    by = {"kelurahan": {}, "puskesmas": {}, "kecamatan": {}}
    for kel_id, kel, pkm_id, pkm, kec_id, kec, *counts in rows:
        r = Rate(*(int(v) for v in counts))
        whole.add(r)
        for level, key, name in (("kelurahan", kel_id, kel), ("puskesmas", pkm_id, pkm), ("kecamatan", kec_id, kec)):
            if key is None:
                continue
            by[level].setdefault(key, (name, Rate()))[1].add(r)

    def listed(level):
        return sorted(((k, name, r) for k, (name, r) in by[level].items()), key=lambda x: (x[1], x[0]))
    return Rates(whole, listed("kelurahan"), listed("puskesmas"), listed("kecamatan"))


def not_reported(pos: Select, month: date, limit: int = 500) -> list[tuple]:
    """Active Posyandu among `pos` that have not reported the month: (id, name, kelurahan, state), by kelurahan."""
    return db.session.execute(
        select(Posyandu.id, Posyandu.name, Kelurahan.name, func.coalesce(PosyanduMonth.state, literal("open")))
        .join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id).outerjoin(PosyanduMonth, _month_join(month))
        .where(active_in(pos), func.coalesce(PosyanduMonth.state, literal("open")).not_in(REPORTED))
        .order_by(Kelurahan.name, Posyandu.name, Posyandu.id).limit(limit)).all()


def to_act(user: User, pos: Select, month: date, limit: int = 200) -> list[tuple]:
    """Posyandu among `pos` waiting for this user's level: submitted ones for a nakes (when the district verifies),
    ready for approval for a clerk; (id, name, kelurahan, state)."""
    if user.role == "nakes":
        waiting = [PosyanduMonth.state == "submitted"]
    elif user.role in ("kelurahan_clerk", "district_admin"):
        verify = db.session.scalar(select(District.month_verify).where(District.id == user.district_id))
        waiting = [PosyanduMonth.state.in_(("verified",) if verify else ("submitted", "verified"))]
    else:
        return []
    return db.session.execute(
        select(Posyandu.id, Posyandu.name, Kelurahan.name, PosyanduMonth.state)
        .join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id).join(PosyanduMonth, _month_join(month))
        .where(active_in(pos), *waiting).order_by(Kelurahan.name, Posyandu.name).limit(limit)).all()


# --- the installation: status lines for the CLI --------------------------------------------------------------

def status_lines(month: date, district_id: int | None = None) -> list[tuple[int, str, str, datetime | None, bool | None]]:
    """(Posyandu id, name, state, submitted at (UTC), on time) of every active Posyandu (of one district), by id."""
    q = (select(Posyandu.id, Posyandu.name, func.coalesce(PosyanduMonth.state, literal("open")),
                PosyanduMonth.submitted_at, PosyanduMonth.on_time)
         .outerjoin(PosyanduMonth, _month_join(month)).where(Posyandu.active.is_(True)).order_by(Posyandu.id))
    if district_id is not None:
        q = (q.join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id)
             .join(Kecamatan, Kecamatan.id == Kelurahan.kecamatan_id).where(Kecamatan.district_id == district_id))
    return [tuple(r) for r in db.session.execute(q).all()]


def due_month(today: date) -> date:
    """The month whose report is due now: the one before today's month."""
    return shift_month(today, -1)


def deadline_of(posyandu: Posyandu, month: date) -> date:
    return dom.deadline(month_start(month), months.settings_of(posyandu).timely_days)

