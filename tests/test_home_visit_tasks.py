"""Home-visit tasks from the data (issue 9 item 5): absence only once the day is over; adults' and lansia's
danger findings and referrals make tasks too."""
from datetime import date, timedelta

from posyandu.extensions import db
from posyandu.models import HariBuka, Measurement, ScreeningRecord, ServiceRecord, Visit
from posyandu.models.base import utcnow
from posyandu.services import home_visits as svc

from .factories import person


def _keys(pos_id, on, code):
    return {(t.person_id, t.key) for t in svc.tasks(pos_id, on) if t.code == code}


def test_absence_is_known_only_when_the_day_is_closed_or_over(tree):
    pos = tree.posyandu["A1"]
    today = date.today()
    last_week = tree.sessions["A1"].held_on
    mother = tree.people["mother_A1"]
    before = _keys(pos.id, today, "absent")
    assert (mother.id, f"absent:{last_week}") in before  # last week's day is over: she did not come
    hb = HariBuka(posyandu_id=pos.id, held_on=today)  # today's hari buka, still open, nobody queued yet
    db.session.add(hb)
    db.session.commit()
    assert _keys(pos.id, today, "absent") == before  # not "tidak hadir" today while the day is open
    hb.closed_at = utcnow()
    db.session.commit()
    assert (mother.id, f"absent:{today}") in _keys(pos.id, today, "absent")
    hb.closed_at = None  # reopened, but tomorrow the date is over
    db.session.commit()
    assert (mother.id, f"absent:{today}") in _keys(pos.id, today + timedelta(days=1), "absent")


def test_adult_and_lansia_danger_findings_and_referrals_make_tasks(tree):
    pos = tree.posyandu["A1"]
    today = date.today()
    hb = tree.sessions["A1"]
    adult = person(pos, "Bapak Tensi", "L", date(1980, 1, 1))
    lansia = person(pos, "Nenek Gula", "P", date(1950, 1, 1))
    fine = person(pos, "Ibu Sehat", "P", date(1985, 1, 1))
    remaja = person(pos, "Remaja Rujuk", "L", today - timedelta(days=16 * 365))
    visits = {}
    for n, (p, grp) in enumerate(((adult, "dewasa"), (lansia, "lansia"), (fine, "dewasa"),
                                  (remaja, "usia_sekolah_remaja")), 2):
        v = Visit(hari_buka_id=hb.id, person_id=p.id, queue_number=n, group=grp, step=0)
        db.session.add(v)
        db.session.flush()
        visits[p.id] = v
    for p, kw in ((adult, dict(systolic=150, diastolic=95)), (lansia, dict(glucose_mg_dl=250, systolic=120, diastolic=80)),
                  (fine, dict(systolic=118, diastolic=76, glucose_mg_dl=110))):
        db.session.add(Measurement(person_id=p.id, posyandu_id=pos.id, visit_id=visits[p.id].id,
                                   measured_on=hb.held_on, weight_kg=60.0, **kw))
    db.session.add(ServiceRecord(person_id=lansia.id, visit_id=visits[lansia.id].id, kind="rujukan", code="",
                                 note="high_glucose", given_on=hb.held_on))
    db.session.add(ScreeningRecord(visit_id=visits[remaja.id].id, person_id=remaja.id, questionnaire="puma",
                                   version="1", answers={}, score=7, band="tinggi", refer=True))
    db.session.commit()
    tasks = {(t.person_id, t.code): t for t in svc.tasks(pos.id, today)}
    assert tasks[(adult.id, "danger_adult")].detail == "TD 150/95"
    assert tasks[(lansia.id, "danger_adult")].detail == "GDS 250"
    assert tasks[(lansia.id, "rujukan")].key == f"rujukan:{hb.held_on}"
    assert tasks[(remaja.id, "rujukan")].detail == "PUMA"
    assert not [k for k in tasks if k[0] == fine.id]
    # a finding older than the recent window is no longer a task
    later = today + timedelta(days=svc.RECENT_DAYS + 10)
    assert not [t for t in svc.tasks(pos.id, later) if t.code in ("danger_adult", "rujukan")]
