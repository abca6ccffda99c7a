"""Small counts for the home page, aggregated in SQL."""
from datetime import date, timedelta

from sqlalchemy import case, func, select

from ..extensions import db
from ..models import Person, Posyandu, Pregnancy, User
from . import scope
from .people import on_roll


def _months_before(on: date, months: int) -> date:
    y, m = divmod(on.year * 12 + on.month - 1 - months, 12)
    return date(y, m + 1, min(on.day, 28))


def group_counts(user: User, on: date) -> dict[str, int]:
    """How many people of each life-cycle group are registered in the user's scope (ibu hamil by pregnancy)."""
    b5, b19, b60 = _months_before(on, 60), _months_before(on, 19 * 12), _months_before(on, 60 * 12)
    row = db.session.execute(
        select(
            func.count(),
            func.sum(case((Person.birth_date > b5, 1), else_=0)),
            func.sum(case(((Person.birth_date <= b5) & (Person.birth_date > b19), 1), else_=0)),
            func.sum(case(((Person.birth_date <= b19) & (Person.birth_date > b60), 1), else_=0)),
            func.sum(case((Person.birth_date <= b60, 1), else_=0)),
        ).where(Person.posyandu_id.in_(scope.posyandu_ids(user)), on_roll(on))
    ).one()
    pregnant = db.session.scalar(
        select(func.count(func.distinct(Pregnancy.person_id))).join(Person)
        .where(Person.posyandu_id.in_(scope.posyandu_ids(user)), on_roll(on),
               Pregnancy.deleted_at.is_(None), Pregnancy.ended_on.is_(None),
               Pregnancy.hpht <= on, Pregnancy.hpht >= on - timedelta(weeks=44)))
    total, balita, remaja, dewasa, lansia = (int(v or 0) for v in row)
    return {"total": total, "ibu_hamil": pregnant, "balita": balita, "usia_sekolah_remaja": remaja,
            "dewasa": dewasa, "lansia": lansia}


def posyandu_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(scope.posyandu_ids(user))))
