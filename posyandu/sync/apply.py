"""The district applies a laptop's pushed changes: each in a savepoint, through the session-day services (so the
closed-month lock and the growth assessment run as for a form), answered per record (docs/sync.md)."""
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (Duty, HariBuka, Kader, Measurement, Person, Posyandu, ScreeningRecord, ServiceRecord,
                      SyncReceipt, SyncRow, Visit)
from ..services import session_day, session_views
from ..services.audit import acting
from ..services.month_lock import MonthClosed
from ..services.people import live_with_nik
from . import devices, records
from .tracking import ORIGIN, TOUCHED


class ChangeRefused(Exception):
    def __init__(self, code: str, message: str = "", **extra):
        super().__init__(code)
        self.code, self.message, self.extra = code, message, extra


class ChangeConflict(ChangeRefused):
    pass


def digest(change: dict) -> str:
    """The content of a change, for "same id, same content" (a replay) against "same id, other content"."""
    body = {"entity": change.get("entity"), "uuid": change.get("uuid"), "data": change.get("data"),
            "changed": change.get("changed")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Batch:
    """One push: the device, its scope, and the UUIDs the server already knew under other UUIDs."""

    def __init__(self, device):
        self.device = device
        self.scope = set(db.session.scalars(devices.posyandu_ids(device)))
        self.aliases: dict[str, str] = {}
        self.flag: str | None = None

    def find(self, model, uuid: str | None):
        if not uuid:
            return None
        uuid = self.aliases.get(uuid, uuid)
        obj = db.session.scalar(select(model).where(model.uuid == uuid))
        if obj is None:  # adopted earlier under the server's UUID (a receipt says which)
            other = db.session.scalar(select(SyncReceipt.server_uuid).where(SyncReceipt.record_uuid == uuid,
                                                                            SyncReceipt.server_uuid.is_not(None)))
            obj = db.session.scalar(select(model).where(model.uuid == other)) if other else None
        return obj

    def ref(self, model, uuid: str | None):
        obj = self.find(model, uuid)
        if obj is None:
            raise ChangeRefused("missing_reference", f"unknown {model.__name__} {uuid}")
        return obj

    def in_scope(self, posyandu_id: int) -> None:
        if posyandu_id not in self.scope:
            raise ChangeRefused("out_of_scope", "the record's Posyandu is not this laptop's")


def _person(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("person", data)
    posyandu = b.ref(Posyandu, data.get("posyandu"))
    b.in_scope(posyandu.id)
    mother = b.find(Person, data.get("mother"))
    person = b.find(Person, ch["uuid"])
    if person is None:
        twin = live_with_nik(values.get("nik")) if values.get("nik") else None
        if twin is not None:  # the same NIK registered elsewhere first: one person, flagged for a look
            b.in_scope(twin.posyandu_id)
            b.flag = "same_nik"
            return twin.uuid
        person = Person(uuid=ch["uuid"], posyandu_id=posyandu.id, mother_id=mother.id if mother else None, **values)
        db.session.add(person)
        return person.uuid
    b.in_scope(person.posyandu_id)
    changed = ch.get("changed") or {}
    if changed:
        current = records.to_data("person", person)
        seq = db.session.scalar(select(SyncRow.seq).where(SyncRow.entity == "person", SyncRow.uuid == person.uuid))
        if seq is not None and seq != ch.get("base"):  # changed here too since the laptop saw it
            both = sorted(k for k, old in changed.items()
                          if k in current and current[k] != old and current[k] != data.get(k))
            if both:
                raise ChangeConflict("edited_on_both", "the same field was changed on the laptop and the server",
                                     fields=both)
        values = {k: v for k, v in values.items() if k in changed}
    for k, v in values.items():
        setattr(person, k, v)
    if "mother_id" in changed or not changed:
        person.mother_id = mother.id if mother else None
    return person.uuid


def _hari_buka(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("hari_buka", data)
    posyandu = b.ref(Posyandu, data.get("posyandu"))
    b.in_scope(posyandu.id)
    held_on = values["held_on"]
    hb = b.find(HariBuka, ch["uuid"]) or db.session.scalar(
        select(HariBuka).where(HariBuka.posyandu_id == posyandu.id, HariBuka.held_on == held_on))
    if hb is None:
        hb = session_day.open_session(None, posyandu, held_on)
        hb.uuid = ch["uuid"]
    b.in_scope(hb.posyandu_id)
    for k in ("step_order", "closed_at", "notes"):
        if k in values and values[k] != getattr(hb, k):
            setattr(hb, k, values[k])
    return hb.uuid


def _duty(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("duty", data)
    hb, kader = b.ref(HariBuka, data.get("hari_buka")), b.ref(Kader, data.get("kader"))
    b.in_scope(hb.posyandu_id)
    duty = b.find(Duty, ch["uuid"]) or db.session.scalar(
        select(Duty).where(Duty.hari_buka_id == hb.id, Duty.kader_id == kader.id))
    if duty is None:
        duty = Duty(uuid=ch["uuid"], hari_buka_id=hb.id, kader_id=kader.id)
        db.session.add(duty)
    acting(db.session, None)
    duty.meja, duty.present = values.get("meja"), bool(values.get("present"))
    return duty.uuid


def _visit(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("visit", data)
    hb, person = b.ref(HariBuka, data.get("hari_buka")), b.ref(Person, data.get("person"))
    b.in_scope(hb.posyandu_id)
    visit = b.find(Visit, ch["uuid"]) or db.session.scalar(
        select(Visit).where(Visit.hari_buka_id == hb.id, Visit.person_id == person.id))
    if visit is None:
        visit = session_day.add_to_queue(None, hb, person)
        visit.uuid = ch["uuid"]
    for k in ("step", "finished_at", "topics", "counselling_notes"):
        if k in values and values[k] != getattr(visit, k):
            setattr(visit, k, values[k])
    return visit.uuid


def _measurement(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("measurement", data)
    visit = b.ref(Visit, data.get("visit"))
    b.in_scope(visit.hari_buka.posyandu_id)
    existing = db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id))
    measured = {k: values.get(k) for k in session_day.MEASURE_FIELDS}
    try:  # the server assesses on its own history: the laptop's z-scores and codes are never read
        session_day.save_measurement(None, visit, measured, confirmed=True)
    except session_day.NotApplicable as e:
        raise ChangeRefused("invalid", "measurements that do not apply to the person", fields=e.fields) from None
    if existing is not None:
        return existing.uuid
    m = db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id))
    m.uuid = ch["uuid"]
    return m.uuid


def _service(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("service", data)
    kind, code = values["kind"], values.get("code") or ""
    rec = b.find(ServiceRecord, ch["uuid"])
    if data.get("visit"):
        visit = b.ref(Visit, data["visit"])
        b.in_scope(visit.hari_buka.posyandu_id)
        natural = select(ServiceRecord).where(ServiceRecord.visit_id == visit.id, ServiceRecord.kind == kind,
                                              ServiceRecord.code == code)
        rec = rec or db.session.scalar(natural)
        if rec is None:
            session_day.record_services(None, visit, [(kind, code, values.get("note"))], done=False)
            rec = db.session.scalar(natural)
            rec.uuid = ch["uuid"]
    else:
        person = b.ref(Person, data.get("person"))
        b.in_scope(person.posyandu_id)
        if rec is None:
            rec = ServiceRecord(uuid=ch["uuid"], person_id=person.id, kind=kind, code=code,
                                given_on=values["given_on"])
            acting(db.session, None)
            db.session.add(rec)
    for k in ("note", "deleted_at"):
        if k in values and values[k] != getattr(rec, k):
            setattr(rec, k, values[k])
    return rec.uuid


def _screening(b: Batch, ch: dict) -> str:
    data = ch["data"]
    values = records.parse("screening", data)
    visit = b.ref(Visit, data.get("visit"))
    b.in_scope(visit.hari_buka.posyandu_id)
    q = session_views.questionnaire_for(visit, values["questionnaire"])
    answers = values.get("answers") or {}
    result = session_views.score_screening(q, answers) if q is not None and isinstance(answers, dict) else None
    if result is None or result.missing:  # scored again here, from the questionnaire the server holds
        raise ChangeRefused("invalid", "questionnaire unknown for this person or answers incomplete")
    natural = select(ScreeningRecord).where(ScreeningRecord.visit_id == visit.id,
                                            ScreeningRecord.questionnaire == q.code)
    existing = db.session.scalar(natural)
    session_day.record_screening(None, visit, q.code, q.version, answers, result.score, result.band, result.refer)
    if existing is not None:
        return existing.uuid
    rec = db.session.scalar(natural)
    rec.uuid = ch["uuid"]
    return rec.uuid


APPLY = {"person": _person, "hari_buka": _hari_buka, "duty": _duty, "visit": _visit, "measurement": _measurement,
         "service": _service, "screening": _screening}


def _well_formed(ch) -> bool:
    return (isinstance(ch, dict) and isinstance(ch.get("id"), str) and 8 <= len(ch["id"]) <= 36
            and isinstance(ch.get("uuid"), str) and 8 <= len(ch["uuid"]) <= 36 and isinstance(ch.get("data"), dict))


def apply_changes(device, changes: list) -> list[dict]:
    """Apply a batch; one answer per change, in the order sent. The caller commits, then `with_sequence`."""
    b = Batch(device)
    db.session.info[ORIGIN] = (device.id, set())  # cleared when the transaction ends
    answers: dict[int, dict] = {}
    indexed = sorted(enumerate(changes), key=lambda ic: records.ORDER.index(ic[1]["entity"])
                     if isinstance(ic[1], dict) and ic[1].get("entity") in APPLY else len(records.ORDER))
    for i, ch in indexed:
        answers[i] = _one(b, ch)
    return [answers[i] for i in range(len(changes))]


def _one(b: Batch, ch) -> dict:
    if not _well_formed(ch):
        return {"id": ch.get("id") if isinstance(ch, dict) else None, "status": "refused", "code": "invalid",
                "message": "a change needs id, uuid, entity and data"}
    answer = {"id": ch["id"]}
    if ch.get("entity") not in APPLY:
        return {**answer, "status": "refused", "code": "unknown_entity"}
    content = digest(ch)
    receipt = db.session.scalar(select(SyncReceipt).where(SyncReceipt.change_id == ch["id"]))
    if receipt is not None:
        if receipt.digest != content or receipt.device_id != b.device.id:
            return {**answer, "status": "conflict", "code": "change_reused"}
        server_uuid = receipt.server_uuid or receipt.record_uuid
        if server_uuid != ch["uuid"]:
            b.aliases[ch["uuid"]] = server_uuid
        return {**answer, "status": "duplicate", "entity": ch["entity"], "uuid": server_uuid}
    touched = dict(db.session.info.get(TOUCHED, {}))
    b.flag = None
    try:
        with db.session.begin_nested():
            server_uuid = APPLY[ch["entity"]](b, ch)
            db.session.flush()
            db.session.add(SyncReceipt(change_id=ch["id"], device_id=b.device.id, entity=ch["entity"],
                                       record_uuid=ch["uuid"], digest=content,
                                       server_uuid=server_uuid if server_uuid != ch["uuid"] else None,
                                       device_time=str(ch.get("at") or "")[:32] or None))
            db.session.flush()
    except MonthClosed as e:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": "month_closed", "month": f"{e.month:%Y-%m}",
                "message": f"the report of {e.month:%Y-%m} is approved and its data locked; the kelurahan/desa "
                           f"must reopen the month to correct it"}
    except ChangeConflict as e:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "conflict", "code": e.code, "message": e.message, **e.extra}
    except ChangeRefused as e:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": e.code, "message": e.message, **e.extra}
    except IntegrityError:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": "invalid", "message": "conflicts with a record the "
                "server holds (e.g. a NIK registered to another person)"}
    except (KeyError, ValueError, TypeError) as e:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": "invalid", "message": f"malformed value: {e}"[:200]}
    if server_uuid != ch["uuid"]:
        b.aliases[ch["uuid"]] = server_uuid
        answer["uuid"] = server_uuid
    else:  # the laptop holds this version already: its next pull skips it (an adopted record it still needs)
        db.session.info[ORIGIN][1].add((ch["entity"], server_uuid))
    if b.flag:
        answer["code"] = b.flag
    return {**answer, "status": "applied", "entity": ch["entity"], "uuid": server_uuid}


def with_sequence(answers: list[dict]) -> list[dict]:
    """After the commit: each applied or duplicate record's server version (its sequence number)."""
    keys = [(a["entity"], a["uuid"]) for a in answers if a.get("status") in ("applied", "duplicate")]
    seqs = {}
    for entity in {e for e, _ in keys}:
        uuids = [u for e, u in keys if e == entity]
        seqs.update({(entity, u): s for u, s in db.session.execute(
            select(SyncRow.uuid, SyncRow.seq).where(SyncRow.entity == entity, SyncRow.uuid.in_(uuids)))})
    for a in answers:
        if a.get("status") in ("applied", "duplicate"):
            a["seq"] = seqs.get((a.pop("entity"), a["uuid"]), 0)
    return answers
