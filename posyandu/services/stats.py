"""Small counts for the home page, aggregated in SQL.

The life-cycle counts of a district read every person of it (276 000 at the demo scale: a tenth of a second or
more on every visit of the home page). They are kept per Posyandu and day under the Posyandu's change token
(services.changes) and counted again for a Posyandu as soon as a commit changes one of its records."""
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Person, Posyandu, Pregnancy, User
from . import changes, scope
from .people import on_roll

GROUPS = ("total", "ibu_hamil", "balita", "usia_sekolah_remaja", "dewasa", "lansia")


def _months_before(on: date, months: int) -> date:
    y, m = divmod(on.year * 12 + on.month - 1 - months, 12)
    return date(y, m + 1, min(on.day, 28))


def group_counts(user: User, on: date) -> dict[str, int]:
    """How many people of each life-cycle group are registered in the user's scope (ibu hamil by pregnancy)."""
    per = changes.kept("home", (on,), scope.posyandu_ids(user), lambda stale: counts_by_posyandu(stale, on))
    return {g: sum(c[g] for c in per.values()) for g in GROUPS}


def count_groups(posyandu_ids, on: date) -> dict[str, int]:
    """The counts of these Posyandu together, counted now."""
    per = counts_by_posyandu(posyandu_ids, on).values()
    return {g: sum(c[g] for c in per) for g in GROUPS}


def counts_by_posyandu(posyandu_ids, on: date) -> dict[int, dict[str, int]]:
    """The counts per Posyandu: the people on the roll by age (from ix_person_roll alone), and the people with a
    pregnancy going on (from the pregnancies by HPHT). Every Posyandu asked has its counts, zeros included."""
    b5, b19, b60 = _months_before(on, 60), _months_before(on, 19 * 12), _months_before(on, 60 * 12)
    ids = list(posyandu_ids)
    rows = db.session.execute(
        select(
            Person.posyandu_id,
            func.count(),
            func.sum(case((Person.birth_date > b5, 1), else_=0)),
            func.sum(case(((Person.birth_date <= b5) & (Person.birth_date > b19), 1), else_=0)),
            func.sum(case(((Person.birth_date <= b19) & (Person.birth_date > b60), 1), else_=0)),
            func.sum(case((Person.birth_date <= b60, 1), else_=0)),
        ).where(Person.posyandu_id.in_(ids), on_roll(on)).group_by(Person.posyandu_id)).all()
    pregnant = dict(db.session.execute(
        select(Person.posyandu_id, func.count(func.distinct(Pregnancy.person_id))).join(Person)
        .where(Person.posyandu_id.in_(ids), on_roll(on),
               Pregnancy.deleted_at.is_(None), Pregnancy.ended_on.is_(None),
               Pregnancy.hpht <= on, Pregnancy.hpht >= on - timedelta(weeks=44))
        .group_by(Person.posyandu_id)).all())
    out = {pid: dict.fromkeys(GROUPS, 0) for pid in ids}
    for pid, *counts in rows:
        total, balita, remaja, dewasa, lansia = (int(v or 0) for v in counts)
        out[pid].update(total=total, balita=balita, usia_sekolah_remaja=remaja, dewasa=dewasa, lansia=lansia)
    for pid, n in pregnant.items():
        out[pid]["ibu_hamil"] = int(n)
    return out


def posyandu_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(scope.posyandu_ids(user))))
