"""Small counts for the home page, aggregated in SQL.

The life-cycle counts of a district read every person of it (276 000 at the demo scale: a tenth of a second or
more on every visit of the home page). They are kept per database, scope and day, and used again while nobody
has registered, changed, left or deleted a person or a pregnancy since: the newest `updated_at` and id of both
tables (two index look-ups) say so. A transaction that commits after a later one may stamp an older time; the
counts then wait at most CACHE_SECONDS to catch up."""
import time
import weakref
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Person, Posyandu, Pregnancy, User
from . import scope
from .people import on_roll

CACHE_SECONDS = 120
CACHE_ENTRIES = 256  # scopes × days kept per database
_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # engine → {key: (monotonic time, counts)}


def _months_before(on: date, months: int) -> date:
    y, m = divmod(on.year * 12 + on.month - 1 - months, 12)
    return date(y, m + 1, min(on.day, 28))


def _stamp() -> tuple:
    """What changes whenever a person or a pregnancy is written (ix_person_updated_at, ix_pregnancy_updated_at)."""
    return tuple(db.session.execute(select(
        select(func.max(Person.updated_at)).scalar_subquery(), select(func.max(Person.id)).scalar_subquery(),
        select(func.max(Pregnancy.updated_at)).scalar_subquery(),
        select(func.max(Pregnancy.id)).scalar_subquery())).one())


def group_counts(user: User, on: date) -> dict[str, int]:
    """How many people of each life-cycle group are registered in the user's scope (ibu hamil by pregnancy)."""
    ids = tuple(sorted(db.session.scalars(scope.posyandu_ids(user))))
    key = (ids, on, _stamp())
    kept = _cache.setdefault(db.engine, {})
    hit = kept.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return dict(hit[1])
    counts = count_groups(ids, on)
    if len(kept) >= CACHE_ENTRIES:
        kept.clear()
    kept[key] = (now, counts)
    return dict(counts)


def count_groups(posyandu_ids, on: date) -> dict[str, int]:
    """The counts themselves: the people on the roll by age (from ix_person_roll alone), and the people with a
    pregnancy going on (from the pregnancies by HPHT)."""
    b5, b19, b60 = _months_before(on, 60), _months_before(on, 19 * 12), _months_before(on, 60 * 12)
    ids = list(posyandu_ids)
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((Person.birth_date > b5, 1), else_=0)),
            func.sum(case(((Person.birth_date <= b5) & (Person.birth_date > b19), 1), else_=0)),
            func.sum(case(((Person.birth_date <= b19) & (Person.birth_date > b60), 1), else_=0)),
            func.sum(case((Person.birth_date <= b60, 1), else_=0)),
        ).where(Person.posyandu_id.in_(ids), on_roll(on))
    ).one()
    pregnant = db.session.scalar(
        select(func.count(func.distinct(Pregnancy.person_id))).join(Person)
        .where(Person.posyandu_id.in_(ids), on_roll(on),
               Pregnancy.deleted_at.is_(None), Pregnancy.ended_on.is_(None),
               Pregnancy.hpht <= on, Pregnancy.hpht >= on - timedelta(weeks=44)))
    total, balita, remaja, dewasa, lansia = (int(v or 0) for v in row)
    return {"total": total, "ibu_hamil": pregnant, "balita": balita, "usia_sekolah_remaja": remaja,
            "dewasa": dewasa, "lansia": lansia}


def posyandu_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(scope.posyandu_ids(user))))
