"""Flagged sync cases on the district: kept when a push is answered `edited_on_both` or `same_nik`, listed for the
kelurahan clerk and the district admin of the laptop's Posyandu, and resolved by them field by field.

A resolution is a normal server change of the person (a new server sequence, even when the server's values are
kept), so the laptop's next pull brings the decided record and its local copy leaves the `conflict` state. Both
sides' values stay in the case row, so nothing a laptop sent is dropped unseen. No Flask here: the views parse,
these functions decide, the view commits."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain import nik as nik_rules
from ..extensions import db
from ..models import Device, Person, Posyandu, SyncCase, SyncReceipt, User
from ..models.base import new_uuid, utcnow
from ..services import scope
from ..services.audit import acting
from . import records, tracking

ROLES = ("district_admin", "kelurahan_clerk")
KINDS = ("edited_on_both", "same_nik")
# What a clerk decides: the person's own fields (a deletion or leaving the roll is not a field to pick here).
DECIDABLE = tuple(f for f in records.PERSON_FIELDS if f not in ("deleted_at",))
CHOICES = ("server", "laptop", "typed")


# --- flagging (called by apply.py inside the push's transaction) --------------------------------------------------

def _open_case(kind: str, device_id: int, person_id: int) -> SyncCase | None:
    return db.session.scalar(select(SyncCase).where(SyncCase.kind == kind, SyncCase.device_id == device_id,
                                                    SyncCase.person_id == person_id, SyncCase.status == "open"))


def _keep(kind: str, device, person: Person, posyandu_id: int, ch: dict, fields: list, base: dict | None) -> None:
    """One open case per laptop, person and kind: a later push of the same record updates it."""
    server = records.to_data("person", person)
    laptop = dict(ch.get("data") or {})
    case = _open_case(kind, device.id, person.id)
    if case is None:
        case = SyncCase(kind=kind, device_id=device.id, person_id=person.id, posyandu_id=posyandu_id)
        db.session.add(case)
    case.change_id, case.laptop_uuid = ch["id"], ch["uuid"]
    case.base_seq = ch.get("base") if isinstance(ch.get("base"), int) else 0
    case.fields, case.server, case.laptop, case.base = fields, server, laptop, base
    case.device_time = str(ch.get("at") or "")[:32] or None
    case.updated_at = utcnow()
    acting(db.session, None)
    db.session.flush()


def flag_edited_on_both(device, ch: dict, both: list) -> None:
    """A person's field changed on the laptop and here: keep both sides (nothing of the change was applied).
    The fields to decide are those in conflict and the laptop's other changed fields (not applied either)."""
    person = db.session.scalar(select(Person).where(Person.uuid == ch["uuid"]))
    if person is None:
        return
    changed = {k: v for k, v in (ch.get("changed") or {}).items() if k in DECIDABLE}
    current = records.to_data("person", person)
    data = ch.get("data") or {}
    fields = [k for k in DECIDABLE if k in changed and k in data and current.get(k) != data.get(k)]
    for k in both:
        if k in DECIDABLE and k not in fields:
            fields.append(k)
    _keep("edited_on_both", device, person, person.posyandu_id, ch, fields, changed)


def flag_same_nik(device, ch: dict, server_uuid: str) -> None:
    """A new person registered on the laptop whose NIK the server already held: one person for now, both
    registrations kept for the clerk to confirm (or to part, when the NIK was wrong)."""
    person = db.session.scalar(select(Person).where(Person.uuid == server_uuid))
    data = ch.get("data") or {}
    posyandu = db.session.scalar(select(Posyandu).where(Posyandu.uuid == data.get("posyandu")))
    if person is None or posyandu is None:
        return
    current = records.to_data("person", person)
    fields = [k for k in DECIDABLE if k in data and current.get(k) != data.get(k)]
    _keep("same_nik", device, person, posyandu.id, ch, fields, None)


# --- reading ----------------------------------------------------------------------------------------------------

def _in_scope(user: User):
    return SyncCase.posyandu_id.in_(scope.posyandu_ids(user))


def open_count(user: User) -> int:
    """How many open cases the user may resolve (the menu's count)."""
    if user.role not in ROLES:
        return 0
    return db.session.scalar(select(func.count()).select_from(SyncCase)
                             .where(SyncCase.status == "open", _in_scope(user))) or 0


def open_cases(user: User) -> list[SyncCase]:
    """The open cases in the user's scope, oldest first."""
    if user.role not in ROLES:
        return []
    return list(db.session.scalars(select(SyncCase).where(SyncCase.status == "open", _in_scope(user))
                                   .order_by(SyncCase.created_at, SyncCase.id)))


def recently_resolved(user: User, limit: int = 20) -> list[SyncCase]:
    if user.role not in ROLES:
        return []
    return list(db.session.scalars(select(SyncCase).where(SyncCase.status == "resolved", _in_scope(user))
                                   .order_by(SyncCase.resolved_at.desc()).limit(limit)))


def get(user: User, case_id: int) -> SyncCase | None:
    """A case in the user's scope, or None (404)."""
    if user.role not in ROLES:
        return None
    return db.session.scalar(select(SyncCase).where(SyncCase.id == case_id, _in_scope(user)))


def person_of(case: SyncCase) -> Person:
    return db.session.get(Person, case.person_id)


@dataclass
class Side:
    """One registration as the same_nik page shows it."""
    name: str | None
    birth_date: str | None
    sex: str | None
    nik: str | None
    mother: str | None
    posyandu: str | None
    where: str  # who registered it: an account's name, or a laptop's
    by_device: bool  # registered on a laptop (pushed), not in the browser


def sides(case: SyncCase) -> tuple[Side, Side]:
    """The server's record and the laptop's registration, side by side."""
    person = person_of(case)
    by = db.session.get(User, person.created_by_id) if person.created_by_id else None
    pushed_by = None
    if by is None:  # a person a laptop pushed has no author account: the receipt names the laptop
        pushed_by = db.session.scalar(select(Device.name).join(SyncReceipt, SyncReceipt.device_id == Device.id)
                                      .where(SyncReceipt.entity == "person", SyncReceipt.record_uuid == person.uuid)
                                      .order_by(SyncReceipt.id).limit(1))
    mother = db.session.get(Person, person.mother_id) if person.mother_id else None
    server = Side(person.name, _iso(person.birth_date), person.sex, person.nik, mother.name if mother else None,
                  person.posyandu.name if person.posyandu else None,
                  by.display_name if by is not None else (pushed_by or ""), pushed_by is not None)
    lap = case.laptop
    lmother = db.session.scalar(select(Person.name).where(Person.uuid == lap.get("mother"))) \
        if lap.get("mother") else None
    lpos = db.session.scalar(select(Posyandu.name).where(Posyandu.uuid == lap.get("posyandu")))
    laptop = Side(lap.get("name"), lap.get("birth_date"), lap.get("sex"), lap.get("nik"), lmother, lpos,
                  case.device.name, True)
    return server, laptop


def _iso(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


# --- deciding ---------------------------------------------------------------------------------------------------

class CaseProblem(Exception):
    """A choice that cannot be saved: `fields` maps each field to what is wrong with it."""

    def __init__(self, fields: dict):
        super().__init__(", ".join(fields))
        self.fields = fields


def _typed(field: str, text: str):
    """A typed value for a person's field, as the column holds it; ValueError when it cannot be."""
    text = (text or "").strip()
    if text == "":
        return None
    kind = records._column_type(Person, field)
    if kind is date:
        for fmt in ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError("date")
    if kind is bool:
        if text.lower() in ("ya", "yes", "1", "true"):
            return True
        if text.lower() in ("tidak", "no", "0", "false"):
            return False
        raise ValueError("bool")
    if kind is int:
        if not text.isdigit() or len(text) > 6:
            raise ValueError("int")
        return int(text)
    if kind is float:
        value = float(text.replace(",", "."))
        if not 0 <= value < 1000:
            raise ValueError("float")
        return value
    if field in ("nik", "father_nik"):
        value = nik_rules.normalise(text)
        if value and nik_rules.nik_problem(value):
            raise ValueError("nik")
        return value
    column = Person.__table__.c[field]
    if getattr(column.type, "length", None) and len(text) > column.type.length:
        raise ValueError("length")
    return text


def _value(case: SyncCase, field: str, side: str):
    return records.parse("person", {field: (case.server if side == "server" else case.laptop).get(field)})[field]


def decided_values(case: SyncCase, choices: dict, typed: dict) -> dict:
    """{field: value} from the clerk's choices ("server", "laptop" or "typed" per field); CaseProblem lists a
    field without a choice or with a typed value that cannot be a value of it."""
    out, problems = {}, {}
    for field in case.fields:
        choice = choices.get(field)
        if choice not in CHOICES:
            problems[field] = "choose"
            continue
        if choice == "typed":
            try:
                out[field] = _typed(field, typed.get(field, ""))
            except ValueError:
                problems[field] = "invalid"
        else:
            out[field] = _value(case, field, choice)
    if problems:
        raise CaseProblem(problems)
    return out


def _touch(person: Person) -> None:
    """A new server version of the person even when every kept value is the server's: the laptop's next pull
    brings it, and its local copy leaves the conflict state."""
    tracking.touch(db.session, person)


def _close(actor: User, case: SyncCase, outcome: str, values: dict, choices: dict) -> None:
    case.status, case.outcome = "resolved", outcome
    case.resolved_by_id, case.resolved_at = actor.id, utcnow()
    case.resolution = {f: {"chose": choices.get(f), "value": _iso(values.get(f))} for f in values}


def resolve_one_person(actor: User, case: SyncCase, choices: dict, typed: dict) -> Person:
    """One person: write the chosen value of each field to the server's record (audited), close the case."""
    if case.status != "open":
        raise CaseProblem({"case": "resolved"})
    values = decided_values(case, choices, typed)
    person = person_of(case)
    acting(db.session, actor)
    try:
        with db.session.begin_nested():
            for k, v in values.items():
                if getattr(person, k) != v:
                    setattr(person, k, v)
            db.session.flush()
    except IntegrityError:
        raise CaseProblem({"nik": "taken"}) from None
    _touch(person)
    _close(actor, case, "one_person", values, choices)
    db.session.flush()
    return person


def keep_apart(actor: User, case: SyncCase, fix: str, new_nik: str) -> Person:
    """Two people under one NIK: the laptop's registration becomes a person of its own (nothing it sent is
    dropped). `fix` says whose NIK was wrong ("laptop" or "server"); that one gets `new_nik`."""
    if case.status != "open" or case.kind != "same_nik":
        raise CaseProblem({"case": "resolved"})
    if fix not in ("laptop", "server"):
        raise CaseProblem({"fix": "choose"})
    try:
        nik = _typed("nik", new_nik)
    except ValueError:
        raise CaseProblem({"new_nik": "invalid"}) from None
    person = person_of(case)
    if not nik or nik == person.nik:
        raise CaseProblem({"new_nik": "same"})
    values = records.parse("person", {k: v for k, v in case.laptop.items() if k in DECIDABLE})
    mother_id = db.session.scalar(select(Person.id).where(Person.uuid == case.laptop.get("mother"))) \
        if case.laptop.get("mother") else None
    acting(db.session, actor)
    try:
        with db.session.begin_nested():
            if fix == "server":
                old = person.nik
                person.nik = nik
                db.session.flush()
                values["nik"] = old
            else:
                values["nik"] = nik
            other = Person(uuid=new_uuid(), posyandu_id=case.posyandu_id, mother_id=mother_id, **values)
            db.session.add(other)
            db.session.flush()
    except IntegrityError:
        raise CaseProblem({"new_nik": "taken"}) from None
    _touch(person)
    _close(actor, case, "two_people", {"nik": nik}, {"nik": fix})
    case.other_person_id = other.id
    db.session.flush()
    return other


@dataclass
class Row:
    """One field of a case as its page shows it."""
    field: str
    server: object
    laptop: object
    base: object
    has_base: bool
    default: str | None  # the choice ticked before the clerk picks: none where both sides changed it


def rows(case: SyncCase) -> list[Row]:
    """The fields to decide: the laptop's change of a field the server did not touch is ticked as the laptop's;
    a field changed on both sides is ticked as nothing, so the clerk must look; a same-NIK case starts from the
    server's record."""
    out = []
    for f in case.fields:
        has_base = bool(case.base) and f in case.base
        base = case.base.get(f) if has_base else None
        if has_base and case.server.get(f) == base:
            default = "laptop"
        elif case.kind == "same_nik":
            default = "server"
        else:
            default = None
        out.append(Row(f, case.server.get(f), case.laptop.get(f), base, has_base, default))
    return out
