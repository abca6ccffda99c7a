"""The record kinds beyond the session day (docs/sync.md): pregnancies, home visits, signed commitments and
transfer requests pushed from the laptop — applied, a replay a no-op, a closed month refused — and pulled; the
district's settings (KBM versions, commitment texts, signing PINs, month states) in the reference data."""
import json
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import select

from posyandu.domain.commitment import text_hash
from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import (Commitment, HomeVisit, KaderSigner, KbmTable, PersonTransfer, Pregnancy,
                             SyncReceipt)
from posyandu.services import commitments, months
from posyandu.services.accounts import hash_password
from tests.sync_helpers import api, enrolled
from tests.test_sync_push import push


def _id():
    return str(uuid.uuid4())


def _change(entity, data, record=None):
    return {"id": _id(), "entity": entity, "uuid": record or _id(), "base": 0, "at": "2026-12-02T08:00:00",
            "data": data}


def _pull(app, cred, since=0, ref=""):
    status, body = api(app, "GET", f"/pull?since={since}&ref={ref}", credential=cred)
    assert status == 200, body
    return body


def _pulled(body, entity):
    return {r["uuid"]: r["data"] for r in body["records"] if r["entity"] == entity}


def _approve(tree, month):
    for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
        getattr(months, step)(tree.users[who], tree.posyandu["A1"], month)
    db.session.commit()


def test_a_pregnancy_registered_and_ended_on_the_laptop(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    mother = tree.people["mother_A1"]
    hpht = date.today() - timedelta(days=250)
    reg = _change("pregnancy", {"person": mother.uuid, "hpht": hpht.isoformat(), "hpl": None, "gravida": 3,
                                "para": 2, "abortus": 0, "ended_on": None, "outcome": None, "deleted_at": None})
    first = push(app, cred, [reg])["results"][0]
    assert first["status"] == "applied" and first["seq"] > 0
    preg = db.session.scalar(select(Pregnancy).where(Pregnancy.uuid == reg["uuid"]))
    assert preg.person_id == mother.id and preg.hpl == hpht + timedelta(days=280)  # computed as the form does
    assert push(app, cred, [reg])["results"][0]["status"] == "duplicate"
    ended = _change("pregnancy", dict(reg["data"], ended_on=date.today().isoformat(), outcome="lahir_hidup"),
                    reg["uuid"])
    assert push(app, cred, [ended])["results"][0]["status"] == "applied"
    db.session.refresh(preg)
    assert (preg.ended_on, preg.outcome) == (date.today(), "lahir_hidup")
    bad = _change("pregnancy", dict(reg["data"], ended_on=date.today().isoformat(), outcome="entah"), reg["uuid"])
    assert push(app, cred, [bad])["results"][0]["code"] == "invalid"
    # the server's own pregnancies (the tree's) come down; the laptop's own version does not come back
    pulled = _pulled(_pull(app, cred), "pregnancy")
    assert reg["uuid"] not in pulled
    assert {d["person"] for d in pulled.values()} == {mother.uuid}


def test_a_home_visit_pushed_replayed_refused_in_a_closed_month_and_pulled(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    from posyandu.models import Kader

    child = tree.people["child_A1"]
    kader = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    data = {"posyandu": tree.posyandu["A1"].uuid, "person": child.uuid, "kader": kader.uuid, "user": "kader_a1",
            "visited_on": date.today().isoformat(), "task_code": "T", "task_key": "T:2026-11-10",
            "findings": "makan kurang", "advice": "PMT", "referred": False, "referral_note": None,
            "follow_up_on": None, "deleted_at": None}
    hv = _change("home_visit", data)
    assert push(app, cred, [hv])["results"][0]["status"] == "applied"
    row = db.session.scalar(select(HomeVisit).where(HomeVisit.uuid == hv["uuid"]))
    assert (row.kader_id, row.user_id, row.task_code) == (kader.id, tree.users["kader_a1"].id, "T")
    assert push(app, cred, [hv])["results"][0]["status"] == "duplicate"
    assert db.session.query(HomeVisit).count() == 1
    unknown = _change("home_visit", dict(data, task_key="zzz:1"))
    assert push(app, cred, [unknown])["results"][0]["code"] == "invalid"

    month = shift_month(date.today(), -1)
    _approve(tree, month)
    late = _change("home_visit", dict(data, visited_on=(month + timedelta(days=5)).isoformat()))
    answer = push(app, cred, [late])["results"][0]
    assert (answer["status"], answer["code"], answer["month"]) == ("refused", "month_closed", f"{month:%Y-%m}")

    # one recorded in the browser reaches the laptop, with the kader and the account by name
    other = HomeVisit(posyandu_id=tree.posyandu["A1"].id, person_id=child.id, kader_id=kader.id,
                      user_id=tree.users["ketua_a1"].id, visited_on=date.today(), findings="baik")
    db.session.add(other)
    db.session.commit()
    pulled = _pulled(_pull(app, cred), "home_visit")
    assert hv["uuid"] not in pulled  # the laptop has its own
    assert pulled[other.uuid]["user"] == "ketua_a1" and pulled[other.uuid]["kader"] == kader.uuid


def _signed(tree, template, kader, **extra):
    return _change("commitment", {
        "kader": kader.uuid, "posyandu": tree.posyandu["A1"].uuid, "template": template.uuid,
        "year": template.year, "title": template.title, "text": template.body, "text_sha256": template.body_sha256,
        "signer_name": kader.name, "signature_kind": "typed", "signature": kader.name,
        "signed_at": "2026-12-02T08:30:00", "signer_method": "pin", "recorded_by": "kader_a1",
        "countersigner_name": None, "countersigner_title": None, "countersignature_kind": None,
        "countersignature": None, "countersigned_at": None, "countersigner_method": None, "countersigned_by": None,
        **extra})


def test_a_commitment_signed_on_the_laptop_keeps_its_text_and_hash(app, tree):
    from posyandu.models import Kader

    _, cred = enrolled(app, tree.posyandu["A1"].id)
    template = commitments.ensure_template(None, tree.districts["D"].id, date.today().year)
    db.session.commit()
    satu = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    dua = db.session.scalar(select(Kader).where(Kader.name == "Kader Dua"))
    signed = _signed(tree, template, satu)
    assert push(app, cred, [signed])["results"][0]["status"] == "applied"
    c = db.session.scalar(select(Commitment).where(Commitment.uuid == signed["uuid"]))
    assert (c.text_sha256, c.template_id, c.signer_method, c.recorded_by_id) == (
        text_hash(template.body), template.id, "pin", tree.users["kader_a1"].id)
    assert c.signed_at == datetime(2026, 12, 2, 8, 30)
    assert push(app, cred, [signed])["results"][0]["status"] == "duplicate"
    # the ketua countersigns later on the laptop: added once
    counter = dict(signed["data"], countersigner_name="Ketua", countersigner_title="Ketua Posyandu",
                   countersignature_kind="typed", countersignature="Ketua", countersigned_at="2026-12-03T09:00:00",
                   countersigner_method="pin", countersigned_by="ketua_a1")
    answer = push(app, cred, [_change("commitment", counter, signed["uuid"])])["results"][0]
    assert answer["status"] == "applied", answer
    db.session.refresh(c)
    assert c.countersigned_at == datetime(2026, 12, 3, 9) and c.countersigned_by_id == tree.users["ketua_a1"].id
    # a text that is not the district's, and a second signature of the same kader and year
    forged = _signed(tree, template, dua, text="Saya tidak berjanji apa pun.",
                     text_sha256=text_hash("Saya tidak berjanji apa pun."))
    again = _signed(tree, template, satu)
    answers = push(app, cred, [forged, again])["results"]
    assert [(a["status"], a["code"]) for a in answers] == [("refused", "invalid"), ("conflict", "already_signed")]
    assert answers[1]["uuid"] == signed["uuid"]
    # one signed in the browser comes down
    db.session.add(Commitment(kader_id=dua.id, posyandu_id=tree.posyandu["A1"].id, template_id=template.id,
                              year=template.year, title=template.title, text=template.body,
                              text_sha256=template.body_sha256, signer_name=dua.name, signature_kind="typed",
                              signature=dua.name, signed_at=datetime(2026, 12, 1), signer_method="account"))
    db.session.commit()
    pulled = _pulled(_pull(app, cred), "commitment")
    assert [d["signer_name"] for d in pulled.values()] == ["Kader Dua"]


def test_a_transfer_asked_on_the_laptop_waits_for_the_server(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    child = tree.people["child_A2"]
    data = {"person": child.uuid, "from_posyandu": tree.posyandu["A2"].uuid, "to_posyandu": tree.posyandu["A1"].uuid,
            "moved_on": date.today().isoformat(), "status": "approved", "note": "pindah rumah", "decided_at": None}
    ask = _change("transfer", data)
    assert push(app, cred, [ask])["results"][0]["status"] == "applied"
    tr = db.session.scalar(select(PersonTransfer).where(PersonTransfer.uuid == ask["uuid"]))
    assert tr.status == "requested" and tr.from_posyandu_id == tree.posyandu["A2"].id  # approving stays here
    assert child.posyandu_id == tree.posyandu["A2"].id
    assert push(app, cred, [ask])["results"][0]["status"] == "duplicate"
    twice = _change("transfer", data)  # asked again (another laptop): the open request is that one
    assert push(app, cred, [twice])["results"][0]["uuid"] == ask["uuid"]
    away = _change("transfer", dict(data, to_posyandu=tree.posyandu["A2"].uuid))
    assert push(app, cred, [away])["results"][0]["code"] == "out_of_scope"
    pulled = _pulled(_pull(app, cred), "transfer")
    assert pulled[ask["uuid"]]["status"] == "requested"  # the server's version goes back: not approved


def test_settings_months_and_pins_come_down_and_an_idle_pull_stays_tiny(app, tree):
    from posyandu.models import Kader

    _, cred = enrolled(app, tree.posyandu["A1"].id)
    district = tree.districts["D"]
    district.place_name, district.certificate_texts = "Bontang", json.dumps({"x": {"title": "Piagam"}})
    db.session.add(KbmTable(district_id=district.id, name="KBM D 2026", valid_from=date(2026, 1, 1),
                            grams={"1": 800}))
    db.session.add(KbmTable(district_id=tree.districts["E"].id, name="KBM E", valid_from=date(2026, 1, 1),
                            grams={"1": 1}))
    template = commitments.ensure_template(None, district.id, date.today().year)
    satu = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    db.session.add(KaderSigner(kader_id=satu.id, pin_hash=hash_password("258036")))
    month = shift_month(date.today(), -1)
    db.session.commit()
    _approve(tree, month)
    first = _pull(app, cred)
    ref = first["reference"]
    assert ref["district"][0]["place_name"] == "Bontang" and "certificate_texts" not in ref["district"][0]
    assert [t["name"] for t in ref["kbm"] if t["district"]] == ["KBM D 2026"]
    assert [t["uuid"] for t in ref["commitment_template"]] == [template.uuid]
    assert [s["kader"] for s in ref["kader_signer"]] == [satu.uuid] and ref["kader_signer"][0]["pin_hash"]
    assert ref["month"] == [{"posyandu": tree.posyandu["A1"].uuid, "month": month.isoformat(), "state": "approved"}]
    idle = _pull(app, cred, first["seq"], first["ref"])
    assert idle["records"] == [] and "reference" not in idle and len(json.dumps(idle)) < 200
    months.reopen(tree.users["clerk_a"], tree.posyandu["A1"], month, "koreksi")
    db.session.commit()
    after = _pull(app, cred, first["seq"], first["ref"])
    assert after["reference"]["month"] == []  # open again: the laptop opens it too
    assert db.session.query(SyncReceipt).count() == 0


def test_records_of_another_posyandu_are_out_of_scope(app, tree):
    from posyandu.models import Kader

    _, cred = enrolled(app, tree.posyandu["A1"].id)
    template = commitments.ensure_template(None, tree.districts["D"].id, date.today().year)
    db.session.commit()
    other_mother, other_child = tree.people["mother_A2"], tree.people["child_A2"]
    satu = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    changes = [
        _change("pregnancy", {"person": other_mother.uuid, "hpht": date.today().isoformat()}),
        _change("home_visit", {"posyandu": tree.posyandu["A2"].uuid, "person": other_child.uuid,
                               "visited_on": date.today().isoformat()}),
        _signed(tree, template, satu, posyandu=tree.posyandu["A2"].uuid),
    ]
    assert [(r["status"], r["code"]) for r in push(app, cred, changes)["results"]] == [
        ("refused", "out_of_scope")] * 3
    assert db.session.query(HomeVisit).count() == 0 and db.session.query(Commitment).count() == 0
