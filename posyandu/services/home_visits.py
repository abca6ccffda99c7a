"""Home visits: the task list a Posyandu's kader get from the data, recording a visit (which closes its task),
and the count that feeds kader performance and incentives.

Accounts are not linked to roster entries (models.kader has no user link), so tasks are per Posyandu for whoever
is logged in there; a visit names the kader who went and records the account that entered it.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain import findings, immunisation, rules
from ..domain import reports as dom
from ..domain.errors import Invalid
from ..extensions import db
from ..models import (HariBuka, HomeVisit, Measurement, Person, Pregnancy, ScreeningRecord,
                      ServiceRecord, User, Visit)
from . import idempotency, month_lock, roster
from .people import on_roll
from .audit import acting

TASK_CODES = ("absent", "T", "2T", "BGM", "new_stunting", "at_risk", "kek", "danger", "danger_adult", "rujukan",
              "imunisasi")
RECENT_DAYS = 62  # a growth finding older than this is no longer a task (the next hari buka has passed)
ADULT_GROUPS = ("nifas", "usia_sekolah_remaja", "dewasa", "lansia")
ADULT_DANGER = {"high_bp", "high_glucose", "kek"}  # findings.REFER codes of a measurement past childhood


@dataclass(frozen=True)
class Task:
    person_id: int
    code: str
    key: str  # what closes it: a home visit with this key
    since: date
    detail: str = ""


def home_visits_by_kader(kader_ids, month: date) -> dict[int, int]:
    """Home visits each kader made in the month, in one grouped query (for the incentive batch)."""
    first, last = dom.month_start(month), dom.month_end(month)
    return dict(db.session.execute(
        select(HomeVisit.kader_id, func.count()).where(
            HomeVisit.kader_id.in_(list(kader_ids)), HomeVisit.deleted_at.is_(None), HomeVisit.visited_on >= first,
            HomeVisit.visited_on <= last).group_by(HomeVisit.kader_id)).all())


def home_visits_count(kader_id: int, month: date) -> int:
    """Home visits a kader made in the month (for performance and the incentive rule)."""
    return home_visits_by_kader([kader_id], month).get(kader_id, 0)


def _ids(posyandu_ids) -> list[int]:
    """One Posyandu (a kader's) or several (a bidan's or a clerk's whole area)."""
    return [posyandu_ids] if isinstance(posyandu_ids, int) else list(posyandu_ids)


def _balita(posyandu_ids: list[int], on: date):
    return and_(Person.posyandu_id.in_(posyandu_ids), on_roll(on), Person.birth_date <= on,
                Person.birth_date > dom.latest_birth_for_age(on, 60))


def _pregnant(on: date):
    return select(Pregnancy.person_id, Pregnancy.hpht).where(
        Pregnancy.deleted_at.is_(None), Pregnancy.ended_on.is_(None), Pregnancy.hpht <= on,
        Pregnancy.hpht >= on - timedelta(weeks=44)).subquery("preg")


def tasks(posyandu_ids, on: date) -> list[Task]:
    """Every task the data gives the kader of one Posyandu (or of several: a whole area) on a date, open and
    closed: a handful of queries, however many Posyandu."""
    posyandu_id = _ids(posyandu_ids)
    out: list[Task] = []
    preg = _pregnant(on)
    mothers = select(Person.id).join(preg, preg.c.person_id == Person.id).where(
        Person.posyandu_id.in_(posyandu_id), on_roll(on))
    # absent from the last hari buka held: balita and ibu hamil without a visit there. Absence is known only once
    # the day is over: closed by the ketua, or its date has passed — never while it is still open today.
    held = select(HariBuka.id, HariBuka.posyandu_id, HariBuka.held_on, func.row_number().over(
        partition_by=HariBuka.posyandu_id, order_by=(HariBuka.held_on.desc(), HariBuka.id.desc())).label("rn")).where(
        HariBuka.posyandu_id.in_(posyandu_id), HariBuka.held_on <= on,
        or_(HariBuka.closed_at.is_not(None), HariBuka.held_on < on)).subquery("held")
    last_hbs = {pos: (hb_id, held_on) for hb_id, pos, held_on in db.session.execute(
        select(held.c.id, held.c.posyandu_id, held.c.held_on).where(held.c.rn == 1))}
    if last_hbs:
        # one query for every Posyandu: who did not come to their own Posyandu's last day (a balita's age is
        # checked at that day below, so the candidates are born after the earliest such day's five-year mark)
        earliest = min(d for _hb, d in last_hbs.values())
        came = select(Visit.id).where(Visit.person_id == Person.id, Visit.hari_buka_id == held.c.id)
        for pid, pos, birth, mother in db.session.execute(
                select(Person.id, Person.posyandu_id, Person.birth_date, Person.id.in_(mothers))
                .join(held, and_(held.c.posyandu_id == Person.posyandu_id, held.c.rn == 1))
                .where(or_(_balita(list(last_hbs), earliest), Person.id.in_(mothers)), ~came.exists())):
            held_on = last_hbs[pos][1]
            if mother or dom.latest_birth_for_age(held_on, 60) < birth <= held_on:
                out.append(Task(pid, "absent", f"absent:{held_on}", held_on))
    # growth: each balita's latest weighing, if recent
    latest = (select(Measurement.person_id, Measurement.measured_on, Measurement.ntob, Measurement.two_t,
                     Measurement.bgm, Measurement.new_stunting,
                     func.row_number().over(partition_by=Measurement.person_id,
                                            order_by=(Measurement.measured_on.desc(), Measurement.id.desc())).label("rn"))
              .where(Measurement.person_id.in_(select(Person.id).where(_balita(posyandu_id, on))),
                     Measurement.measured_on <= on, Measurement.measured_on > on - timedelta(days=RECENT_DAYS),
                     Measurement.weight_kg.is_not(None)).subquery("l"))
    for pid, m_on, code, two_t, bgm, new_st in db.session.execute(
            select(latest.c.person_id, latest.c.measured_on, latest.c.ntob, latest.c.two_t, latest.c.bgm,
                   latest.c.new_stunting).where(latest.c.rn == 1)):
        if two_t:
            out.append(Task(pid, "2T", f"2T:{m_on}", m_on))
        elif code == "T":
            out.append(Task(pid, "T", f"T:{m_on}", m_on))
        if bgm:
            out.append(Task(pid, "BGM", f"BGM:{m_on}", m_on))
        if new_st:
            out.append(Task(pid, "new_stunting", f"new_stunting:{m_on}", m_on))
    # at risk this month (falling TB/U, T with low BB/TB), from the report's own rule
    from . import reports

    month = dom.month_start(on)
    pos = select(reports.Posyandu.id).where(reports.Posyandu.id.in_(posyandu_id))
    flagged = {t.person_id for t in out if t.code in ("2T", "T")}
    for p, reason in db.session.execute(reports.people_behind(pos, month, "at_risk")):
        if p.id not in flagged:
            out.append(Task(p.id, "at_risk", f"at_risk:{month:%Y-%m}", month, reason))
    # ibu hamil: KEK or high blood pressure at the latest measurement of this pregnancy, or a screening referral
    lm = (select(Measurement.person_id, Measurement.measured_on, Measurement.muac_cm, Measurement.systolic,
                 Measurement.diastolic,
                 func.row_number().over(partition_by=Measurement.person_id,
                                        order_by=(Measurement.measured_on.desc(), Measurement.id.desc())).label("rn"))
          .join(preg, preg.c.person_id == Measurement.person_id)
          .where(Measurement.person_id.in_(mothers), Measurement.measured_on >= preg.c.hpht,
                 Measurement.measured_on <= on).subquery("lm"))
    for pid, m_on, muac, sys_, dia in db.session.execute(
            select(lm.c.person_id, lm.c.measured_on, lm.c.muac_cm, lm.c.systolic, lm.c.diastolic).where(lm.c.rn == 1)):
        if muac is not None and muac < dom.KEK_MUAC_CM:
            out.append(Task(pid, "kek", f"kek:{m_on}", m_on, f"LILA {muac:g} cm"))
        if (sys_ or 0) >= rules.HIGH_SYSTOLIC or (dia or 0) >= rules.HIGH_DIASTOLIC:
            out.append(Task(pid, "danger", f"danger:{m_on}", m_on, f"TD {sys_}/{dia}"))
    for pid, held_on in db.session.execute(
            select(ScreeningRecord.person_id, func.max(HariBuka.held_on))
            .join(Visit, Visit.id == ScreeningRecord.visit_id).join(HariBuka, HariBuka.id == Visit.hari_buka_id)
            .join(preg, preg.c.person_id == ScreeningRecord.person_id)
            .where(ScreeningRecord.person_id.in_(mothers), ScreeningRecord.refer.is_(True),
                   HariBuka.held_on >= preg.c.hpht).group_by(ScreeningRecord.person_id)):
        out.append(Task(pid, "danger", f"danger:{held_on}", held_on))
    out += _adult_tasks(posyandu_id, on, mothers)
    # imunisasi overdue (one task a month per child)
    kids = dict(db.session.execute(select(Person.id, Person.birth_date).where(_balita(posyandu_id, on))).all())
    given: dict[int, dict[str, date]] = {}
    for pid, code, g_on in db.session.execute(
            select(ServiceRecord.person_id, ServiceRecord.code, ServiceRecord.given_on)
            .where(ServiceRecord.person_id.in_(select(Person.id).where(_balita(posyandu_id, on))),
                   ServiceRecord.kind == "imunisasi", ServiceRecord.deleted_at.is_(None))):
        given.setdefault(pid, {})[code] = g_on
    schedule = immunisation.load_schedule()
    for pid, birth in kids.items():
        overdue = [d.name for d in immunisation.due_doses(schedule, birth, on, given.get(pid, {}))
                   if d.status == "overdue"]
        if overdue:
            out.append(Task(pid, "imunisasi", f"imunisasi:{month:%Y-%m}", month, ", ".join(overdue[:3])))
    return out


def _adult_tasks(posyandu_id: list[int], on: date, mothers) -> list[Task]:
    """Nifas, remaja, dewasa and lansia: danger findings of their latest recent measurement (blood pressure, blood
    sugar, KEK — domain.findings, the rule meja 3 shows), and referrals made at meja 5 or by a screening."""
    out: list[Task] = []
    since = on - timedelta(days=RECENT_DAYS)
    people = select(Person.id).where(Person.posyandu_id.in_(posyandu_id), on_roll(on),
                                     Person.id.not_in(mothers))
    lm = (select(Measurement, Visit.group.label("grp"), Person.sex.label("sex"),
                 func.row_number().over(partition_by=Measurement.person_id,
                                        order_by=(Measurement.measured_on.desc(), Measurement.id.desc())).label("rn"))
          .join(Visit, Visit.id == Measurement.visit_id).join(Person, Person.id == Measurement.person_id)
          .where(Measurement.person_id.in_(people), Measurement.measured_on <= on, Measurement.measured_on > since)
          .subquery("am"))
    for row in db.session.execute(select(lm).where(lm.c.rn == 1, lm.c.grp.in_(ADULT_GROUPS))).mappings():
        codes = findings.finding_codes(dict(row), row["grp"], row["sex"]) & ADULT_DANGER
        if codes:
            parts = []
            if "high_bp" in codes:
                parts.append(f"TD {row['systolic']}/{row['diastolic']}")
            if "high_glucose" in codes:
                parts.append(f"GDS {row['glucose_mg_dl']}")
            if "kek" in codes:
                parts.append(f"LILA {row['muac_cm']:g} cm")
            out.append(Task(row["person_id"], "danger_adult", f"danger_adult:{row['measured_on']}",
                            row["measured_on"], ", ".join(parts)))
    adults = select(Person.id).where(Person.id.in_(people),
                                     Person.birth_date <= dom.latest_birth_for_age(on, rules.SCHOOL_AGE_MONTHS))
    referred: dict[int, tuple[date, str]] = {}
    for pid, given_on, note in db.session.execute(
            select(ServiceRecord.person_id, ServiceRecord.given_on, ServiceRecord.note)
            .where(ServiceRecord.person_id.in_(adults), ServiceRecord.kind == "rujukan",
                   ServiceRecord.deleted_at.is_(None), ServiceRecord.given_on <= on, ServiceRecord.given_on > since)):
        if pid not in referred or given_on > referred[pid][0]:
            referred[pid] = (given_on, note or "")
    for pid, held_on, code in db.session.execute(
            select(ScreeningRecord.person_id, HariBuka.held_on, ScreeningRecord.questionnaire)
            .join(Visit, Visit.id == ScreeningRecord.visit_id).join(HariBuka, HariBuka.id == Visit.hari_buka_id)
            .where(ScreeningRecord.person_id.in_(adults), ScreeningRecord.refer.is_(True),
                   HariBuka.held_on <= on, HariBuka.held_on > since)):
        if pid not in referred or held_on > referred[pid][0]:
            referred[pid] = (held_on, code.upper())
    for pid, (d, detail) in referred.items():
        out.append(Task(pid, "rujukan", f"rujukan:{d}", d, detail))
    return out


def closed_keys(posyandu_ids, person_ids) -> set[tuple[int, str]]:
    rows = db.session.execute(select(HomeVisit.person_id, HomeVisit.task_key).where(
        HomeVisit.posyandu_id.in_(_ids(posyandu_ids)), HomeVisit.deleted_at.is_(None),
        HomeVisit.task_key.is_not(None)))
    return {(pid, key) for pid, key in rows}


# What a kader should visit first: a child who did not gain twice, a danger sign or a referral to follow up,
# then the other growth findings (T with low BB/TB is "at_risk"), then overdue immunisation, then plain absence.
URGENCY = {"2T": 0, "danger": 0, "danger_adult": 0, "rujukan": 0, "BGM": 1, "at_risk": 1, "new_stunting": 1,
           "kek": 1, "T": 2, "imunisasi": 3, "absent": 4}


def open_tasks(posyandu_ids, on: date) -> list[Task]:
    """The tasks no home visit has closed yet: the urgent first, then the most recent, then by person."""
    all_tasks = tasks(posyandu_ids, on)
    done = closed_keys(posyandu_ids, {t.person_id for t in all_tasks})
    return sorted((t for t in all_tasks if (t.person_id, t.key) not in done),
                  key=lambda t: (URGENCY.get(t.code, 5), -t.since.toordinal(), t.person_id, t.code))


def people(ids) -> dict[int, Person]:
    """The people of the tasks, with what a visit needs: address, RT/RW, phone, the mother (and her phone) and
    the Posyandu."""
    from sqlalchemy.orm import selectinload

    ids = list(ids)
    return {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(ids)).options(
        selectinload(Person.mother), selectinload(Person.posyandu)))} if ids else {}


def recent_visits(posyandu_ids, limit: int = 20) -> list[HomeVisit]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(HomeVisit).where(HomeVisit.posyandu_id.in_(_ids(posyandu_ids)), HomeVisit.deleted_at.is_(None))
        .options(selectinload(HomeVisit.person), selectinload(HomeVisit.kader))
        .order_by(HomeVisit.visited_on.desc(), HomeVisit.id.desc()).limit(limit)))


class HomeVisitError(Invalid):
    """A home visit the rules refuse, wherever it was entered (the form, a laptop's push); the code says which:
    task (not one of TASK_CODES), date (none), born (before the person was born), follow_up (before the visit),
    kader (she did not serve the person's Posyandu on the day of the visit)."""


def check(person: Person, posyandu_id: int, data: dict) -> None:
    """The rules of a home visit (raises HomeVisitError, or MonthClosed for a day of an approved month): the one
    place they are kept, so the form and the sync refuse the same visits."""
    task_key = data.get("task_key") or None
    if task_key and task_key.split(":", 1)[0] not in TASK_CODES:
        raise HomeVisitError("task")
    on = data.get("visited_on")
    if on is None:
        raise HomeVisitError("date")
    if person.birth_date is not None and on < person.birth_date:
        raise HomeVisitError("born")
    if data.get("follow_up_on") is not None and data["follow_up_on"] < on:
        raise HomeVisitError("follow_up")
    if data.get("kader_id") and not roster.serves(data["kader_id"], posyandu_id, on):
        raise HomeVisitError("kader")
    month_lock.assert_open(db.session, posyandu_id, on)


def _values(data: dict) -> dict:
    task_key = data.get("task_key") or None
    return {"kader_id": data.get("kader_id") or None, "visited_on": data["visited_on"], "task_key": task_key,
            "task_code": task_key.split(":", 1)[0] if task_key else None, "findings": data.get("findings"),
            "advice": data.get("advice"), "referred": bool(data.get("referred")),
            "referral_note": data.get("referral_note"), "follow_up_on": data.get("follow_up_on")}


def record(actor: User | None, person: Person, data: dict, key: str | None = None, *, uuid: str | None = None,
           user_id: int | None = None) -> HomeVisit:
    """Record a home visit; a task key in `data` closes that task. Posted twice, it is recorded once. The sync
    (actor None) passes the laptop's UUID and the account that recorded it there."""
    twin = idempotency.seen(key, user_id=actor.id, entity="home_visit") if actor is not None else None
    if twin is not None:
        return db.session.get(HomeVisit, twin.entity_id)
    check(person, person.posyandu_id, data)
    acting(db.session, actor)
    try:  # in a savepoint: a twin that won the race undoes only this attempt, not the caller's unit of work
        with db.session.begin_nested():
            visit = HomeVisit(posyandu_id=person.posyandu_id, person_id=person.id,
                              user_id=actor.id if actor is not None else user_id, **_values(data))
            if uuid:
                visit.uuid = uuid
            db.session.add(visit)
            db.session.flush()
            if actor is not None:
                idempotency.claim_for(key, actor.id, "home_visit", visit.id)
    except IntegrityError as e:
        twin_id = idempotency.twin_of(e, key, user_id=actor.id if actor else None, entity="home_visit")
        return db.session.get(HomeVisit, twin_id)
    return visit


def change(actor: User | None, visit: HomeVisit, data: dict) -> HomeVisit:
    """Correct a recorded visit (a laptop's later version of it), under the same rules as recording one."""
    check(visit.person, visit.posyandu_id, data)
    acting(db.session, actor)
    for k, v in _values(data).items():
        if getattr(visit, k) != v:
            setattr(visit, k, v)
    db.session.flush()
    return visit
