"""Month close, the core: the steps of a Posyandu-month, who may take them, timeliness, and the freeze of an
approved month in the service layer and in the database."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from posyandu.domain import months as dom
from posyandu.extensions import db
from posyandu.models import HariBuka, Measurement, MonthEvent, PosyanduMonth, ServiceRecord, Visit
from posyandu.services import month_snapshot, months
from posyandu.services.month_lock import MonthClosed

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
TODAY = date(2026, 12, 3)


def test_domain_steps_and_levels():
    assert dom.target("submit", "open", True) == "submitted"
    assert dom.target("approve", "submitted", True) is None  # the Puskesmas verifies first
    assert dom.target("approve", "submitted", False) == "approved"  # a district without the verify level
    assert dom.target("verify", "submitted", False) is None
    assert dom.target("reopen", "open", True) is None
    assert dom.role_may("ketua", "submit", "open") and not dom.role_may("ketua", "approve", "verified")
    assert not dom.role_may("nakes", "reopen", "approved")  # a lower level cannot undo the kelurahan's approval
    assert dom.role_may("district_admin", "reopen", "approved")
    assert dom.deadline(NOV, 5) == date(2026, 12, 5)
    assert dom.on_time(date(2026, 12, 5), NOV, 5) and not dom.on_time(date(2026, 12, 6), NOV, 5)


def _session_in(pos, day: date, person) -> tuple[HariBuka, Measurement]:
    hb = HariBuka(posyandu_id=pos.id, held_on=day)
    visit = Visit(person_id=person.id, queue_number=1, group="balita", step=3)
    hb.visits.append(visit)
    db.session.add(hb)
    db.session.flush()
    m = Measurement(person_id=person.id, posyandu_id=pos.id, visit_id=visit.id, measured_on=day, weight_kg=9.1)
    db.session.add(m)
    db.session.commit()
    return hb, m


def _refused(exc=MonthClosed, match=None):
    """The change is refused; afterwards the session forgets the refused change (as a finished request does)."""
    class Refused:
        def __enter__(self):
            self.raises = pytest.raises(exc, match=match)
            return self.raises.__enter__()

        def __exit__(self, *info):
            out = self.raises.__exit__(*info)
            db.session.rollback()
            db.session.expire_all()
            return out
    return Refused()


def _close(tree, key: str, month: date):
    pos, u = tree.posyandu[key], tree.users
    months.submit(u["ketua_a1"], pos, month, today=TODAY)
    months.verify(u["nakes_a"], pos, month, today=TODAY)
    pm = months.approve(u["clerk_a"], pos, month, today=TODAY)
    db.session.commit()
    return pm


def test_a_month_goes_through_its_levels_with_who_and_when(app, tree):
    pos, u = tree.posyandu["A1"], tree.users
    _session_in(pos, date(2026, 11, 10), tree.people["child_A1"])
    with pytest.raises(months.MonthError, match="role"):
        months.submit(u["nakes_a"], pos, NOV, today=TODAY)
    pm = months.submit(u["ketua_a1"], pos, NOV, today=TODAY)
    assert pm.state == "submitted" and pm.submitted_by_id == u["ketua_a1"].id and pm.on_time is True
    with pytest.raises(months.MonthError, match="state"):
        months.approve(u["clerk_a"], pos, NOV, today=TODAY)  # not verified yet
    with pytest.raises(months.MonthError, match="reason"):
        months.reopen(u["nakes_a"], pos, NOV, "  ", today=TODAY)  # sending back needs a reason
    months.reopen(u["nakes_a"], pos, NOV, "Berat Siti belum dicek", today=TODAY)
    months.submit(u["ketua_a1"], pos, NOV, today=TODAY)
    months.verify(u["nakes_a"], pos, NOV, today=TODAY)
    pm = months.approve(u["clerk_a"], pos, NOV, today=TODAY)
    db.session.commit()
    assert pm.state == "approved" and pm.snapshot["report"] is not None
    assert pm.snapshot_sha256 == month_snapshot.digest(pm.snapshot)
    steps = [(e.action, e.from_state, e.to_state, e.reason) for e in pm.events]
    assert steps == [("submit", "open", "submitted", None), ("reopen", "submitted", "open", "Berat Siti belum dicek"),
                     ("submit", "open", "submitted", None), ("verify", "submitted", "verified", None),
                     ("approve", "verified", "approved", None)]
    with pytest.raises(months.MonthError, match="role"):
        months.reopen(u["nakes_a"], pos, NOV, "late correction", today=TODAY)  # approved above the nakes


def test_a_month_waits_for_the_one_before(app, tree):
    pos, u = tree.posyandu["A1"], tree.users
    _session_in(pos, date(2026, 10, 10), tree.people["child_A1"])
    with pytest.raises(months.MonthError, match="previous_open"):
        months.submit(u["ketua_a1"], pos, NOV, today=TODAY)
    months.submit(u["ketua_a1"], pos, OCT, today=TODAY)
    assert months.submit(u["ketua_a1"], pos, NOV, today=TODAY).state == "submitted"
    with pytest.raises(months.MonthError, match="future"):
        months.submit(u["ketua_a1"], pos, date(2027, 1, 1), today=TODAY)


def test_timeliness_is_the_first_submission_by_the_server_clock_in_wita(app, tree):
    pos, u = tree.posyandu["A1"], tree.users
    months.submit(u["ketua_a1"], pos, OCT, today=TODAY)  # first submitted today, in December: late for October
    pm = months.month_of(pos.id, OCT)
    assert pm.on_time is False and pm.first_submitted_at is not None
    # 5 Dec 23:30 WITA is 15:30 UTC: still on time for November.
    assert months.local_date(datetime(2026, 12, 5, 15, 30)) == date(2026, 12, 5)
    assert months.local_date(datetime(2026, 12, 5, 16, 30)) == date(2026, 12, 6)


def test_an_approved_month_refuses_changes_through_the_orm(app, tree):
    pos = tree.posyandu["A1"]
    hb, m = _session_in(pos, date(2026, 11, 10), tree.people["child_A1"])
    _close(tree, "A1", NOV)
    m.weight_kg = 9.4
    with _refused() as e:
        db.session.commit()
    assert (e.value.posyandu_id, e.value.month) == (pos.id, NOV)
    db.session.add(ServiceRecord(person_id=tree.people["child_A1"].id, kind="vitamin_a", code="biru",
                                 given_on=date(2026, 11, 20)))  # no visit: placed by the person's Posyandu
    with _refused():
        db.session.commit()
    m = db.session.get(Measurement, m.id)
    m.measured_on = date(2026, 12, 1)  # moving a record out of a closed month is a change to it
    with _refused():
        db.session.commit()
    db.session.delete(db.session.get(Measurement, m.id))
    with _refused():
        db.session.commit()
    # Other Posyandu and other months are untouched by the lock.
    _session_in(tree.posyandu["A2"], date(2026, 11, 10), tree.people["child_A2"])
    _session_in(pos, date(2026, 12, 2), tree.people["child_A1"])


def test_the_database_refuses_raw_changes_to_an_approved_month(app, tree):
    pos = tree.posyandu["A1"]
    hb, m = _session_in(pos, date(2026, 11, 10), tree.people["child_A1"])
    _close(tree, "A1", NOV)
    for sql in (f"UPDATE measurement SET weight_kg = 12 WHERE id = {m.id}",
                f"DELETE FROM measurement WHERE id = {m.id}",
                f"UPDATE visit SET step = 0 WHERE hari_buka_id = {hb.id}",
                f"UPDATE hari_buka SET notes = 'x' WHERE id = {hb.id}"):
        with _refused(DBAPIError, "month_closed"):
            db.session.execute(text(sql))
    assert db.session.get(Measurement, m.id).weight_kg == 9.1


def test_reopen_lifts_the_freeze_and_keeps_the_replaced_hash(app, tree):
    pos, u = tree.posyandu["A1"], tree.users
    hb, m = _session_in(pos, date(2026, 11, 10), tree.people["child_A1"])
    first = _close(tree, "A1", NOV).snapshot_sha256
    months.reopen(u["clerk_a"], pos, NOV, "Berat salah ketik", today=TODAY)
    db.session.commit()
    m = db.session.get(Measurement, m.id)
    m.weight_kg = 9.4
    db.session.commit()
    pm = months.month_of(pos.id, NOV)
    assert pm.state == "open" and pm.snapshot is None
    event = db.session.scalar(select(MonthEvent).where(MonthEvent.action == "reopen"))
    assert event.snapshot_sha256 == first and event.reason == "Berat salah ketik"
