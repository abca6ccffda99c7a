"""Registering, changing and removing sasaran. Takes the acting user explicitly; never reads request."""
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from datetime import date

from sqlalchemy import and_, bindparam, func, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from ..domain.errors import Conflict
from ..domain.identity import TRANSFER_APPROVED
from ..domain.lifecycle import group_for, hpl_from_hpht, pregnancy_is_active
from ..extensions import db
from ..models import Person, PersonTransfer, Posyandu, Pregnancy, User
from ..models.base import utcnow
from ..parsing import is_digits
from . import idempotency, scope
from .audit import acting

PERSON_FIELDS = (
    "posyandu_id", "nik", "kk_number", "name", "sex", "birth_date", "birth_place", "address", "rt", "rw",
    "phone", "mother_id", "father_name", "father_nik", "birth_order", "birth_weight_kg", "birth_length_cm",
    "has_kia_book", "consent", "consent_by",
)


class NikTaken(Conflict):
    """The NIK already belongs to a live person somewhere in the installation."""


def live() -> object:
    """A person who is not deleted and has not left the roll."""
    return and_(Person.deleted_at.is_(None), Person.left_on.is_(None))


def on_roll(first_day: date):
    """On the roll in the period from first_day (a report month's first day, or today): not deleted, and not
    left before it — someone who left in March still counts in February. domain.identity.on_roll, in SQL."""
    return and_(Person.deleted_at.is_(None), or_(Person.left_on.is_(None), Person.left_on > first_day))


@dataclass
class Match:
    """A live person who is probably the one being registered; `visible` when inside the user's scope (else the
    page shows only the name's initial and "registered at another Posyandu")."""

    person: Person
    visible: bool
    same_nik: bool


def likely_duplicates(user: User, data: dict, exclude_id: int | None = None) -> list[Match]:
    """Live people anywhere in the installation who are probably this person: same NIK, or same name and birth
    date, or same mother and birth date. Same-NIK matches first."""
    conds = [and_(func.lower(Person.name) == data["name"].strip().lower(), Person.birth_date == data["birth_date"])]
    nik = data.get("nik")
    if nik:
        conds.append(Person.nik == nik)
    if data.get("mother_id"):
        conds.append(and_(Person.mother_id == data["mother_id"], Person.birth_date == data["birth_date"]))
    visible = Person.posyandu_id.in_(scope.posyandu_ids(user))
    q = (select(Person, visible).where(live(), or_(*conds))
         .options(selectinload(Person.posyandu)).order_by(Person.name, Person.id).limit(10))
    if exclude_id:
        q = q.where(Person.id != exclude_id)
    out = [Match(p, bool(v), bool(nik) and p.nik == nik) for p, v in db.session.execute(q)]
    return sorted(out, key=lambda m: not m.same_nik)


def live_with_nik(nik: str | None, exclude_id: int | None = None) -> Person | None:
    """The live person holding this NIK, anywhere in the installation."""
    if not nik:
        return None
    q = select(Person).where(Person.nik == nik, live())
    if exclude_id:
        q = q.where(Person.id != exclude_id)
    return db.session.scalar(q.limit(1))


@dataclass
class Registered:
    person: Person
    repeated: bool = False  # True when this was a re-post of a form already handled


def register(actor: User, data: dict, pregnancy: dict | None, key: str | None) -> Registered:
    """Create a person (and a pregnancy for an ibu hamil) once per idempotency key. Raises NikTaken when the NIK
    is live elsewhere — also when a concurrent request registered it first (the unique index on live NIKs)."""
    earlier = idempotency.seen(key, user_id=actor.id, entity="person")
    if earlier is not None:
        return Registered(db.session.get(Person, earlier.entity_id), repeated=True)
    acting(db.session, actor)
    try:  # in a savepoint: a twin that won the race undoes only this attempt, not the caller's unit of work
        with db.session.begin_nested():
            person = Person(**{k: data.get(k) for k in PERSON_FIELDS})
            db.session.add(person)
            if pregnancy and pregnancy.get("hpht"):
                person.pregnancies.append(_pregnancy(pregnancy))
            row = idempotency.claim(key, actor.id, "person")
            db.session.flush()
            if row is not None:
                row.entity_id = person.id
                db.session.flush()
    except IntegrityError:
        twin = idempotency.seen(key, user_id=actor.id, entity="person")
        if twin is None:
            if live_with_nik(data.get("nik")) is not None:
                raise NikTaken() from None
            raise
        return Registered(db.session.get(Person, twin.entity_id), repeated=True)
    return Registered(person)


def _pregnancy(data: dict) -> Pregnancy:
    return Pregnancy(hpht=data["hpht"], hpl=data.get("hpl") or hpl_from_hpht(data["hpht"]),
                     gravida=data.get("gravida"), para=data.get("para"), abortus=data.get("abortus"))


def update(actor: User, person: Person, data: dict) -> Person:
    """Change a person's fields; the audit trail keeps the old values. A change of Posyandu is a transfer dated
    today (approved at once: only a user who sees both Posyandu can choose the new one). Raises NikTaken."""
    acting(db.session, actor)
    try:  # in a savepoint, so a NIK taken meanwhile undoes only this change and can be told apart
        with db.session.begin_nested():
            moved_from = person.posyandu_id
            for k in PERSON_FIELDS:
                if k in data:
                    setattr(person, k, data[k])
            if person.posyandu_id != moved_from:
                db.session.add(PersonTransfer(person_id=person.id, from_posyandu_id=moved_from,
                                              to_posyandu_id=person.posyandu_id, moved_on=date.today(),
                                              status=TRANSFER_APPROVED, decided_by_id=actor.id, decided_at=utcnow()))
            db.session.flush()
    except IntegrityError:
        if live_with_nik(data.get("nik"), exclude_id=person.id) is not None:
            raise NikTaken() from None
        raise
    return person


def leave(actor: User, person: Person, reason: str, on: date, note: str | None) -> None:
    """Take a person off the roll (moved away, died, no longer a sasaran) from a date; lists and reports from
    that month on leave them out, earlier months still count them."""
    acting(db.session, actor)
    person.left_on, person.left_reason, person.left_note = on, reason, note
    db.session.flush()


def rejoin(actor: User, person: Person) -> None:
    """Undo a leave (entered in error, or the person came back). Raises NikTaken if the NIK went live again."""
    if live_with_nik(person.nik, exclude_id=person.id) is not None:
        raise NikTaken()
    acting(db.session, actor)
    try:
        with db.session.begin_nested():
            person.left_on = person.left_reason = person.left_note = None
            db.session.flush()
    except IntegrityError:
        raise NikTaken() from None


def soft_delete(actor: User, person: Person) -> None:
    """Hide a person from lists; the record and its history stay."""
    acting(db.session, actor)
    person.deleted_at = utcnow()
    db.session.flush()


def add_pregnancy(actor: User, person: Person, data: dict) -> Pregnancy:
    acting(db.session, actor)
    preg = _pregnancy(data)
    person.pregnancies.append(preg)
    db.session.flush()
    return preg


def end_pregnancy(actor: User, preg: Pregnancy, ended_on: date, outcome: str) -> None:
    acting(db.session, actor)
    preg.ended_on, preg.outcome = ended_on, outcome
    db.session.flush()


def active_pregnancy(person: Person, on: date) -> Pregnancy | None:
    for p in person.pregnancies:
        if p.deleted_at is None and pregnancy_is_active(p.hpht, p.ended_on, on):
            return p
    return None


def group_of(person: Person, on: date) -> str:
    """The person's life-cycle group on a date."""
    delivered = max((p.ended_on for p in person.pregnancies if p.ended_on and p.deleted_at is None), default=None)
    return group_for(person.birth_date, on, active_pregnancy(person, on) is not None, delivered)


_MOTHER = aliased(Person, name="mother")  # made once: a fresh alias per query costs SQLAlchemy work each time


@dataclass
class Page:
    """One page of the people list: the people, whether more follow, and which of their mothers the user may see
    (a mother registered at a Posyandu outside the scope is shown by initial only)."""

    rows: list[Person]
    more: bool
    visible_mothers: set[int]


def search(user: User, text: str, page: int, per_page: int,
           posyandu_id: int | None = None) -> tuple[list[Person], bool]:
    """People in scope (of one Posyandu, if given) whose name, NIK or mother's name contains the text;
    (rows, has_more). The plain list is the roll of today; a search also finds those who left (their page says so)."""
    result = search_page(user, text, page, per_page, posyandu_id)
    return result.rows, result.more


def search_page(user: User, text: str, page: int, per_page: int, posyandu_id: int | None = None) -> Page:
    """`search`, in two queries instead of five: the page of people with their mother, their Posyandu and whether
    the user may see the mother, all joined to just that page's ids; then their pregnancies (for the life-cycle
    group)."""
    ids, params = _page_ids(user, text, page, per_page, posyandu_id)
    mother = _MOTHER
    rows = db.session.execute(
        select(Person, mother.posyandu_id.in_(scope.posyandu_ids(user)))
        .join(ids, ids.c.id == Person.id).outerjoin(mother, Person.mother_id == mother.id)
        .options(contains_eager(Person.mother.of_type(mother)), joinedload(Person.posyandu, innerjoin=True),
                 selectinload(Person.pregnancies))
        .order_by(Person.name, Person.id), params).all()
    visible = {p.mother_id for p, seen in rows[:per_page] if p.mother_id and seen}
    return Page([p for p, _ in rows[:per_page]], len(rows) > per_page, visible)


@dataclass
class Listing:
    """One page of the people list as it shows it: rows (id, name, sex, nik, left_on, left_reason, birth_date,
    mother_id, mother_name, posyandu_name), whether more follow, which of their mothers the user may see, and each
    person's life-cycle group on the day."""

    rows: list
    more: bool
    visible_mothers: set[int]
    groups: dict[int, str]


def list_page(user: User, text: str, page: int, per_page: int, on: date) -> Listing:
    """`search_page` for the people list, which only displays: the columns it shows as rows, not ORM objects (a
    person, her mother and her Posyandu each built and tracked per row), then the page's pregnancies for the
    groups. Read on the session's connection, past the ORM's execute path (~90 µs a statement)."""
    ids, params = _page_ids(user, text, page, per_page, None)
    mother = _MOTHER
    read = db.session.connection()
    rows = read.execute(
        select(Person.id, Person.name, Person.sex, Person.nik, Person.left_on, Person.left_reason, Person.birth_date,
               Person.mother_id, mother.name.label("mother_name"), Posyandu.name.label("posyandu_name"),
               mother.posyandu_id.in_(scope.posyandu_ids(user)).label("mother_seen"))
        .join(ids, ids.c.id == Person.id).join(Posyandu, Posyandu.id == Person.posyandu_id)
        .outerjoin(mother, Person.mother_id == mother.id)
        .order_by(Person.name, Person.id), params).all()
    rows, more = rows[:per_page], len(rows) > per_page
    return Listing(rows, more, {r.mother_id for r in rows if r.mother_id and r.mother_seen}, groups_of(rows, on))


def groups_of(rows, on: date) -> dict[int, str]:
    """{id: life-cycle group on a date} of people read as rows (with id and birth_date), as group_of finds it,
    from their pregnancies read as rows on the session's connection."""
    pregnancies: dict[int, list] = {}
    if rows:
        for pid, hpht, ended_on in db.session.connection().execute(
                select(Pregnancy.person_id, Pregnancy.hpht, Pregnancy.ended_on)
                .where(Pregnancy.person_id.in_([r.id for r in rows]), Pregnancy.deleted_at.is_(None))):
            pregnancies.setdefault(pid, []).append((hpht, ended_on))
    groups = {}
    for r in rows:
        own = pregnancies.get(r.id, ())
        groups[r.id] = group_for(r.birth_date, on, any(pregnancy_is_active(h, e, on) for h, e in own),
                                 max((e for _, e in own if e), default=None))
    return groups


def _page_ids(user: User, text: str, page: int, per_page: int, posyandu_id: int | None):
    """The ids of one page of people in scope (of one Posyandu, if given) matching the text, one more than a page
    to tell whether more follow, as a subquery; and its parameters."""
    q = select(Person.id).where(Person.posyandu_id.in_(scope.posyandu_ids(user)), Person.deleted_at.is_(None))
    if posyandu_id is not None:
        q = q.where(Person.posyandu_id == posyandu_id)
    text = unicodedata.normalize("NFC", (text or "").strip())
    if not text or posyandu_id is not None:  # meja 1 queues only people on the roll
        q = q.where(on_roll(date.today()))
    if text:
        like = "%" + _escape_like(text.lower()) + "%"
        conds = [func.lower(Person.name).like(like, escape="\\"), func.lower(_MOTHER.name).like(like, escape="\\")]
        if is_digits(text):
            conds.append(Person.nik.like(f"{text}%"))
        q = q.outerjoin(_MOTHER, Person.mother_id == _MOTHER.id).where(or_(*conds))
    merged = _roll_page_by_posyandu(user, page, per_page) if not text and posyandu_id is None else None
    return merged or (q.order_by(Person.name, Person.id).offset((page - 1) * per_page).limit(per_page + 1).subquery(),
                      {})


# Up to this many rows read for one page of the roll by merging each Posyandu's names (see below); past it (a
# deep page of a district) the plain sort is as cheap.
MERGE_ROWS = 4000


def _roll_page_by_posyandu(user: User, page: int, per_page: int):
    """The ids of one page of today's roll in scope, by name, as the first rows of each Posyandu's name index
    merged (a UNION ALL of one short ordered read per Posyandu): the clerk's first page reads ~26 index rows per
    Posyandu instead of sorting the kelurahan's ~18 000 people at 150 000 children. None when too many rows would
    be merged; the caller sorts as before."""
    pids = list(db.session.scalars(scope.posyandu_ids(user)))
    if not pids or len(pids) * (page * per_page + 1) > MERGE_ROWS:
        return None
    params = {f"pid_{i}": pid for i, pid in enumerate(pids)}
    params["today"] = date.today()
    return _merged_roll(len(pids), page, per_page), params


@lru_cache(maxsize=256)
def _merged_roll(n: int, page: int, per_page: int):
    """The statement of `_roll_page_by_posyandu` for n Posyandu (:pid_0 … and :today), built once: making it
    afresh cost a tenth of the page."""
    window = page * per_page + 1
    parts = [select(Person.id, Person.name).where(Person.posyandu_id == bindparam(f"pid_{i}"),
                                                  Person.deleted_at.is_(None), on_roll(bindparam("today")))
             .order_by(Person.name, Person.id).limit(window).subquery() for i in range(n)]
    merged = union_all(*[select(part.c.id, part.c.name) for part in parts]).subquery()
    return (select(merged.c.id).order_by(merged.c.name, merged.c.id).offset((page - 1) * per_page)
            .limit(per_page + 1).subquery())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def visible_ids(user: User, ids) -> set[int]:
    """Which of these people the user may see (e.g. the mothers shown beside children)."""
    ids = {i for i in ids if i}
    if not ids:
        return set()
    return set(db.session.scalars(select(Person.id).where(Person.id.in_(ids),
                                                          Person.posyandu_id.in_(scope.posyandu_ids(user)))))


def find_by_nik_in_scope(user: User, nik: str) -> Person | None:
    return db.session.scalar(scope.people(user).where(Person.nik == nik).limit(1))


def get_mother(user: User, mother_id) -> Person | None:
    """A woman in the user's scope, by id (from the hidden field of the registration form)."""
    try:
        mother_id = int(mother_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(scope.people(user).where(Person.id == mother_id, Person.sex == "P"))
