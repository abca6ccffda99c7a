"""Push (docs/sync.md): the district applies a laptop's change records one by one, answers per record, is
idempotent on replays, recomputes derived values itself and refuses changes to a closed month with the reason."""
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import Measurement, Person, ServiceRecord, SyncReceipt, SyncRow, Visit
from posyandu.services import months
from tests.sync_helpers import api, enrolled


def _id():
    return str(uuid.uuid4())


def session_day(tree, held_on, child_uuid=None, kg=9.4):
    """The change records of a small session day at Posyandu A1: a new baby, the hari buka, her visit, her
    weighing (with a z-score the laptop made up, which the server must ignore), vitamin A."""
    pos = tree.posyandu["A1"]
    baby, hb, visit = child_uuid or _id(), _id(), _id()
    born = (held_on - timedelta(days=300)).isoformat()
    changes = []
    if child_uuid is None:
        changes.append({"id": _id(), "entity": "person", "uuid": baby, "base": 0, "at": "2026-12-02T08:00:00",
                        "data": {"posyandu": pos.uuid, "name": "Bayi Laptop", "sex": "P", "birth_date": born,
                                 "mother": tree.people["mother_A1"].uuid, "has_kia_book": True, "consent": True}})
    changes += [
        {"id": _id(), "entity": "hari_buka", "uuid": hb, "base": 0,
         "data": {"posyandu": pos.uuid, "held_on": held_on.isoformat(), "step_order": "1,2,3,4,5"}},
        {"id": _id(), "entity": "visit", "uuid": visit, "base": 0,
         "data": {"hari_buka": hb, "person": baby, "queue_number": 1, "group": "balita", "step": 0}},
        {"id": _id(), "entity": "measurement", "uuid": _id(), "base": 0,
         "data": {"visit": visit, "weight_kg": kg, "length_cm": 72.0, "position": "l", "oedema": False,
                  "waz": 9.9}},
        {"id": _id(), "entity": "service", "uuid": _id(), "base": 0,
         "data": {"visit": visit, "person": baby, "kind": "vitamin_a", "code": "biru",
                  "given_on": held_on.isoformat()}},
    ]
    return changes


def push(app, credential, changes):
    status, body = api(app, "POST", "/push", {"changes": changes}, credential=credential, gz=True)
    assert status == 200, body
    return body


def test_a_session_day_is_applied_and_assessed_by_the_server(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    day = date.today() - timedelta(days=1)
    changes = session_day(tree, day)
    body = push(app, cred, changes)
    assert [r["status"] for r in body["results"]] == ["applied"] * 5
    assert all(r["seq"] > 0 for r in body["results"]) and body["seq"] >= max(r["seq"] for r in body["results"])
    baby = db.session.scalar(select(Person).where(Person.uuid == changes[0]["uuid"]))
    assert baby.mother_id == tree.people["mother_A1"].id
    m = db.session.scalar(select(Measurement).where(Measurement.person_id == baby.id))
    assert m.uuid == changes[3]["uuid"] and m.weight_kg == 9.4
    assert m.waz is not None and m.waz < 5 and m.ntob == "B"  # computed here, not the laptop's 9.9
    visit = db.session.get(Visit, m.visit_id)
    assert visit.uuid == changes[2]["uuid"] and visit.step == 0
    assert db.session.scalar(select(ServiceRecord.code).where(ServiceRecord.visit_id == visit.id)) == "biru"


def test_a_replay_changes_nothing_and_a_reused_id_is_a_conflict(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    changes = session_day(tree, date.today())
    first = push(app, cred, changes)
    again = push(app, cred, changes)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 5
    assert [r["seq"] for r in again["results"]] == [r["seq"] for r in first["results"]]
    assert db.session.scalar(select(Person.id).where(Person.name == "Bayi Laptop")) is not None
    assert len(db.session.scalars(select(Person).where(Person.name == "Bayi Laptop")).all()) == 1
    assert db.session.query(SyncReceipt).count() == 5
    other = dict(changes[3], data=dict(changes[3]["data"], weight_kg=9.9))
    assert push(app, cred, [other])["results"][0] == {"id": other["id"], "status": "conflict",
                                                      "code": "change_reused"}


def test_one_bad_record_never_fails_the_batch(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    changes = session_day(tree, date.today())
    stranger = {"id": _id(), "entity": "person", "uuid": _id(), "base": 0,
                "data": {"posyandu": tree.posyandu["A2"].uuid, "name": "X", "sex": "L", "birth_date": "2020-01-01"}}
    dangling = {"id": _id(), "entity": "visit", "uuid": _id(), "base": 0,
                "data": {"hari_buka": _id(), "person": changes[0]["uuid"], "step": 0}}
    bad_date = {"id": _id(), "entity": "person", "uuid": _id(), "base": 0,
                "data": {"posyandu": tree.posyandu["A1"].uuid, "name": "Y", "sex": "L", "birth_date": "kemarin"}}
    newer = {"id": _id(), "entity": "home_visit_v9", "uuid": _id(), "data": {}}
    body = push(app, cred, [stranger, *changes, dangling, bad_date, newer])
    codes = [(r["status"], r.get("code")) for r in body["results"]]
    assert codes == [("refused", "out_of_scope")] + [("applied", None)] * 5 + [
        ("refused", "missing_reference"), ("refused", "invalid"), ("refused", "unknown_entity")]


def test_changes_to_an_approved_month_are_refused_with_the_reason(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    pos, u = tree.posyandu["A1"], tree.users
    month = shift_month(date.today(), -1)
    held = month + timedelta(days=3 if month + timedelta(days=3) != tree.sessions["A1"].held_on else 4)
    changes = session_day(tree, held)
    push(app, cred, changes[:3])  # the baby, the hari buka, the visit
    for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
        getattr(months, step)(u[who], pos, month)
    db.session.commit()
    body = push(app, cred, changes[3:])
    assert [(r["status"], r["code"], r["month"]) for r in body["results"]] == [
        ("refused", "month_closed", f"{month:%Y-%m}")] * 2
    assert "approved" in body["results"][0]["message"]
    assert db.session.scalar(select(Measurement.id).join(Visit).where(Visit.uuid == changes[2]["uuid"])) is None


def test_the_same_hari_buka_opened_on_both_sides_is_adopted(app, tree):
    from posyandu.services import session_day as sd

    _, cred = enrolled(app, tree.posyandu["A1"].id)
    day = date.today()
    server_hb = sd.open_session(tree.users["ketua_a1"], tree.posyandu["A1"], day)
    db.session.commit()
    changes = session_day(tree, day)
    body = push(app, cred, changes)
    assert body["results"][1]["status"] == "applied" and body["results"][1]["uuid"] == server_hb.uuid
    assert body["results"][2]["status"] == "applied"  # the visit named the laptop's hari buka: resolved
    visit = db.session.scalar(select(Visit).where(Visit.uuid == changes[2]["uuid"]))
    assert visit.hari_buka_id == server_hb.id


def test_the_sequence_follows_commits(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    push(app, cred, session_day(tree, date.today()))
    seqs = db.session.scalars(select(SyncRow.seq).order_by(SyncRow.seq)).all()
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gaps, one number per record
    child = tree.people["child_A1"]
    child.phone = "0812"
    db.session.commit()
    row = db.session.scalar(select(SyncRow).where(SyncRow.uuid == child.uuid))
    assert row.seq == seqs[-1] + 1 and row.posyandu_id == child.posyandu_id


def test_a_push_needs_a_device(app, tree):
    assert api(app, "POST", "/push", {"changes": []})[0] == 401


def test_two_laptops_registering_one_nik_make_one_person_and_a_flag(app, tree):
    _, first = enrolled(app, tree.posyandu["A1"].id, "Laptop 1")
    _, second = enrolled(app, tree.posyandu["A1"].id, "Laptop 2")

    def registration(name):
        return {"id": _id(), "entity": "person", "uuid": _id(), "base": 0,
                "data": {"posyandu": tree.posyandu["A1"].uuid, "name": name, "sex": "P", "nik": "6474015507150001",
                         "birth_date": "2015-07-15"}}
    one, two = registration("Siti Aminah"), registration("Siti Aminah (laptop 2)")
    assert push(app, first, [one])["results"][0]["status"] == "applied"
    answer = push(app, second, [two])["results"][0]
    assert (answer["status"], answer["code"], answer["uuid"]) == ("applied", "same_nik", one["uuid"])
    assert db.session.query(Person).filter(Person.nik == "6474015507150001").count() == 1
    # the second laptop's visit for its own copy lands on the one person
    hb = {"id": _id(), "entity": "hari_buka", "uuid": _id(), "base": 0,
          "data": {"posyandu": tree.posyandu["A1"].uuid, "held_on": date.today().isoformat()}}
    visit = {"id": _id(), "entity": "visit", "uuid": _id(), "base": 0,
             "data": {"hari_buka": hb["uuid"], "person": two["uuid"], "step": 2}}
    assert [r["status"] for r in push(app, second, [hb, visit])["results"]] == ["applied", "applied"]
    person = db.session.scalar(select(Person).where(Person.uuid == one["uuid"]))
    assert db.session.scalar(select(Visit.person_id).where(Visit.uuid == visit["uuid"])) == person.id
