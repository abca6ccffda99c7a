"""Changes to the organisation tree and to Posyandu board positions."""
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Kader, KaderRole, User
from .audit import acting


def save(actor: User, obj, data: dict):
    """Create or update a place from form data."""
    acting(db.session, actor)
    for k, v in data.items():
        setattr(obj, k, v)
    db.session.add(obj)
    db.session.flush()
    return obj


def board(posyandu_id: int, on: date) -> dict[str, KaderRole]:
    """Who holds each board position of a Posyandu on a date."""
    q = (select(KaderRole).join(Kader).where(KaderRole.posyandu_id == posyandu_id, KaderRole.role != "kader",
                                             KaderRole.start_date <= on,
                                             (KaderRole.end_date.is_(None)) | (KaderRole.end_date >= on)))
    return {r.role: r for r in db.session.scalars(q)}


def kader_of(posyandu_id: int, on: date) -> list[Kader]:
    """Kader with any current role in the Posyandu."""
    q = (select(Kader).join(KaderRole).where(KaderRole.posyandu_id == posyandu_id, Kader.deleted_at.is_(None),
                                             KaderRole.start_date <= on,
                                             (KaderRole.end_date.is_(None)) | (KaderRole.end_date >= on))
         .distinct().order_by(Kader.name))
    return list(db.session.scalars(q))


def assign_position(actor: User, posyandu_id: int, kader: Kader, position: str, start: date) -> KaderRole:
    """Give a board position to a kader from a date; whoever held it until then steps down the day before."""
    acting(db.session, actor)
    current = board(posyandu_id, start).get(position)
    if current is not None:
        if current.kader_id == kader.id:
            return current
        current.end_date = start if current.start_date >= start else date.fromordinal(start.toordinal() - 1)
    role = KaderRole(kader=kader, posyandu_id=posyandu_id, role=position, start_date=start)
    db.session.add(role)
    db.session.flush()
    return role


def add_kader(actor: User, posyandu_id: int, data: dict, start: date) -> Kader:
    """Enrol a kader in a Posyandu."""
    acting(db.session, actor)
    kader = Kader(**data)
    kader.roles.append(KaderRole(posyandu_id=posyandu_id, role="kader", start_date=start))
    db.session.add(kader)
    db.session.flush()
    return kader
