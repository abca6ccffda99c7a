"""State changes of the session day. Every change bumps the hari buka's version so queues poll cheaply.

A unit of work (DESIGN §6): these functions flush and raise, the caller — a request, the CLI, a sync batch —
commits, so a sync batch can apply each change in a savepoint and still commit once."""
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain import growth_assessment, rules
from ..domain.errors import Invalid
from ..domain.lifecycle import age_in_months
from ..extensions import db
from ..models import (Duty, HariBuka, KbmTable, Kecamatan, Kelurahan, Measurement, Person, Posyandu,
                      ScreeningRecord, ServiceRecord, User, Visit)
from ..models.base import utcnow
from . import places
from .audit import acting
from .people import group_of


def _bump(hb: HariBuka) -> None:
    hb.version = (hb.version or 0) + 1


def open_session(actor: User, posyandu, held_on: date) -> HariBuka:
    """Open the hari buka (or return the one already open); every current kader is expected on duty."""
    hb = db.session.scalar(select(HariBuka).where(HariBuka.posyandu_id == posyandu.id, HariBuka.held_on == held_on))
    if hb is not None:
        return hb
    acting(db.session, actor)
    hb = HariBuka(posyandu_id=posyandu.id, held_on=held_on, step_order=posyandu.step_order or "1,2,3,4,5")
    db.session.add(hb)
    for kader in places.kader_of(posyandu.id, held_on):
        hb.duties.append(Duty(kader_id=kader.id))
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # opened at the same moment on another device
        hb = db.session.scalar(select(HariBuka).where(HariBuka.posyandu_id == posyandu.id,
                                                      HariBuka.held_on == held_on))
    return hb


def set_duties(actor: User, hb: HariBuka, assignments: dict[int, tuple[int | None, bool]]) -> None:
    """Assign kader to meja and record who came: {kader_id: (meja, present)}."""
    acting(db.session, actor)
    for duty in hb.duties:
        if duty.kader_id in assignments:
            duty.meja, duty.present = assignments[duty.kader_id]
    _bump(hb)
    db.session.flush()


def add_to_queue(actor: User, hb: HariBuka, person: Person) -> Visit:
    """Give the person a queue number (once: adding again returns the same visit)."""
    visit = db.session.scalar(select(Visit).where(Visit.hari_buka_id == hb.id, Visit.person_id == person.id))
    if visit is not None:
        return visit
    acting(db.session, actor)
    number = (db.session.scalar(select(func.max(Visit.queue_number)).where(Visit.hari_buka_id == hb.id)) or 0) + 1
    visit = Visit(hari_buka_id=hb.id, person_id=person.id, queue_number=number, group=group_of(person, hb.held_on),
                  step=hb.steps[1] if len(hb.steps) > 1 else 0)
    try:
        with db.session.begin_nested():
            db.session.add(visit)
            db.session.flush()
    except IntegrityError:  # the same person or number taken by another meja-1 device at the same moment
        existing = db.session.scalar(select(Visit).where(Visit.hari_buka_id == hb.id, Visit.person_id == person.id))
        return existing or add_to_queue(actor, hb, person)
    _bump(hb)
    db.session.flush()
    return visit


def next_step(hb: HariBuka, step: int) -> int:
    """The meja after this one in the Posyandu's order; 0 when the visit is done."""
    return hb.step_after(step)


def advance(actor: User, visit: Visit, from_step: int) -> None:
    """Send the person on from this meja (only if still waiting here: a re-post changes nothing)."""
    if visit.step != from_step:
        return
    acting(db.session, actor)
    visit.step = next_step(visit.hari_buka, from_step)
    if visit.step == 0:
        visit.finished_at = utcnow()
    _bump(visit.hari_buka)
    db.session.flush()


def kbm_versions(district_id: int):
    """The KBM versions a district uses: its own and the installation-wide ones."""
    return select(KbmTable).where(or_(KbmTable.district_id == district_id, KbmTable.district_id.is_(None)))


def district_of_posyandu(posyandu_id: int) -> int:
    return db.session.scalar(select(Kecamatan.district_id).join(Kelurahan, Kelurahan.kecamatan_id == Kecamatan.id)
                             .join(Posyandu, Posyandu.kelurahan_id == Kelurahan.id).where(Posyandu.id == posyandu_id))


def current_kbm(on: date, district_id: int) -> KbmTable | None:
    """The district's KBM version in force on a date (another district's versions never apply)."""
    return db.session.scalar(kbm_versions(district_id).where(KbmTable.valid_from <= on)
                             .order_by(KbmTable.valid_from.desc(), KbmTable.id.desc()).limit(1))


def add_kbm_version(actor: User, name: str, valid_from: date, grams: dict) -> KbmTable:
    """A new KBM version for the actor's district, from its date on (audited)."""
    acting(db.session, actor)
    version = KbmTable(district_id=actor.district_id, name=name, valid_from=valid_from, grams=grams)
    db.session.add(version)
    db.session.flush()
    return version


Assessment = growth_assessment.Assessment


class NotApplicable(Invalid):
    """Measurements given that do not apply to the person's group and age (domain.rules.measures_for)."""

    def __init__(self, fields: list[str]):
        super().__init__(", ".join(fields))
        self.fields = fields


def _weighing(m: Measurement) -> growth_assessment.PastWeighing:
    return growth_assessment.PastWeighing(m.measured_on, m.weight_kg, m.length_cm, m.position, m.ntob)


def history(person: Person, on: date, exclude_visit_id: int | None = None,
            with_lhaz: bool = True) -> growth_assessment.History:
    """The person's recent measurements the assessment of a measurement on `on` needs (see History);
    with_lhaz=False skips the previous length-for-age z (no length was measured, so no new stunting to judge)."""
    weighed = select(Measurement).where(Measurement.person_id == person.id, Measurement.weight_kg.is_not(None))
    if growth_assessment.is_adult(person.birth_date, on):
        prev = db.session.scalar(weighed.where(Measurement.measured_on < on)
                                 .order_by(Measurement.measured_on.desc()).limit(1))
        return growth_assessment.History(weighings=(_weighing(prev),) if prev else ())
    weighed = weighed.where(Measurement.measured_on <= on)
    if exclude_visit_id:
        weighed = weighed.where((Measurement.visit_id.is_(None)) | (Measurement.visit_id != exclude_visit_id))
    recent = db.session.scalars(weighed.order_by(Measurement.measured_on.desc()).limit(3))
    prev_lhaz = db.session.scalar(
        select(Measurement.lhaz).where(Measurement.person_id == person.id, Measurement.measured_on < on,
                                       Measurement.lhaz.is_not(None), Measurement.flagged.is_(False))
        .order_by(Measurement.measured_on.desc()).limit(1)) if with_lhaz else None
    return growth_assessment.History(weighings=tuple(_weighing(m) for m in recent), previous_lhaz=prev_lhaz)


def assess(person: Person, on: date, values: dict, exclude_visit_id: int | None = None) -> Assessment:
    """Assess a measurement from the person's history and the district's KBM version (the pure computation is
    domain.growth_assessment.assess: a form and a pushed measurement get the same numbers)."""
    kbm = (current_kbm(on, district_of_posyandu(person.posyandu_id))
           if growth_assessment.uses_kbm(person.birth_date, on, values) else None)
    return growth_assessment.assess(person.sex, person.birth_date, on, values,
                                    history(person, on, exclude_visit_id, values.get("length_cm") is not None),
                                    kbm_grams=kbm.grams if kbm else None, kbm_table_id=kbm.id if kbm else None)


MEASURE_FIELDS = ("weight_kg", "length_cm", "position", "head_cm", "muac_cm", "oedema", "waist_cm", "systolic",
                  "diastolic", "glucose_mg_dl")


def save_measurement(actor: User, visit: Visit, values: dict, confirmed: bool) -> Assessment:
    """Keep the meja-2 values (one measurement per visit). Implausible values are kept only once the kader
    confirmed them, and stay marked. Values that do not apply to the person's group raise NotApplicable."""
    hb = visit.hari_buka
    extra = rules.not_applicable(visit.group, age_in_months(visit.person.birth_date, hb.held_on), values)
    if extra:
        raise NotApplicable(extra)
    result = assess(visit.person, hb.held_on, values, exclude_visit_id=visit.id)
    if result.problems and not confirmed:
        return result
    acting(db.session, actor)
    m = db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id))
    if m is None:
        m = Measurement(visit_id=visit.id, person_id=visit.person_id, posyandu_id=hb.posyandu_id)
        db.session.add(m)
    m.measured_on = hb.held_on
    for k in MEASURE_FIELDS:
        setattr(m, k, values.get(k) if k != "oedema" else bool(values.get(k)))
    for k in ("age_days", "waz", "lhaz", "whz", "baz", "hcz", "acz", "ntob", "kbm_table_id"):
        setattr(m, k, result.computed.get(k))
    for k in ("two_t", "bgm", "new_stunting"):
        setattr(m, k, bool(result.computed.get(k)))
    m.flagged = bool(result.problems)
    m.check_note = ", ".join(result.problems) or None
    if visit.step == 2:
        visit.step = next_step(hb, 2)
    _bump(hb)
    db.session.flush()
    return result


def record_counselling(actor: User, visit: Visit, topics: list[str], notes: str | None) -> None:
    acting(db.session, actor)
    visit.topics, visit.counselling_notes = topics, notes
    if visit.step == 4:
        visit.step = next_step(visit.hari_buka, 4)
        visit.finished_at = utcnow() if visit.step == 0 else None
    _bump(visit.hari_buka)
    db.session.flush()


def record_services(actor: User, visit: Visit, items: list[tuple[str, str, str | None]], done: bool) -> None:
    """Record services given at meja 5: (kind, code, note); a repeated item is recorded once."""
    acting(db.session, actor)
    have = {(s.kind, s.code) for s in db.session.scalars(select(ServiceRecord).where(ServiceRecord.visit_id == visit.id))}
    for kind, code, note in items:
        if (kind, code or "") not in have:
            db.session.add(ServiceRecord(person_id=visit.person_id, visit_id=visit.id, kind=kind, code=code or "",
                                         note=note, given_on=visit.hari_buka.held_on))
            have.add((kind, code or ""))
    if done and visit.step == 5:
        visit.step = next_step(visit.hari_buka, 5)
        visit.finished_at = utcnow() if visit.step == 0 else None
    _bump(visit.hari_buka)
    db.session.flush()


def record_screening(actor: User, visit: Visit, code: str, version: str, answers: dict, score, band, refer) -> None:
    """Keep a questionnaire's answers and score (answering again replaces them)."""
    acting(db.session, actor)
    rec = db.session.scalar(select(ScreeningRecord).where(ScreeningRecord.visit_id == visit.id,
                                                          ScreeningRecord.questionnaire == code))
    if rec is None:
        rec = ScreeningRecord(visit_id=visit.id, person_id=visit.person_id, questionnaire=code)
        db.session.add(rec)
    rec.version, rec.answers, rec.score, rec.band, rec.refer = version, answers, score, band, bool(refer)
    _bump(visit.hari_buka)
    db.session.flush()


def record_past_immunisation(actor: User, person: Person, code: str, given_on: date) -> None:
    """An immunisation given elsewhere (Puskesmas, bidan praktik), copied from the Buku KIA."""
    acting(db.session, actor)
    exists = db.session.scalar(select(ServiceRecord.id).where(ServiceRecord.person_id == person.id,
                                                              ServiceRecord.kind == "imunisasi",
                                                              ServiceRecord.code == code,
                                                              ServiceRecord.deleted_at.is_(None)))
    if exists is None:
        db.session.add(ServiceRecord(person_id=person.id, kind="imunisasi", code=code, given_on=given_on))
        db.session.flush()


def close_session(actor: User, hb: HariBuka) -> None:
    acting(db.session, actor)
    hb.closed_at = utcnow()
    _bump(hb)
    db.session.flush()


def reopen_session(actor: User, hb: HariBuka) -> None:
    acting(db.session, actor)
    hb.closed_at = None
    _bump(hb)
    db.session.flush()
