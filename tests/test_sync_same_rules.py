"""The sync applies a laptop's home visits, commitments and transfers through the services the forms use (issue 14),
so a rule cannot drift apart: what the browser refuses, a push refuses too, with the code docs/sync.md gives."""
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from posyandu.database import unit_of_work
from posyandu.extensions import db
from posyandu.models import Commitment, HomeVisit, Kader, KaderRole, PersonTransfer
from posyandu.services import commitments, home_visits, identity
from tests.sync_helpers import enrolled
from tests.test_sync_push import push


def _change(entity, data):
    return {"id": str(uuid.uuid4()), "entity": entity, "uuid": str(uuid.uuid4()), "base": 0,
            "at": "2026-12-02T08:00:00", "data": data}


def _kader(tree, key, name, start, end=None):
    k = Kader(name=name, sex="P")
    k.roles.append(KaderRole(posyandu_id=tree.posyandu[key].id, role="kader", start_date=start, end_date=end))
    db.session.add(k)
    db.session.commit()
    return k


def _visits():
    return db.session.scalar(select(func.count()).select_from(HomeVisit))


def _visit_data(tree, kader, visited_on):
    return {"posyandu": tree.posyandu["A1"].uuid, "person": tree.people["child_A1"].uuid,
            "kader": kader.uuid if kader else None, "user": "ketua_a1", "visited_on": visited_on.isoformat(),
            "task_code": None, "task_key": None, "findings": "baik", "advice": None, "referred": False,
            "referral_note": None, "follow_up_on": None, "deleted_at": None}


@pytest.mark.parametrize("rule", ["kader", "born"])
def test_a_home_visit_the_form_refuses_is_refused_over_sync(app, tree, login, rule):
    """A visit by a kader of another Posyandu, or dated before the child was born: the form refuses it, the
    service refuses it, and a push is answered refused/invalid naming the rule (the sync used to apply both)."""
    child = tree.people["child_A1"]
    other = _kader(tree, "A2", "Kader Lain", date.today() - timedelta(days=365))
    here = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    kader, on = (other, date.today()) if rule == "kader" else (here, child.birth_date - timedelta(days=3))
    form = {"visited_on": on.isoformat(), "kader_id": str(kader.id), "findings": "baik",
            "idempotency_key": f"drift-{rule}-0001"}
    resp = login("ketua_a1").post(f"/kunjungan-rumah/catat/{child.id}", form)
    assert resp.status_code in (404, 422)  # another Posyandu's kader is not among the choices: not found
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    answer = push(app, cred, [_change("home_visit", _visit_data(tree, kader, on))])["results"][0]
    assert (answer["status"], answer.get("code"), answer.get("message")) == ("refused", "invalid", f"refused: {rule}")
    assert _visits() == 0
    with pytest.raises(home_visits.HomeVisitError) as refused:
        with unit_of_work():
            home_visits.record(tree.users["ketua_a1"], child, {"visited_on": on, "kader_id": kader.id})
    assert refused.value.code == rule


def test_a_home_visit_by_the_posyandus_own_kader_is_applied_and_kept_to_the_same_rules_when_changed(app, tree):
    """The rules hold for a later version of a pushed visit too (home_visits.change)."""
    here = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    other = _kader(tree, "A2", "Kader Lain", date.today() - timedelta(days=365))
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    first = _change("home_visit", _visit_data(tree, here, date.today()))
    assert push(app, cred, [first])["results"][0]["status"] == "applied"
    later = dict(first, id=str(uuid.uuid4()), data=_visit_data(tree, other, date.today()))
    answer = push(app, cred, [later])["results"][0]
    assert (answer["status"], answer.get("code"), answer.get("message")) == ("refused", "invalid", "refused: kader")
    db.session.expire_all()
    assert db.session.scalar(select(HomeVisit.kader_id).where(HomeVisit.uuid == first["uuid"])) == here.id


def test_a_commitment_of_a_kader_who_no_longer_serves_there_is_refused_over_sync(app, tree, login):
    """The form offers only the Posyandu she serves today; the sync used to accept any role she ever held there.
    Both now ask commitments.check: refused/invalid (`posyandu`)."""
    gone = _kader(tree, "A1", "Kader Pamit", date.today() - timedelta(days=400), date.today() - timedelta(days=30))
    template = commitments.ensure_template(None, tree.districts["D"].id, date.today().year)
    db.session.commit()
    resp = login("clerk_a").post(f"/kader/{gone.id}/komitmen", {  # no Posyandu she serves today to sign for
        "posyandu_id": tree.posyandu["A1"].id, "agree": "y", "text_sha256": template.body_sha256,
        "typed_name": gone.name, "idempotency_key": "drift-sign-0001"})
    assert resp.status_code == 422
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    signed_at = datetime.combine(date.today(), datetime.min.time()).replace(hour=8)
    change = _change("commitment", {
        "kader": gone.uuid, "posyandu": tree.posyandu["A1"].uuid, "template": template.uuid,
        "year": template.year, "title": template.title, "text": template.body, "text_sha256": template.body_sha256,
        "signer_name": gone.name, "signature_kind": "typed", "signature": gone.name,
        "signed_at": signed_at.isoformat(), "signer_method": "pin", "recorded_by": "kader_a1",
        "countersigner_name": None, "countersigner_title": None, "countersignature_kind": None,
        "countersignature": None, "countersigned_at": None, "countersigner_method": None, "countersigned_by": None})
    answer = push(app, cred, [change])["results"][0]
    assert (answer["status"], answer.get("code"), answer.get("message")) == ("refused", "invalid", "refused: posyandu")
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 0
    with pytest.raises(commitments.CommitmentError, match="posyandu"):
        commitments.check(gone, tree.posyandu["A1"].id, template, "typed", None, gone.name, date.today())


def test_a_transfer_is_refused_over_sync_as_in_the_browser(app, tree):
    """identity.ask_transfer decides for both: a person already in the Posyandu (same_posyandu → invalid), a
    deleted person (no_person → missing_reference); a clerk in the browser moves at once, a laptop only asks."""
    child, there = tree.people["child_A1"], tree.people["child_A2"]
    _, cred = enrolled(app, tree.posyandu["A1"].id)

    def ask(person):
        return _change("transfer", {"person": person.uuid, "from_posyandu": tree.posyandu["A2"].uuid,
                                    "to_posyandu": tree.posyandu["A1"].uuid, "moved_on": date.today().isoformat(),
                                    "status": "approved", "note": None, "decided_at": None})

    answer = push(app, cred, [ask(child)])["results"][0]
    assert (answer["status"], answer["code"]) == ("refused", "invalid") and "same_posyandu" in answer["message"]
    there.deleted_at = datetime(2026, 1, 1)
    db.session.commit()
    answer = push(app, cred, [ask(there)])["results"][0]
    assert (answer["status"], answer["code"]) == ("refused", "missing_reference")
    assert db.session.scalar(select(func.count()).select_from(PersonTransfer)) == 0
    with pytest.raises(identity.TransferProblem, match="same_posyandu"):
        identity.ask_transfer(tree.users["ketua_a1"], child, tree.posyandu["A1"].id, date.today(), None)
