"""The conflict page on the district (issue 14): a push answered `edited_on_both` or `same_nik` leaves a case the
kelurahan clerk and district admin of the laptop's Posyandu see (nobody else), and deciding it writes the chosen
values, is audited, and is a new server version that the laptop's next pull brings."""
import re
import uuid

from sqlalchemy import select

from posyandu.extensions import db
from posyandu.models import AuditLog, Person, SyncCase, SyncRow, User
from tests.conftest import PASSWORD
from tests.sync_helpers import api, enrolled


def _id():
    return str(uuid.uuid4())


def _conflict(app, tree):
    """Laptop A1 changed the child's phone and RT while the district changed the phone: (credential, answer)."""
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    child = tree.people["child_A1"]
    base = db.session.scalar(select(SyncRow.seq).where(SyncRow.uuid == child.uuid))
    child.phone = "0811"  # edited on the district
    db.session.commit()
    data = {"posyandu": tree.posyandu["A1"].uuid, "name": child.name, "sex": child.sex,
            "mother": tree.people["mother_A1"].uuid, "birth_date": child.birth_date.isoformat(), "phone": "0822",
            "rt": "007"}
    change = {"id": _id(), "entity": "person", "uuid": child.uuid, "base": base, "at": "2026-12-02T09:00:00",
              "data": data, "changed": {"phone": None, "rt": None}}
    answer = api(app, "POST", "/push", {"changes": [change]}, credential=cred)[1]["results"][0]
    return cred, change, answer


def _clerk_b(tree):
    u = User(username="clerk_b", display_name="Clerk B", role="kelurahan_clerk", district_id=tree.districts["D"].id,
             kelurahan_id=tree.kelurahan["B"].id, password_hash=tree.users["clerk_a"].password_hash)
    db.session.add(u)
    db.session.commit()


def test_a_conflict_a_push_answers_is_kept_and_listed_in_scope_only(app, tree, login):
    cred, change, answer = _conflict(app, tree)
    assert (answer["status"], answer["code"]) == ("conflict", "edited_on_both")
    case = db.session.scalar(select(SyncCase))
    assert (case.kind, case.status, case.fields) == ("edited_on_both", "open", ["rt", "phone"])
    assert (case.server["phone"], case.laptop["phone"], case.base["phone"]) == ("0811", "0822", None)
    # the laptop sends the same change again (its run was cut): still one case
    api(app, "POST", "/push", {"changes": [change]}, credential=cred)
    assert db.session.query(SyncCase).count() == 1

    for username in ("clerk_a", "admin_d"):
        c = login(username)
        page = c.get("/konflik-sinkron/").get_data(as_text=True)
        assert f'id="case-{case.id}"' in page and "Anak A1" in page
        assert "Konflik sinkron (1)" in c.get("/").get_data(as_text=True)  # the menu counts it
        assert c.get(f"/konflik-sinkron/{case.id}").status_code == 200
    _clerk_b(tree)
    for username in ("clerk_b", "admin_e"):
        c = login(username)
        assert f'id="case-{case.id}"' not in c.get("/konflik-sinkron/").get_data(as_text=True)
        assert c.get(f"/konflik-sinkron/{case.id}").status_code == 404
    for username in ("ketua_a1", "nakes_a"):
        assert login(username).get("/konflik-sinkron/").status_code == 403


def test_resolving_writes_the_choice_audits_it_and_the_next_pull_brings_it(app, tree, login):
    cred, change, _ = _conflict(app, tree)
    case = db.session.scalar(select(SyncCase))
    child = tree.people["child_A1"]
    since = api(app, "GET", "/pull?since=0", credential=cred)[1]["seq"]
    c = login("clerk_a")
    page = c.get(f"/konflik-sinkron/{case.id}").get_data(as_text=True)
    # the RT only the laptop changed is ticked as the laptop's; the phone changed on both sides is not ticked
    assert re.search(r'name="choice-rt" value="laptop" checked', page)
    assert not re.search(r'name="choice-phone" value="\w+" checked', page)

    missing = c.post(f"/konflik-sinkron/{case.id}", {"choice-rt": "laptop", "action": "one_person"})
    assert missing.status_code == 422 and "Pilih salah satu" in missing.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "open"

    done = c.post(f"/konflik-sinkron/{case.id}", {"choice-phone": "typed", "typed-phone": "0833",
                                                  "choice-rt": "laptop", "action": "one_person"})
    assert done.status_code == 303
    db.session.refresh(child)
    db.session.refresh(case)
    assert (child.phone, child.rt) == ("0833", "007")
    assert (case.status, case.outcome, case.resolver.username) == ("resolved", "one_person", "clerk_a")
    assert case.resolution["phone"] == {"chose": "typed", "value": "0833"}
    audits = db.session.scalars(select(AuditLog).where(AuditLog.entity.in_(("sync_case", "person")),
                                                       AuditLog.actor_id == tree.users["clerk_a"].id)).all()
    assert {(a.entity, a.action) for a in audits} >= {("sync_case", "update"), ("person", "update")}
    pulled = api(app, "GET", f"/pull?since={since}", credential=cred)[1]["records"]
    assert [(r["uuid"], r["data"]["phone"], r["data"]["rt"]) for r in pulled] == [(child.uuid, "0833", "007")]
    # on the laptop, the pulled record overwrites its copy and the record leaves the conflict state
    from posyandu.models import SyncState
    from posyandu.sync import laptop
    from posyandu.sync.tracking import APPLYING

    db.session.add(SyncState(entity="person", uuid=child.uuid, state="conflict", change_id=change["id"],
                             code="edited_on_both"))
    db.session.commit()
    app.config["SYNC_LAPTOP"] = True
    report = laptop.Report()
    db.session.info[APPLYING] = True
    laptop._apply_page(pulled, report, *laptop._prefetch(pulled))
    db.session.commit()
    db.session.info.pop(APPLYING)
    app.config["SYNC_LAPTOP"] = False
    state = db.session.scalar(select(SyncState).where(SyncState.uuid == child.uuid))
    assert (report.pulled, state.state, state.code) == (1, "synced", None)
    assert "Tidak ada konflik yang menunggu" in c.get("/konflik-sinkron/").get_data(as_text=True)
    assert c.post(f"/konflik-sinkron/{case.id}", {"choice-phone": "server", "choice-rt": "server",
                                                  "action": "one_person"}).status_code == 303
    db.session.refresh(child)
    assert child.phone == "0833"  # a decided case is not decided again


def test_keeping_the_servers_values_is_still_news_for_the_laptop(app, tree, login):
    cred, _, _ = _conflict(app, tree)
    case = db.session.scalar(select(SyncCase))
    since = api(app, "GET", "/pull?since=0", credential=cred)[1]["seq"]
    assert login("admin_d").post(f"/konflik-sinkron/{case.id}", {"choice-phone": "server", "choice-rt": "server",
                                                                 "action": "one_person"}).status_code == 303
    pulled = api(app, "GET", f"/pull?since={since}", credential=cred)[1]["records"]
    assert [(r["data"]["phone"], r["data"]["rt"]) for r in pulled] == [("0811", None)]


def _same_nik(app, tree):
    _, first = enrolled(app, tree.posyandu["A1"].id, "Laptop 1")
    _, second = enrolled(app, tree.posyandu["A1"].id, "Laptop 2")

    def registration(name, birth):
        return {"id": _id(), "entity": "person", "uuid": _id(), "base": 0,
                "data": {"posyandu": tree.posyandu["A1"].uuid, "name": name, "sex": "P", "nik": "6474015507150001",
                         "birth_date": birth, "mother": tree.people["mother_A1"].uuid}}
    one, two = registration("Siti Aminah", "2015-07-15"), registration("Siti Rahma", "2015-07-16")
    api(app, "POST", "/push", {"changes": [one]}, credential=first)
    answer = api(app, "POST", "/push", {"changes": [two]}, credential=second)[1]["results"][0]
    assert (answer["status"], answer["code"]) == ("applied", "same_nik")
    return one, two, second


def test_same_nik_shows_both_and_confirms_one_person(app, tree, login):
    one, two, cred = _same_nik(app, tree)
    case = db.session.scalar(select(SyncCase))
    assert (case.kind, case.fields, case.laptop_uuid) == ("same_nik", ["name", "birth_date"], two["uuid"])
    c = login("clerk_a")
    page = c.get(f"/konflik-sinkron/{case.id}").get_data(as_text=True)
    assert "Siti Aminah" in page and "Siti Rahma" in page and "Ibu A1" in page
    assert "dikirim dari Laptop 1" in page and "dikirim dari Laptop 2" in page
    assert c.post(f"/konflik-sinkron/{case.id}", {"choice-name": "laptop", "choice-birth_date": "server",
                                                  "action": "one_person"}).status_code == 303
    person = db.session.scalar(select(Person).where(Person.uuid == one["uuid"]))
    assert (person.name, person.birth_date.isoformat()) == ("Siti Rahma", "2015-07-15")
    assert db.session.query(Person).filter(Person.nik == "6474015507150001").count() == 1


def test_same_nik_of_two_people_keeps_them_apart_with_the_nik_fixed(app, tree, login):
    one, two, cred = _same_nik(app, tree)
    case = db.session.scalar(select(SyncCase))
    since = api(app, "GET", "/pull?since=0", credential=cred)[1]["seq"]
    c = login("admin_d")
    bad = c.post(f"/konflik-sinkron/{case.id}", {"action": "two_people", "fix": "laptop",
                                                 "new_nik": "6474015507150001"})
    assert bad.status_code == 422
    assert c.post(f"/konflik-sinkron/{case.id}", {"action": "two_people", "fix": "laptop",
                                                  "new_nik": "6474015607150002"}).status_code == 303
    people = {p.name: p for p in db.session.scalars(select(Person).where(Person.name.like("Siti%")))}
    assert (people["Siti Aminah"].nik, people["Siti Rahma"].nik) == ("6474015507150001", "6474015607150002")
    assert people["Siti Rahma"].birth_date.isoformat() == "2015-07-16"
    assert people["Siti Rahma"].mother_id == tree.people["mother_A1"].id
    db.session.refresh(case)
    assert (case.status, case.outcome, case.other_person_id) == ("resolved", "two_people", people["Siti Rahma"].id)
    pulled = {r["data"]["name"] for r in api(app, "GET", f"/pull?since={since}", credential=cred)[1]["records"]}
    assert pulled == {"Siti Aminah", "Siti Rahma"}  # the laptop gets both
