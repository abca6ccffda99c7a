"""One transaction per use case (issue 14): services flush and raise typed domain errors; the caller's unit of work
commits once or leaves nothing — in a request, a CLI command and a sync batch."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from posyandu.database import unit_of_work
from posyandu.domain.errors import Conflict, DomainError, Invalid, Locked
from posyandu.extensions import db
from posyandu.models import District, Measurement, Person, ServiceRecord, User, Visit
from posyandu.models.roster import ImmutableRecord
from posyandu.services import commitments, identity, people, session_day
from posyandu.services.month_lock import MonthClosed
from tests.sync_helpers import enrolled
from tests.test_sync_push import push
from tests.test_sync_push import session_day as pushed_day


def test_service_errors_are_one_typed_hierarchy():
    assert issubclass(people.NikTaken, Conflict) and issubclass(identity.MergeConflict, Conflict)
    assert issubclass(commitments.CommitmentError, Invalid) and issubclass(session_day.NotApplicable, Invalid)
    assert issubclass(MonthClosed, Locked) and issubclass(ImmutableRecord, Locked)
    assert issubclass(identity.TransferProblem, DomainError)
    assert identity.TransferProblem("no_person").code == "no_person"
    assert MonthClosed(1, date(2026, 1, 1)).code == "month_closed"
    assert issubclass(commitments.CommitmentError, ValueError)  # callers that caught ValueError still do


def test_a_use_case_refused_halfway_leaves_nothing(app, tree):
    """A first step flushed, then a domain error: the unit of work rolls back both (the service used to commit
    the first step on its own, so it stayed)."""
    clerk, child = tree.users["admin_d"], tree.people["child_A1"]
    with pytest.raises(identity.TransferProblem):
        with unit_of_work():
            people.leave(clerk, child, "pindah", date.today(), "pindah ke kota lain")
            identity.request_transfer(clerk, "9999999999999999", tree.posyandu["A2"].id, date.today(), None)
    db.session.expire_all()
    assert db.session.get(Person, child.id).left_on is None


def test_a_use_case_that_succeeds_is_committed_once(app, tree):
    child_id = tree.people["child_A1"].id
    with unit_of_work():
        people.leave(tree.users["admin_d"], tree.people["child_A1"], "pindah", date.today(), None)
    db.session.close()  # a fresh session sees it: it was committed
    assert db.session.get(Person, child_id).left_on == date.today()


def test_a_nested_unit_of_work_is_a_savepoint(app, tree):
    """Inside another unit of work a failing one undoes only itself (a sync batch: one change refused, the
    others kept), and the outer one commits the rest."""
    admin, child, mother = tree.users["admin_d"], tree.people["child_A1"], tree.people["mother_A1"]
    child_id, mother_id = child.id, mother.id
    with unit_of_work():
        people.soft_delete(admin, child)
        with pytest.raises(people.NikTaken):
            with unit_of_work():
                people.leave(admin, mother, "meninggal", date.today(), None)
                raise people.NikTaken()
    db.session.close()
    assert db.session.get(Person, child_id).deleted_at is not None
    assert db.session.get(Person, mother_id).left_on is None


def test_a_request_refused_after_its_first_step_keeps_nothing(app, tree, login, monkeypatch):
    """The district settings page saves the settings and publishes the commitment text: when publishing is
    refused, the settings are not saved either (they used to be committed before the text was tried)."""
    def refused(*args, **kwargs):
        raise commitments.CommitmentError("text")

    monkeypatch.setattr(commitments, "publish_if_changed", refused)
    c = login("admin_d")
    resp = c.post("/pengaturan/", {"government_name": "Pemerintah Kota D Baru", "place_name": "Dee",
                                   "trained_target_pct": "40", "commitment_title": "Komitmen",
                                   "commitment_body": "Saya berjanji."})
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.get(District, tree.districts["D"].id).header != "Pemerintah Kota D Baru"


def test_a_sync_batch_keeps_the_others_when_one_service_refuses_after_flushing(app, tree, monkeypatch):
    """One change whose service flushed and then raised a domain error is answered refused and leaves nothing;
    the rest of the batch is applied (the error used to fail the whole push)."""
    real = session_day.record_services

    def flush_then_refuse(*args, **kwargs):
        real(*args, **kwargs)  # its rows are flushed …
        raise people.NikTaken("taken")  # … then a rule refuses

    monkeypatch.setattr(session_day, "record_services", flush_then_refuse)
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    changes = pushed_day(tree, date.today() - timedelta(days=1))
    body = push(app, cred, changes)
    assert [r["status"] for r in body["results"]] == ["applied"] * 4 + ["refused"]
    assert body["results"][4]["code"] == "invalid" and "taken" in body["results"][4]["message"]
    baby = db.session.scalar(select(Person).where(Person.uuid == changes[0]["uuid"]))
    visit = db.session.scalar(select(Visit).where(Visit.uuid == changes[2]["uuid"]))
    assert baby is not None and visit.person_id == baby.id
    assert db.session.scalar(select(Measurement.ntob).where(Measurement.visit_id == visit.id)) == "B"
    assert db.session.scalar(select(func.count()).select_from(ServiceRecord)
                             .where(ServiceRecord.person_id == baby.id)) == 0


def test_a_cli_command_that_fails_leaves_nothing(app, monkeypatch):
    """create-admin makes the district, then the account: when the account is refused, no district is left."""
    from posyandu.services import accounts

    def refused(actor, user, data, password):
        db.session.add(user)
        db.session.flush()
        raise Conflict("username")

    monkeypatch.setattr(accounts, "save_user", refused)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "kata-sandi-panjang")
    result = app.test_cli_runner().invoke(args=["create-admin", "--username", "baru", "--name", "Admin Baru",
                                                "--district", "Kabupaten Baru"])
    assert result.exit_code != 0
    db.session.close()
    assert db.session.scalar(select(District).where(District.name == "Kabupaten Baru")) is None
    assert db.session.scalar(select(User).where(User.username == "baru")) is None


def test_a_unit_of_work_on_another_session_commits_on_its_own(app, tree):
    """Depth is counted per session: a job's own session inside a request's unit of work still commits (it is not
    made a savepoint of a transaction it does not belong to)."""
    from sqlalchemy.orm import Session

    child_id = tree.people["child_A1"].id
    db.session.commit()
    with unit_of_work():
        with Session(db.engine) as other:
            with unit_of_work(other):
                other.get(Person, child_id).left_reason = "pindah"
    db.session.close()
    assert db.session.get(Person, child_id).left_reason == "pindah"


def _creates(tree):
    """The create forms that used to commit inside their service (idempotency.commit_once), as calls."""
    from posyandu.services import assets, certificates, home_visits

    ketua, clerk = tree.users["ketua_a1"], tree.users["clerk_a"]
    return {
        "asset": lambda key=None: assets.add(ketua, tree.posyandu["A1"].id, {"kind": "baby_scale", "label": "TB-1",
                                                                             "condition": "baik"}, key=key),
        "certificate": lambda key=None: certificates.issue(clerk, "kelurahan_sehat", tree.kelurahan["A"],
                                                           date.today(), "Lurah A", "Lurah", key=key),
        "home_visit": lambda key=None: home_visits.record(ketua, tree.people["child_A1"],
                                                          {"visited_on": date.today(), "findings": "Sehat"}, key=key),
    }


def _count(entity):
    from posyandu.models import Asset, Certificate, HomeVisit

    model = {"asset": Asset, "certificate": Certificate, "home_visit": HomeVisit}[entity]
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_forms_wait_for_the_callers_unit_of_work(app, tree):
    """Issuing a certificate, adding an asset and recording a home visit in one use case that is refused afterwards
    leave none of them (each used to commit on its own, so a later refusal could not undo it)."""
    creates = _creates(tree)
    before = {entity: _count(entity) for entity in creates}
    with pytest.raises(Conflict):
        with unit_of_work():
            for create in creates.values():
                create()
            raise Conflict("a later step")
    db.session.close()
    assert {entity: _count(entity) for entity in creates} == before


@pytest.mark.parametrize("entity", ["asset", "certificate", "home_visit"])
def test_a_twin_that_won_the_race_undoes_only_this_attempt(app, tree, monkeypatch, entity):
    """A double-posted create whose twin committed the same key between the check and the insert answers with the
    twin's record, and what the use case did before it stays (the service's commit used to roll it all back)."""
    from posyandu.services import idempotency

    create = _creates(tree)[entity]
    key = f"twin-{entity}-0001"
    with unit_of_work():
        first = create(key)  # the twin request, committed
    first_id, child_id = first.id, tree.people["child_A1"].id
    real, calls = idempotency.seen, []

    def too_early(*args, **kwargs):  # the check ran before the twin committed
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(idempotency, "seen", too_early)
    with unit_of_work():
        people.leave(tree.users["admin_d"], tree.people["child_A1"], "pindah", date.today(), None)
        again = create(key)
    assert again.id == first_id and len(calls) == 2
    db.session.close()
    assert _count(entity) == 1
    assert db.session.get(Person, child_id).left_on == date.today()


def test_incentive_steps_wait_for_the_callers_unit_of_work(app, tree):
    """Adjusting a line, recomputing and deleting a draft in a use case refused afterwards leave the batch as it
    was (each step used to commit on its own)."""
    from posyandu.models import IncentiveBatch, IncentiveLine
    from posyandu.services import incentives

    from . import incentive_factories

    batch = incentive_factories.batch_of(tree, "A1")
    batch_id, line_id = batch.id, batch.lines[0].id
    clerk = tree.users["clerk_a"]
    with pytest.raises(Conflict):
        with unit_of_work():
            incentives.adjust_line(clerk, batch.lines[0], 10_000, "Transport ke pelatihan")
            incentives.recompute(clerk, batch)
            incentives.delete_draft(clerk, batch)
            raise Conflict("a later step")
    db.session.close()
    batch = db.session.get(IncentiveBatch, batch_id)
    assert batch is not None and batch.status == "draft"
    assert db.session.get(IncentiveLine, line_id).adjustment == 0
