"""A laptop app (its own SQLite file) syncing with the district app in the same process (docs/sync.md): what the
laptop records offline beyond the session day reaches the district; the district's month states, settings and
the history of people who moved in (or were merged) reach the laptop; a frozen month is refused on the laptop
with the same reason."""
import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from posyandu import create_app
from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import (Commitment, District, HariBuka, HomeVisit, Kader, KaderSigner, KbmTable, Measurement,
                             Person, PersonTransfer, Posyandu, PosyanduMonth, Pregnancy, ServiceRecord, User, Visit)
from posyandu.services import commitments, identity, months
from posyandu.services import session_day as sd
from posyandu.services.accounts import hash_password
from posyandu.services.month_lock import MonthClosed
from posyandu.sync import laptop
from posyandu.sync.protocol import HEADER, PROTOCOL, Refused
from tests.conftest import base_config
from tests.sync_helpers import enrolled, on


class InProcess:
    """The laptop's transport, answered by the district app's test client (what `sync run` sends over HTTP)."""

    def __init__(self, district, credential):
        self.district, self.credential = district, credential
        self.round_trips = self.sent = 0

    def call(self, method, path, payload=None):
        import json

        self.round_trips += 1
        data = json.dumps(payload).encode() if payload is not None else None
        self.sent += len(data or b"")
        with self.district.app_context():
            resp = self.district.test_client().open(
                "/sync/v1" + path, method=method, data=data, content_type="application/json",
                headers={HEADER: str(PROTOCOL), "Authorization": f"Device {self.credential}"})
            body = resp.get_json(silent=True) or {}
            db.session.remove()
        if resp.status_code >= 400:
            raise Refused(resp.status_code, body.get("error", "http_error"), body.get("message", ""))
        return body


@pytest.fixture
def pair(app, tree, sqlite_template, tmp_path):
    """(laptop app, sync): a laptop for Posyandu A1 enrolled with the district `app`; sync() runs push + pull."""
    path = tmp_path / "laptop.sqlite"
    shutil.copy(sqlite_template, path)
    lap = create_app(base_config(f"sqlite:///{path}", SYNC_LAPTOP=True))
    _, credential = enrolled(app, tree.posyandu["A1"].id)
    transport = InProcess(app, credential)

    def sync():
        db.session.commit()
        with lap.app_context():
            report = laptop.run(transport)
            db.session.remove()
        db.session.expire_all()
        return report
    yield lap, sync
    with lap.app_context():
        db.engine.dispose()


def _one(model, **where):
    return db.session.scalar(select(model).filter_by(**where))


def test_offline_records_reach_the_district(app, tree, pair):
    lap, sync = pair
    satu = _one(Kader, name="Kader Satu")
    template = commitments.ensure_template(None, tree.districts["D"].id, date.today().year)
    db.session.add(KaderSigner(kader_id=satu.id, pin_hash=hash_password("258036")))
    db.session.add(KbmTable(district_id=tree.districts["D"].id, name="KBM Kota D", valid_from=date(2026, 1, 1),
                            grams={"1": 800, "2": 900}))
    tree.districts["D"].place_name = "Tepian"
    db.session.commit()
    sync()

    def settings():
        district = _one(District, name="Kota D")
        kbm = sd.current_kbm(date.today(), district.id)
        return district.place, kbm.name, kbm.grams
    assert on(lap, settings) == ("Tepian", "KBM Kota D", {"1": 800, "2": 900})  # N/T/O/B as on the district

    def offline():
        ketua = _one(User, username="ketua_a1")
        kader = _one(Kader, name="Kader Satu")
        mother = _one(Person, name="Ibu A1")
        local = commitments.current_template(ketua.district_id, date.today().year)
        commitments.sign(ketua, kader, ketua.posyandu_id, local, "typed", typed="Kader Satu", pin="258036")
        from posyandu.services import home_visits, people

        home_visits.record(ketua, _one(Person, name="Anak A1"),
                           {"visited_on": date.today(), "kader_id": kader.id, "findings": "sehat"})
        db.session.commit()
        people.add_pregnancy(ketua, mother, {"hpht": date.today() - timedelta(days=20)})
        return local.uuid
    assert on(lap, offline) == template.uuid  # the district's text, pulled
    report = sync()
    assert not report.problems and report.pushed["applied"] == 3
    c = _one(Commitment, kader_id=satu.id)
    assert (c.signer_method, c.text_sha256, c.template_id, c.recorded_by_id) == (
        "pin", template.body_sha256, template.id, tree.users["ketua_a1"].id)
    assert _one(HomeVisit, findings="sehat").kader_id == satu.id
    assert db.session.scalar(select(func.count()).select_from(Pregnancy).where(
        Pregnancy.person_id == tree.people["mother_A1"].id)) == 2
    again = sync()
    assert again.pushed == {} and again.pulled == 0


def test_a_frozen_month_arrives_and_is_refused_on_the_laptop(app, tree, pair):
    lap, sync = pair
    pos, month = tree.posyandu["A1"], shift_month(date.today(), -1)
    day = month + timedelta(days=2)
    hb = sd.open_session(tree.users["ketua_a1"], pos, day)
    visit = sd.add_to_queue(tree.users["ketua_a1"], hb, tree.people["child_A1"])
    sd.save_measurement(tree.users["ketua_a1"], visit, {"weight_kg": 9.1, "length_cm": 74.0, "position": "l"}, True)
    db.session.commit()
    sync()  # the laptop holds the month's records before it is approved
    for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
        getattr(months, step)(tree.users[who], pos, month)
    db.session.commit()
    sync()

    def local_edit():
        m = db.session.scalar(select(Measurement).join(Visit).join(HariBuka).where(HariBuka.held_on == day))
        assert db.session.scalar(select(PosyanduMonth.state)) == "approved"
        m.weight_kg = 9.9
        with pytest.raises(MonthClosed):
            db.session.flush()
        db.session.rollback()
    on(lap, local_edit)

    months.reopen(tree.users["clerk_a"], pos, month, "koreksi")  # reopened, corrected, approved again
    db.session.commit()
    m = _one(Measurement, visit_id=visit.id)
    m_uuid = m.uuid
    sd.save_measurement(tree.users["ketua_a1"], visit, {"weight_kg": 9.3, "length_cm": 74.0, "position": "l"}, True)
    for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
        getattr(months, step)(tree.users[who], pos, month)
    db.session.commit()
    sync()  # the correction comes in although the month is approved on both sides
    assert on(lap, lambda: (db.session.scalar(select(Measurement.weight_kg).where(Measurement.uuid == m_uuid)),
                            db.session.scalar(select(PosyanduMonth.state)))) == (9.3, "approved")


def test_a_person_who_moved_in_arrives_with_her_history(app, tree, pair):
    lap, sync = pair
    child = tree.people["child_A2"]
    a2 = tree.sessions["A2"]
    visit = _one(Visit, hari_buka_id=a2.id, person_id=child.id)
    sd.save_measurement(tree.users["ketua_a1"], visit, {"weight_kg": 9.0, "length_cm": 75.0, "position": "l"}, True)
    db.session.add(ServiceRecord(person_id=child.id, kind="imunisasi", code="BCG",
                                 given_on=child.birth_date + timedelta(days=20)))
    db.session.commit()
    sync()
    child_uuid = child.uuid  # read here: inside the laptop's app context an expired object would load from it
    assert on(lap, lambda: _one(Person, uuid=child_uuid)) is None  # not yet this Posyandu's

    tr = PersonTransfer(person_id=child.id, from_posyandu_id=tree.posyandu["A2"].id,
                        to_posyandu_id=tree.posyandu["A1"].id, moved_on=date.today())
    db.session.add(tr)
    db.session.commit()
    identity.decide(tree.users["clerk_a"], tr, True)
    tr_uuid = tr.uuid
    a2.notes = "hujan"  # the old Posyandu's hari buka changes again before the laptop pulls: still numbered for A1
    db.session.commit()
    sync()

    def history():
        p = _one(Person, uuid=child_uuid)
        pos = db.session.get(Posyandu, p.posyandu_id).name
        ms = db.session.scalars(select(Measurement.weight_kg).where(Measurement.person_id == p.id)).all()
        services = db.session.scalars(select(ServiceRecord.code).where(ServiceRecord.person_id == p.id)).all()
        where = db.session.scalar(select(Posyandu.name).join(HariBuka).join(Visit).where(Visit.person_id == p.id))
        return pos, ms, services, where, _one(PersonTransfer, uuid=tr_uuid).status
    assert on(lap, history) == ("Posyandu A1", [9.0], ["BCG"], "Posyandu A2", "approved")


def test_a_merge_on_the_server_reaches_the_laptop(app, tree, pair):
    lap, sync = pair
    keep = tree.people["child_A1"]
    twin = Person(posyandu_id=keep.posyandu_id, name="Anak A1 (ganda)", sex=keep.sex, birth_date=keep.birth_date)
    db.session.add(twin)
    db.session.flush()
    db.session.add(ServiceRecord(person_id=twin.id, kind="imunisasi", code="HB0", given_on=twin.birth_date))
    db.session.commit()
    twin_uuid, keep_uuid = twin.uuid, keep.uuid
    sync()
    assert on(lap, lambda: _one(Person, uuid=twin_uuid).deleted_at) is None
    identity.merge(tree.users["clerk_a"], keep, twin)
    sync()

    def after():
        gone, kept = _one(Person, uuid=twin_uuid), _one(Person, uuid=keep_uuid)
        hb0 = _one(ServiceRecord, code="HB0")
        return gone.deleted_at is not None, gone.merged_into_id == kept.id, hb0.person_id == kept.id
    assert on(lap, after) == (True, True, True)


def test_a_laptop_never_merges_nor_approves(app, tree, pair):
    lap, sync = pair
    sync()

    def try_it():
        clerk = _one(User, username="clerk_a")
        a, b = _one(Person, name="Anak A1"), _one(Person, name="Ibu A1")
        with pytest.raises(identity.MergeConflict):
            identity.merge(clerk, a, b)
        tr = PersonTransfer(person_id=a.id, from_posyandu_id=a.posyandu_id, to_posyandu_id=a.posyandu_id,
                            moved_on=date.today())
        return identity.may_decide(clerk, tr)
    assert on(lap, try_it) is False
