"""An approved month refuses changes to its records on every path a person can take: each meja, the hari buka
itself, a home visit or an immunisation dated in it, a merge moving its history — each refused with the reason,
and nothing changed. (The flush listener and database triggers themselves: tests/test_month_close.py.)"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import HariBuka, HomeVisit, Measurement, ServiceRecord, Visit
from posyandu.services import months

from .factories import person


@pytest.fixture
def closed(app, tree):
    """Posyandu A1 held a hari buka last month, weighed the child, and the month is approved."""
    pos, child = tree.posyandu["A1"], tree.people["child_A1"]
    month = shift_month(date.today(), -1)
    held = month + timedelta(days=2 if month + timedelta(days=2) != tree.sessions["A1"].held_on else 3)
    hb = HariBuka(posyandu_id=pos.id, held_on=held)
    visit = Visit(person_id=child.id, queue_number=1, group="balita", step=2)
    hb.visits.append(visit)
    db.session.add(hb)
    db.session.flush()
    m = Measurement(person_id=child.id, posyandu_id=pos.id, visit_id=visit.id, measured_on=held, weight_kg=9.1,
                    length_cm=76.0, position="l")
    db.session.add(m)
    db.session.commit()
    u = tree.users
    for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
        getattr(months, step)(u[who], pos, month)
    db.session.commit()
    return {"hb": hb, "visit": visit, "m": m, "month": month, "held": held}


REASON = "sudah disetujui"


def test_every_meja_refuses_a_save_in_an_approved_month(app, tree, login, closed):
    ketua = login("ketua_a1")
    hb, visit = closed["hb"], closed["visit"]
    base = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja"
    for meja, data in ((2, {"weight_kg": "9,8", "length_cm": "77", "position": "l"}), (3, {}),
                       (4, {"notes": "ASI"}), (5, {"vit_a": "biru"})):
        resp = ketua.post(f"{base}/{meja}", data)
        assert resp.status_code == 409, meja
        assert REASON in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Measurement, closed["m"].id).weight_kg == 9.1
    assert db.session.get(Visit, visit.id).step == 2
    # The day itself cannot be closed or reopened any more, nor a new day opened in that month.
    assert ketua.post(f"/hari-buka/{hb.id}/tutup", {}).status_code == 409
    assert db.session.get(HariBuka, hb.id).closed_at is None


def test_dates_in_an_approved_month_are_refused_on_forms_with_the_reason(app, tree, login, closed):
    ketua, child = login("ketua_a1"), tree.people["child_A1"]
    held = closed["held"]
    resp = ketua.post(f"/kunjungan-rumah/catat/{child.id}", {"visited_on": held.isoformat(), "findings": "sehat",
                                                             "idempotency_key": "hv-closed-1"})
    assert resp.status_code == 422 and REASON in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HomeVisit)) == 0
    ok = ketua.post(f"/kunjungan-rumah/catat/{child.id}", {"visited_on": date.today().isoformat(),
                                                           "findings": "sehat", "idempotency_key": "hv-open-1"})
    assert ok.status_code == 303  # an open month is untouched by the lock
    ketua.post(f"/hari-buka/sasaran/{child.id}/imunisasi", {"code": "campak", "given_on": held.isoformat()})
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)) == 0


def test_a_merge_that_would_move_a_closed_months_history_is_refused(app, tree, login, closed):
    child = tree.people["child_A1"]
    twin = person(tree.posyandu["A1"], child.name, child.sex, child.birth_date)
    db.session.commit()
    resp = login("clerk_a").post(f"/sasaran/{twin.id}/gabung", {"other_id": child.id})
    assert resp.status_code == 409 and REASON in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Measurement, closed["m"].id).person_id == child.id


def test_after_a_reopen_the_same_save_goes_through(app, tree, login, closed):
    months.reopen(tree.users["clerk_a"], tree.posyandu["A1"], closed["month"], "Berat salah ketik")
    db.session.commit()
    hb, visit = closed["hb"], closed["visit"]
    resp = login("ketua_a1").post(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2",
                                  {"weight_kg": "9,8", "length_cm": "77", "position": "l"})
    assert resp.status_code == 303
    db.session.expire_all()
    assert db.session.get(Measurement, closed["m"].id).weight_kg == 9.8
