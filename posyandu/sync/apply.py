"""The district applies a laptop's pushed changes: each in a savepoint, through the services the forms use (the
session day, home visits, commitments, transfers: the closed-month lock, the growth assessment and every rule run
as for a form, and cannot drift apart), answered per record (docs/sync.md); a service's domain error is the
record's refusal."""
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import unit_of_work
from ..domain.errors import DomainError
from ..extensions import db
from ..domain.commitment import SignatureError, canonical_text, dump_strokes, parse_strokes, text_hash
from ..domain.identity import TRANSFER_REQUESTED
from ..models import (Commitment, CommitmentTemplate, Duty, HariBuka, HomeVisit, Kader, Measurement,
                      Person, PersonTransfer, Posyandu, Pregnancy, ScreeningRecord, ServiceRecord, SyncReceipt,
                      SyncRow, Visit)
from ..models.roster import ImmutableRecord
from ..services import commitments, home_visits, identity, session_day, session_views
from ..services.audit import acting
from ..services.month_lock import MonthClosed
from ..services.people import _pregnancy as new_pregnancy
from ..services.people import live_with_nik
from . import cases, devices, records
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
        self.altered = False  # the server kept something other than what was sent (it sends its version back)

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
                                     fields=both, seq=seq)  # the server's version it conflicts with
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


OUTCOMES = ("lahir_hidup", "lahir_mati", "keguguran")  # as the person page's "end pregnancy" form


def _pregnancy(b: Batch, ch: dict) -> str:
    """Registered (with hpl computed from hpht when missing, as the form does), ended with an outcome, or removed.
    The same pregnancy registered on both sides (same person, same hpht) is one."""
    data = ch["data"]
    values = records.parse("pregnancy", data)
    person = b.ref(Person, data.get("person"))
    b.in_scope(person.posyandu_id)
    if values.get("outcome") not in (None, *OUTCOMES) or (values.get("outcome") is None) != (
            values.get("ended_on") is None):
        raise ChangeRefused("invalid", "an ended pregnancy needs its date and one of " + ", ".join(OUTCOMES))
    preg = b.find(Pregnancy, ch["uuid"]) or db.session.scalar(select(Pregnancy).where(
        Pregnancy.person_id == person.id, Pregnancy.hpht == values["hpht"], Pregnancy.deleted_at.is_(None)))
    acting(db.session, None)
    if preg is None:
        preg = new_pregnancy(values)
        preg.uuid, preg.person_id = ch["uuid"], person.id
        db.session.add(preg)
    for k, v in values.items():
        if v != getattr(preg, k) and not (k == "hpl" and v is None):  # no hpl sent: the one computed stays
            setattr(preg, k, v)
    return preg.uuid


def _home_visit(b: Batch, ch: dict) -> str:
    """Through home_visits.record (a new one) or home_visits.change (a later version): the same rules as the form
    (its task, its date, the kader serving the Posyandu that day, the closed-month lock). The kader who went and
    the account that recorded it (by username) come with it."""
    data = ch["data"]
    values = records.parse("home_visit", data)
    person = b.ref(Person, data.get("person"))
    b.in_scope(person.posyandu_id)
    kader = b.find(Kader, data.get("kader"))
    fields = {**{k: values.get(k) for k in ("visited_on", "task_key", "findings", "advice", "referred",
                                              "referral_note", "follow_up_on")},
              "kader_id": kader.id if kader else None}
    visit = b.find(HomeVisit, ch["uuid"])
    if visit is None:
        visit = home_visits.record(None, person, fields, uuid=ch["uuid"],
                                   user_id=records.user_id(data.get("user"), b.device.district_id))
    else:
        b.in_scope(visit.posyandu_id)
        home_visits.change(None, visit, fields)
    if values.get("deleted_at") != visit.deleted_at:
        visit.deleted_at = values.get("deleted_at")
    return visit.uuid


def _signature_of(kind: str | None, stored: str | None) -> str:
    """A countersignature checked as the form checks it: a drawing that parses, or a typed name."""
    try:
        if kind == "drawn":
            return dump_strokes(parse_strokes(stored))
    except SignatureError:
        pass
    else:
        if kind == "typed" and stored and stored.strip():
            return canonical_text(stored)[:100]
    raise ChangeRefused("invalid", "the signature is not a drawing or a typed name")


def _commitment(b: Batch, ch: dict) -> str:
    """A Komitmen Kinerja signed on the laptop (the kader identified there by her PIN or her account): kept with
    the exact text it was signed on, which must be a version of the district's text with the hash it carries; the
    signature passes commitments.check as the form's does (a drawing or her name, a kader serving the Posyandu
    that day, once a year). A countersignature is added once. A signed commitment never changes (models.roster)."""
    data = ch["data"]
    values = records.parse("commitment", data)
    kader, posyandu = b.ref(Kader, data.get("kader")), b.ref(Posyandu, data.get("posyandu"))
    template = b.ref(CommitmentTemplate, data.get("template"))
    b.in_scope(posyandu.id)
    text = values.get("text") or ""
    if (template.district_id != b.device.district_id or template.year != values.get("year")
            or text_hash(text) != values.get("text_sha256") or text_hash(template.body) != values.get("text_sha256")):
        raise ChangeRefused("invalid", "the signed text is not the district's text of that version")
    if values.get("signer_method") not in ("pin", "account"):
        raise ChangeRefused("invalid", "the signer was not identified by her PIN or her account")
    c = b.find(Commitment, ch["uuid"])
    if c is None:
        kind, stored, signed_at = values.get("signature_kind"), values.get("signature"), values.get("signed_at")
        if signed_at is None:
            raise ChangeRefused("invalid", "a signed commitment needs the time it was signed")
        try:
            signature = commitments.check(kader, posyandu.id, template, kind, stored if kind == "drawn" else None,
                                          stored if kind == "typed" else None, signed_at.date())
            c = commitments.add_signed(None, kader, posyandu.id, template, kind, signature,
                                       method=values["signer_method"], signed_at=signed_at, uuid=ch["uuid"],
                                       recorded_by_id=records.user_id(data.get("recorded_by"), b.device.district_id))
        except commitments.CommitmentError as e:
            twin = commitments.commitment_of(kader.id, template.year) if e.code == "already" else None
            if twin is None:
                raise
            raise ChangeConflict("already_signed", "the kader's commitment of this year was signed elsewhere first",
                                 uuid=twin.uuid) from None
    if values.get("countersigned_at") and c.countersigned_at is None:
        counter = _signature_of(values.get("countersignature_kind"), values.get("countersignature"))
        by = records.user_id(data.get("countersigned_by"), b.device.district_id)  # before: one UPDATE sets all
        ketua = b.find(Kader, data.get("countersigner_kader"))
        acting(db.session, None)
        c.countersigner_name, c.countersigner_title = values.get("countersigner_name"), values.get(
            "countersigner_title")
        c.countersignature_kind, c.countersignature = values["countersignature_kind"], counter
        c.countersigned_at, c.countersigner_method = values["countersigned_at"], values.get("countersigner_method")
        c.countersigned_by_id, c.countersigner_kader_id = by, ketua.id if ketua else None
    return c.uuid


def _transfer(b: Batch, ch: dict) -> str:
    """A move asked for on the laptop (the receiving Posyandu is the laptop's): through identity.ask_transfer, as a
    request made in the browser (no_person, same_posyandu refused alike; an open request for the same person and
    Posyandu is that one) — always `requested`: approving stays on the server (the sending Posyandu, the kelurahan
    or the district decide there)."""
    data = ch["data"]
    values = records.parse("transfer", data)
    to = b.ref(Posyandu, data.get("to_posyandu"))
    b.in_scope(to.id)
    rec = b.find(PersonTransfer, ch["uuid"])
    if rec is None:
        rec = identity.ask_transfer(None, b.find(Person, data.get("person")), to.id, values["moved_on"],
                                    values.get("note"), uuid=ch["uuid"])
    elif rec.status == TRANSFER_REQUESTED:
        acting(db.session, None)
        rec.moved_on, rec.note = values["moved_on"], values.get("note")
    if (values.get("status") or TRANSFER_REQUESTED) != rec.status:
        b.altered = True
    return rec.uuid


APPLY = {"person": _person, "pregnancy": _pregnancy, "hari_buka": _hari_buka, "duty": _duty, "visit": _visit,
         "measurement": _measurement, "service": _service, "screening": _screening, "home_visit": _home_visit,
         "commitment": _commitment, "transfer": _transfer}


# A service's domain error (its code) answered with a code of docs/sync.md other than `invalid`: month_closed,
# signed_differs and already_signed are caught above (they carry more than a code).
REFUSALS = {"no_person": "missing_reference"}


def _well_formed(ch) -> bool:
    return (isinstance(ch, dict) and isinstance(ch.get("id"), str) and 8 <= len(ch["id"]) <= 36
            and isinstance(ch.get("uuid"), str) and 8 <= len(ch["uuid"]) <= 36 and isinstance(ch.get("data"), dict))


def apply_changes(device, changes: list) -> list[dict]:
    """Apply a batch; one answer per change, in the order sent. Run inside the caller's unit of work (each change
    is a savepoint of it: a refused change leaves nothing, the others stay), then `with_sequence`."""
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
    b.flag, b.altered = None, False
    try:
        with unit_of_work():
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
        if e.code == "edited_on_both":  # kept on the district for the kelurahan to decide (sync/cases.py)
            cases.flag_edited_on_both(b.device, ch, e.extra.get("fields") or [])
        return {**answer, "status": "conflict", "code": e.code, "message": e.message, **e.extra}
    except ChangeRefused as e:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": e.code, "message": e.message, **e.extra}
    except ImmutableRecord:
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "conflict", "code": "signed_differs",
                "message": "a signed record cannot change; the server keeps the signed version"}
    except DomainError as e:  # a service's rule refused it, as it would have refused the form
        db.session.info[TOUCHED] = touched
        return {**answer, "status": "refused", "code": REFUSALS.get(e.code, "invalid"),
                "message": f"refused: {e.code}"[:200]}
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
    elif not b.altered:  # the laptop holds this version already: its next pull skips it (an adopted or altered
        db.session.info[ORIGIN][1].add((ch["entity"], server_uuid))  # record it still needs)
    if b.flag:
        answer["code"] = b.flag
        if b.flag == "same_nik":
            cases.flag_same_nik(b.device, ch, server_uuid)
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
