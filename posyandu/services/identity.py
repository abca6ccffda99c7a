"""One person, one record across Posyandu: transfers (pindah) and merging two records of the same person.

Takes the acting user explicitly; never reads request. Every change goes through the audit flush listener.
"""
from datetime import date

from sqlalchemy import and_, func, or_, select

from ..domain.errors import Conflict, DomainError
from ..domain.identity import TRANSFER_APPROVED, TRANSFER_REJECTED, TRANSFER_REQUESTED
from ..extensions import db
from ..models import (AuditLog, HomeVisit, Measurement, Person, PersonTransfer, Pregnancy, ScreeningRecord,
                      ServiceRecord, User, Visit)
from ..models.base import utcnow
from . import scope
from .audit import acting
from .people import PERSON_FIELDS, live_with_nik

# Who decides a transfer for the sending Posyandu, and who may merge two records.
DECIDERS = ("ketua", "kelurahan_clerk", "district_admin")
MERGERS = ("kelurahan_clerk", "district_admin")


class TransferProblem(DomainError):
    """A transfer that cannot be asked or decided; the message code says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code  # no_person | same_posyandu


def in_scope(user: User, posyandu_id: int) -> bool:
    return posyandu_id in set(db.session.scalars(scope.posyandu_ids(user)))


def on_laptop() -> bool:
    """A Posyandu laptop (docs/sync.md) asks for transfers but never approves one nor merges two people: both
    move history between Posyandu, which only the district server sees whole."""
    from ..sync.tracking import is_laptop

    return is_laptop()


def may_decide(user: User, transfer: PersonTransfer) -> bool:
    """The sending Posyandu's ketua, or the kelurahan or district above it (on the district server)."""
    return user.role in DECIDERS and not on_laptop() and in_scope(user, transfer.from_posyandu_id)


def request_transfer(actor: User, nik: str, to_posyandu_id: int, moved_on: date, note: str | None) -> PersonTransfer:
    """The receiving Posyandu asks for the live person holding this NIK (see ask_transfer)."""
    return ask_transfer(actor, live_with_nik(nik), to_posyandu_id, moved_on, note)


def ask_transfer(actor: User | None, person: Person | None, to_posyandu_id: int, moved_on: date, note: str | None,
                 uuid: str | None = None) -> PersonTransfer:
    """Ask for a person to move to the receiving Posyandu. A user who may decide for the sending Posyandu too (a
    kelurahan clerk moving within the kelurahan) moves the person at once; a laptop's request (actor None, its
    UUID) always waits for the server. An open request for the same person and Posyandu is returned, not
    repeated. Raises TransferProblem: no_person (none, or deleted), same_posyandu."""
    if person is None or person.deleted_at is not None:
        raise TransferProblem("no_person")
    if person.posyandu_id == to_posyandu_id:
        raise TransferProblem("same_posyandu")
    open_one = db.session.scalar(select(PersonTransfer).where(
        PersonTransfer.person_id == person.id, PersonTransfer.to_posyandu_id == to_posyandu_id,
        PersonTransfer.status == TRANSFER_REQUESTED))
    if open_one is not None:
        return open_one
    acting(db.session, actor)
    transfer = PersonTransfer(person_id=person.id, from_posyandu_id=person.posyandu_id,
                              to_posyandu_id=to_posyandu_id, moved_on=moved_on, note=note,
                              status=TRANSFER_REQUESTED)
    if uuid:
        transfer.uuid = uuid
    db.session.add(transfer)
    db.session.flush()
    if actor is not None and may_decide(actor, transfer):
        _approve(actor, transfer)
    db.session.flush()
    return transfer


def decide(actor: User, transfer: PersonTransfer, approve: bool) -> None:
    """Approve (the person moves, history and all) or reject an open request."""
    if transfer.status != TRANSFER_REQUESTED:
        return
    acting(db.session, actor)
    if approve:
        _approve(actor, transfer)
    else:
        transfer.status, transfer.decided_by_id, transfer.decided_at = TRANSFER_REJECTED, actor.id, utcnow()
    db.session.flush()


def _approve(actor: User, transfer: PersonTransfer) -> None:
    transfer.status, transfer.decided_by_id, transfer.decided_at = TRANSFER_APPROVED, actor.id, utcnow()
    transfer.person.posyandu_id = transfer.to_posyandu_id  # visits and measurements keep their own Posyandu


def transfers(user: User, limit: int = 100) -> list[PersonTransfer]:
    """Requests to or from the Posyandu in scope: open ones first, then the latest."""
    pos = scope.posyandu_ids(user)
    q = (select(PersonTransfer).where(or_(PersonTransfer.from_posyandu_id.in_(pos),
                                          PersonTransfer.to_posyandu_id.in_(pos)))
         .order_by((PersonTransfer.status == TRANSFER_REQUESTED).desc(), PersonTransfer.id.desc()).limit(limit))
    return list(db.session.scalars(q))


def open_requests_count(user: User) -> int:
    """Requests waiting for this user's decision."""
    if user.role not in DECIDERS:
        return 0
    return db.session.scalar(select(func.count()).where(
        PersonTransfer.status == TRANSFER_REQUESTED, PersonTransfer.from_posyandu_id.in_(scope.posyandu_ids(user))))


# --- merging ----------------------------------------------------------------------------------------------------

class MergeConflict(Conflict):
    """Both records visited the same hari buka: the two visits must be put right first."""


class MergeOnLaptop(MergeConflict):
    """Merging is done on the district server (by the kelurahan or the district), never on a laptop."""


def merge_candidates(user: User, person: Person) -> list[Person]:
    """Other records in scope that may be the same person: same NIK, same name, or same birth date and sex."""
    conds = [func.lower(Person.name) == person.name.strip().lower(),
             and_(Person.birth_date == person.birth_date, Person.sex == person.sex)]
    if person.nik:
        conds.append(Person.nik == person.nik)
    q = scope.people(user).where(Person.id != person.id, or_(*conds)).order_by(Person.name, Person.id).limit(20)
    return list(db.session.scalars(q))


# The records that belong to a person and move with a merge.
_HISTORY = (Measurement, Visit, ServiceRecord, ScreeningRecord, HomeVisit, Pregnancy, PersonTransfer)


def merge(actor: User, keep: Person, other: Person) -> None:
    """Fold `other` into `keep`: all of other's history moves to keep, keep's empty fields take other's values,
    other is removed with a pointer to keep. Audited row by row, plus a "merge" entry on keep."""
    if on_laptop():
        raise MergeOnLaptop()
    clash = db.session.scalar(select(func.count()).select_from(Visit).where(
        Visit.person_id == other.id, Visit.hari_buka_id.in_(select(Visit.hari_buka_id).where(
            Visit.person_id == keep.id))))
    if clash:
        raise MergeConflict()
    acting(db.session, actor)
    other.deleted_at, other.merged_into_id = utcnow(), keep.id
    db.session.flush()  # other leaves the live rows before keep may take its NIK
    for model in _HISTORY:
        for row in db.session.scalars(select(model).where(model.person_id == other.id)):
            row.person_id = keep.id
    for child in db.session.scalars(select(Person).where(Person.mother_id == other.id)):
        child.mother_id = keep.id
    for k in PERSON_FIELDS:
        if k != "posyandu_id" and getattr(keep, k) in (None, "") and getattr(other, k) not in (None, ""):
            setattr(keep, k, getattr(other, k))
    db.session.add(AuditLog(actor_id=actor.id, action="merge", entity="person", entity_id=keep.id,
                            changes={"merged_from": [None, other.id]}))
    db.session.flush()
