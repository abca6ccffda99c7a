"""Read-side queries and view data for the session day (no state changes here)."""
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, exists, func, select
from sqlalchemy.orm import selectinload

from ..domain import counselling, findings, immunisation, kms, rules, screening, supplements
from ..domain.growth_chart import chart_months, kms_chart
from ..domain.lifecycle import age_in_months, gestational_age
from ..extensions import db
from ..models import (Duty, HariBuka, KbmTable, Measurement, Person, Posyandu, Pregnancy, ScreeningRecord,
                      ServiceRecord, User, Visit)
from . import people, scope
from .people import on_roll

LONG_ABSENCE_DAYS = 62


def recent_sessions(user: User, page: int, per_page: int) -> tuple[list[HariBuka], bool]:
    q = (select(HariBuka).where(HariBuka.posyandu_id.in_(scope.posyandu_ids(user)))
         .options(selectinload(HariBuka.posyandu))
         .order_by(HariBuka.held_on.desc(), HariBuka.id.desc()).offset((page - 1) * per_page).limit(per_page + 1))
    rows = list(db.session.scalars(q))
    return rows[:per_page], len(rows) > per_page


def open_today(user: User, on: date, limit: int = 5) -> list[HariBuka]:
    """Hari buka open today in the user's scope: the kader's home page leads straight to their meja."""
    return list(db.session.scalars(
        select(HariBuka).where(HariBuka.posyandu_id.in_(scope.posyandu_ids(user)), HariBuka.held_on == on,
                               HariBuka.closed_at.is_(None))
        .options(selectinload(HariBuka.posyandu)).order_by(HariBuka.id).limit(limit)))


def queue(hb: HariBuka, meja: int) -> list[Visit]:
    """Visits waiting at this meja (at meja 1: everyone queued today, newest first)."""
    q = select(Visit).where(Visit.hari_buka_id == hb.id).options(selectinload(Visit.person))
    if meja == 1:
        q = q.order_by(Visit.queue_number.desc()).limit(30)
    else:
        q = q.where(Visit.step == meja).order_by(Visit.queue_number)
    return list(db.session.scalars(q))


def queue_counts(hb: HariBuka) -> dict[int, int]:
    rows = db.session.execute(select(Visit.step, func.count()).where(Visit.hari_buka_id == hb.id)
                              .group_by(Visit.step)).all()
    counts = dict(rows)
    counts["all"] = sum(counts.values())
    return counts


def search_for_queue(user: User, hb: HariBuka, text: str) -> list[Person]:
    """Registration search, limited to the day's Posyandu."""
    # Filtered in the query: a bidan's scope spans many Posyandu, and the day's people must not fall off page one.
    rows, _ = people.search(user, text, 1, 10, posyandu_id=hb.posyandu_id)
    return rows


@dataclass
class Due:
    """Why a person needs attention at meja 1 (codes: no_nik, imunisasi, vitamin_a, absent). `person`: a row with
    id, name, nik and birth_date."""

    person: Any
    codes: list[str]
    group: str


_IDS = bindparam("ids", expanding=True)
_GIVEN = (select(ServiceRecord.person_id, ServiceRecord.kind, ServiceRecord.code, ServiceRecord.given_on)
          .where(ServiceRecord.person_id.in_(_IDS), ServiceRecord.deleted_at.is_(None),
                 ServiceRecord.kind.in_(("imunisasi", "vitamin_a"))))
_LAST_MEASURED = (select(Measurement.person_id, func.max(Measurement.measured_on))
                  .where(Measurement.person_id.in_(_IDS)).group_by(Measurement.person_id))


def _dues(persons, on: date) -> list[Due]:
    """What is missing or due for each person (rows with id, nik and birth_date): NIK, imunisasi, vitamin A month,
    long absence."""
    if not persons:
        return []
    read = db.session.connection()
    ids = [p.id for p in persons]
    given: dict[int, dict[str, date]] = {}
    vit_a: dict[int, list[date]] = {}
    for pid, kind, code, on_ in read.execute(_GIVEN, {"ids": ids}):
        if kind == "imunisasi":
            given.setdefault(pid, {})[code] = on_
        else:
            vit_a.setdefault(pid, []).append(on_)
    last = dict(read.execute(_LAST_MEASURED, {"ids": ids}).all())
    groups = people.groups_of(persons, on)
    schedule = immunisation.load_schedule()
    out = []
    for p in persons:
        group = groups[p.id]
        codes = []
        if not p.nik:
            codes.append("no_nik")
        if group == "balita":
            doses = immunisation.due_doses(schedule, p.birth_date, on, given.get(p.id, {}))
            if any(d.status in ("due", "overdue") for d in doses):
                codes.append("imunisasi")
            if supplements.vitamin_a_due(p.birth_date, on, vit_a.get(p.id, [])):
                codes.append("vitamin_a")
        if p.id in last and (on - last[p.id]).days > LONG_ABSENCE_DAYS:
            codes.append("absent")
        out.append(Due(p, codes, group))
    return out


@lru_cache(maxsize=8)
def _expected(limit: int):
    """expected_not_come's two statements for a page of `limit` people, built once (bound: posyandu, hb, on,
    born_after, hpht_from): building them afresh cost a tenth of meja 1.

    Two small reads instead of one wide one: the count from the roll index alone (no person row read), the first
    few by walking the Posyandu's name index until `limit` match. One pass with a window count read and sorted
    every matching person's whole row (meja 1's 53 ms of CPU at 150 000 children on SQLite)."""
    on = bindparam("on", type_=Date)
    # Asked per woman of the Posyandu (her pregnancies by person_id), not as a list of the district's open
    # pregnancies: ~15 000 at 150 000 children, each read from the table on SQLite for every page.
    pregnant = exists().where(Pregnancy.person_id == Person.id, Pregnancy.deleted_at.is_(None),
                              Pregnancy.ended_on.is_(None), Pregnancy.hpht <= on,
                              Pregnancy.hpht >= bindparam("hpht_from", type_=Date))
    queued = select(Visit.person_id).where(Visit.hari_buka_id == bindparam("hb"))
    cond = and_(Person.posyandu_id == bindparam("posyandu"), on_roll(on), Person.id.not_in(queued),
                (Person.birth_date > bindparam("born_after", type_=Date)) | pregnant)
    return (select(func.count()).select_from(Person).where(cond),
            select(Person.id, Person.name, Person.nik, Person.birth_date).where(cond)
            .order_by(Person.name, Person.id).limit(limit))


def expected_not_come(hb: HariBuka, limit: int) -> dict:
    """Balita and ibu hamil of the Posyandu not yet queued today: a count and the first few, with their dues.
    Read as rows on the session's connection: the page only shows them, and they are people of the day's own
    Posyandu (whose change renews its token: posyandu.unchanged_pages)."""
    count, first = _expected(limit)
    params = {"posyandu": hb.posyandu_id, "hb": hb.id, "on": hb.held_on,
              "born_after": hb.held_on - timedelta(days=rules.WHO_2006_LAST_DAY),
              "hpht_from": hb.held_on - timedelta(weeks=44)}
    read = db.session.connection()
    total = read.scalar(count, params)
    persons = read.execute(first, params).all() if total else []
    return {"total": total, "rows": _dues(persons, hb.held_on)}


# A measurement as a row of its columns: the meja pages only read it (and no ORM object need be built). These
# reads go on the session's connection, past the ORM's execute path (~90 µs a statement).
_MEASUREMENT = select(Measurement.__table__)


def measurement(visit: Visit):
    """The visit's measurement (a row with every column as an attribute), or None."""
    return db.session.connection().execute(_MEASUREMENT.where(Measurement.visit_id == visit.id)).first()


def _previous(visit: Visit):
    return db.session.connection().execute(_MEASUREMENT.where(
        Measurement.person_id == visit.person_id, Measurement.measured_on < visit.hari_buka.held_on)
        .order_by(Measurement.measured_on.desc()).limit(1)).first()


def person_context(visit: Visit) -> dict:
    """Meja 2: the person, the age and the previous values shown beside the fields."""
    p = visit.person
    on = visit.hari_buka.held_on
    months = age_in_months(p.birth_date, on)
    return {"person": p, "age_days": (on - p.birth_date).days, "age_months": months,
            "measures": rules.measures_for(visit.group, months), "previous": _previous(visit)}


def _as_dict(m) -> dict:
    return dict(m._mapping) if m is not None else {}


def chart_rows(person: Person, upto: date):
    """A child's measurements up to a date, oldest first, with what the charts draw."""
    return db.session.connection().execute(
        select(Measurement.age_days, Measurement.measured_on, Measurement.weight_kg, Measurement.length_cm,
               Measurement.flagged, Measurement.ntob)
        .where(Measurement.person_id == person.id, Measurement.measured_on <= upto)
        .order_by(Measurement.measured_on)).all()


def draw_charts(person: Person, upto: date, rows) -> list[tuple[str, str]]:
    """The two KMS charts (weight-for-age, length/height-for-age) of a child, as SVG strings, from the child's
    measurements up to `upto`, oldest first (rows with age_days, measured_on, weight_kg, length_cm, flagged)."""
    months = chart_months((upto - person.birth_date).days)
    weights, lengths = [], []
    for m in rows:
        days = m.age_days if m.age_days is not None else (m.measured_on - person.birth_date).days
        if m.weight_kg is not None:
            weights.append((days, m.weight_kg, m.flagged))
        if m.length_cm is not None:
            lengths.append((days, m.length_cm, m.flagged))
    from flask_babel import gettext as _

    return [
        ("wfa", kms_chart("wfa", person.sex, weights, title=_("Berat badan menurut umur"), y_label=_("Berat (kg)"),
                          x_label=_("Umur (bulan)"), max_months=months, chart_id=f"bbu-{person.id}")),
        ("lhfa", kms_chart("lhfa", person.sex, lengths, title=_("Panjang/tinggi badan menurut umur"),
                           y_label=_("Panjang/tinggi (cm)"), x_label=_("Umur (bulan)"), max_months=months,
                           chart_id=f"tbu-{person.id}")),
    ]


def weight_gain(visit: Visit, m: dict, rows) -> kms.Gain | None:
    """Meja 3: today's weight against the previous weighing, in grams, with the KBM used for N/T. `rows`: the
    child's measurements up to today, oldest first (`chart_rows`)."""
    on = visit.hari_buka.held_on
    if m.get("weight_kg") is None or visit.group != "balita":
        return None
    history = [kms.Weighing(r.measured_on, r.weight_kg, r.ntob) for r in reversed(rows)
               if r.measured_on < on and r.weight_kg is not None][:3]
    grams = None  # the KBM table's grams only (a row read, no ORM object), or the 2010 table's
    if m.get("kbm_table_id"):
        grams = db.session.connection().scalar(select(KbmTable.grams).where(KbmTable.id == m["kbm_table_id"]))
    if grams is None:
        grams = kms.KBM_KMS_2010
    return kms.gain(history, on, m["weight_kg"], age_in_months(visit.person.birth_date, on), grams)


def pregnancy_weeks(visit: Visit) -> tuple[int, int, Pregnancy] | None:
    """Meja 3 for an ibu hamil: weeks and days since HPHT, and the pregnancy (for HPL)."""
    if visit.group != "ibu_hamil":
        return None
    preg = people.active_pregnancy(visit.person, visit.hari_buka.held_on)
    return (*gestational_age(preg.hpht, visit.hari_buka.held_on), preg) if preg else None


def results_context(visit: Visit) -> dict:
    """Meja 3: today's numbers to copy (weight, length and how measured, gain against KBM, weeks of pregnancy),
    statuses, codes and charts from today's measurement."""
    m = _as_dict(measurement(visit))
    p = visit.person
    child = visit.group == "balita" or (m.get("age_days") or 99999) < 19 * 366 and visit.group == "usia_sekolah_remaja"
    statuses = findings.child_statuses(m) if child else []
    if visit.group != "balita":
        statuses += findings.adult_statuses(m, visit.group, p.sex)
    codes = findings.finding_codes(m, visit.group, p.sex) if m else set()
    on = visit.hari_buka.held_on
    # A balita's measurements up to today, read once for the gain against the last weighings and the charts.
    rows = chart_rows(p, on) if visit.group == "balita" else []
    drawn = visit.group == "balita" and rules.in_who_2006_tables((on - p.birth_date).days)
    return {"m": m, "statuses": statuses, "codes": codes, "person": p, "gain": weight_gain(visit, m, rows),
            "pregnancy": pregnancy_weeks(visit), "charts": draw_charts(p, on, rows) if drawn else [],
            "referral_reasons": findings.referral_reasons(codes)}


def _findings_for(visit: Visit) -> set[str]:
    m = _as_dict(measurement(visit))
    return findings.finding_codes(m, visit.group, visit.person.sex) if m else set()


def counselling_context(visit: Visit) -> dict:
    """Meja 4: topics suggested from the findings, then the rest of the group's topics."""
    codes = _findings_for(visit)
    suggested = counselling.suggest_topics(codes, visit.group)
    return {"codes": codes, "suggested": suggested, "all_topics": suggested,
            "chosen": set(visit.topics or [t.code for t in suggested[:2]])}


def vaccine_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in immunisation.load_schedule().doses]


def services_context(visit: Visit) -> dict:
    """Meja 5: imunisasi due, vitamin A and obat cacing, what was given today, screenings, referral reasons."""
    p = visit.person
    on = visit.hari_buka.held_on
    records = list(db.session.scalars(select(ServiceRecord).where(ServiceRecord.person_id == p.id,
                                                                  ServiceRecord.deleted_at.is_(None))))
    given = {r.code: r.given_on for r in records if r.kind == "imunisasi"}
    today = {(r.kind, r.code) for r in records if r.visit_id == visit.id}
    doses = []
    vitamin_a = deworming = None
    if visit.group == "balita":
        doses = [d for d in immunisation.due_doses(immunisation.load_schedule(), p.birth_date, on, given)
                 if d.status in ("due", "overdue")]
        vitamin_a = supplements.vitamin_a_due(p.birth_date, on, [r.given_on for r in records if r.kind == "vitamin_a"])
        deworming = supplements.deworming_due(p.birth_date, on, [r.given_on for r in records if r.kind == "obat_cacing"])
    codes = _findings_for(visit)
    done = {s.questionnaire: s for s in db.session.scalars(
        select(ScreeningRecord).where(ScreeningRecord.visit_id == visit.id))}
    age_months = age_in_months(p.birth_date, on)
    qs = screening.applicable(screening.load_questionnaires(), visit.group, age_months)
    return {"person": p, "doses": doses, "vitamin_a": vitamin_a, "deworming": deworming, "given_today": today,
            "referral_reasons": findings.referral_reasons(codes), "codes": codes, "questionnaires": qs,
            "screened": done, "pregnant": visit.group == "ibu_hamil",
            "kb": rules.kb_offered(p.sex, visit.group)}


def services_from_form(form, ctx: dict) -> list[tuple[str, str, str | None]]:
    """The services ticked on the meja-5 form, accepted only where the context offered them."""
    items = [("imunisasi", d.code, None) for d in ctx["doses"] if form.get(f"imunisasi-{d.code}") == "y"]
    if ctx["vitamin_a"] and form.get("vitamin_a") == "y":
        items.append(("vitamin_a", ctx["vitamin_a"], None))
    if ctx["deworming"] and form.get("obat_cacing") == "y":
        items.append(("obat_cacing", "", None))
    if form.get("pmt") == "y":
        items.append(("pmt", "", None))
    if ctx["pregnant"] and form.get("ttd") == "y":
        items.append(("ttd", "", None))
    return items


def questionnaire_for(visit: Visit, code: str):
    qs = screening.applicable(screening.load_questionnaires(), visit.group,
                              age_in_months(visit.person.birth_date, visit.hari_buka.held_on))
    return next((q for q in qs if q.code == code), None)


def score_screening(q, answers: dict):
    try:
        return screening.score(q, {k: v for k, v in answers.items() if v})
    except ValueError:
        return None


def _true(column):
    return func.sum(case((column.is_(True), 1), else_=0))


def summary(hb: HariBuka) -> dict:
    """Who came and who did not, how many were served per group, and what was found and given."""
    duties = list(db.session.scalars(select(Duty).where(Duty.hari_buka_id == hb.id).options(selectinload(Duty.kader))))
    groups = dict(db.session.execute(select(Visit.group, func.count()).where(Visit.hari_buka_id == hb.id)
                                     .group_by(Visit.group)).all())
    meas = db.session.execute(
        select(func.count(), _true(Measurement.bgm), _true(Measurement.two_t), _true(Measurement.new_stunting),
               _true(Measurement.flagged))
        .join(Visit, Visit.id == Measurement.visit_id).where(Visit.hari_buka_id == hb.id)).one()
    ntob = dict(db.session.execute(select(Measurement.ntob, func.count()).join(Visit, Visit.id == Measurement.visit_id)
                                   .where(Visit.hari_buka_id == hb.id, Measurement.ntob.is_not(None))
                                   .group_by(Measurement.ntob)).all())
    services = dict(db.session.execute(select(ServiceRecord.kind, func.count()).join(Visit, Visit.id == ServiceRecord.visit_id)
                                       .where(Visit.hari_buka_id == hb.id).group_by(ServiceRecord.kind)).all())
    referred = db.session.scalar(select(func.count()).select_from(ScreeningRecord).join(Visit)
                                 .where(Visit.hari_buka_id == hb.id, ScreeningRecord.refer.is_(True)))
    return {"present": [d for d in duties if d.present], "absent": [d for d in duties if not d.present],
            "duties": duties, "groups": groups, "measured": meas[0] or 0, "bgm": meas[1] or 0, "two_t": meas[2] or 0,
            "new_stunting": meas[3] or 0, "flagged": meas[4] or 0, "ntob": ntob, "services": services,
            "screen_refer": referred or 0, "posyandu": db.session.get(Posyandu, hb.posyandu_id)}
