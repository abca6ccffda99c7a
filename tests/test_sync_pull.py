"""Pull (docs/sync.md): only the device's scope, by server sequence, reference data only when it changed; on the
laptop, local changes are tracked per record and a download never overwrites one not yet accepted; a person's
field edited on both sides is a conflict, different fields merge."""
import json
import uuid

from sqlalchemy import select

from posyandu.extensions import db
from posyandu.models import Person, SyncRow, SyncState
from posyandu.sync import laptop
from tests.sync_helpers import api, enrolled


def test_a_pull_holds_the_scope_only_and_the_cursor_moves(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    status, first = api(app, "GET", "/pull?since=0", credential=cred)
    assert status == 200 and not first["more"]
    names = {r["data"].get("name") for r in first["records"] if r["entity"] == "person"}
    assert names == {"Ibu A1", "Anak A1"}
    assert {u["username"] for u in first["reference"]["user"]} >= {"ketua_a1", "kader_a1", "clerk_a", "nakes_a"}
    assert "kader_a2" not in {u["username"] for u in first["reference"]["user"]}
    assert [p["name"] for p in first["reference"]["posyandu"]] == ["Posyandu A1"]
    seqs = [r["seq"] for r in first["records"]]
    assert seqs == sorted(seqs)
    idle = api(app, "GET", f"/pull?since={first['seq']}&ref={first['ref']}", credential=cred)[1]
    assert idle["records"] == [] and "reference" not in idle and idle["seq"] == first["seq"]
    assert len(json.dumps(idle)) < 200  # an idle sync costs next to nothing
    tree.people["child_A1"].phone = "0812"
    tree.people["child_A2"].phone = "0813"  # another Posyandu: not this laptop's business
    db.session.commit()
    later = api(app, "GET", f"/pull?since={first['seq']}&ref={first['ref']}", credential=cred)[1]
    assert [(r["uuid"], r["data"]["phone"]) for r in later["records"]] == [(tree.people["child_A1"].uuid, "0812")]


def test_pull_pages(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    page = api(app, "GET", "/pull?since=0&limit=1", credential=cred)[1]
    assert len(page["records"]) == 1 and page["more"] and page["seq"] == page["records"][0]["seq"]


def test_the_laptop_tracks_its_changes_and_keeps_them_over_a_download(app, tree):
    app.config["SYNC_LAPTOP"] = True
    child = tree.people["child_A1"]
    child.phone = "0811"
    db.session.commit()
    state = db.session.scalar(select(SyncState).where(SyncState.uuid == child.uuid))
    assert state.state == "pending" and state.changed == {"phone": None}
    first_change = state.change_id
    child.phone = "0822"
    db.session.commit()
    db.session.refresh(state)
    assert state.change_id != first_change and state.changed == {"phone": None}  # the first old value stays
    report = laptop.Report()
    laptop._apply_record({"entity": "person", "uuid": child.uuid, "seq": 99,
                          "data": {"posyandu": tree.posyandu["A1"].uuid, "name": "Nama Server", "sex": "L",
                                   "birth_date": child.birth_date.isoformat(), "phone": "0899"}}, report)
    db.session.commit()
    assert report.skipped_pending == 1 and db.session.get(Person, child.id).phone == "0822"


def test_the_same_field_edited_on_both_sides_is_a_conflict_other_fields_merge(app, tree):
    _, cred = enrolled(app, tree.posyandu["A1"].id)
    child = tree.people["child_A1"]
    base = db.session.scalar(select(SyncRow.seq).where(SyncRow.uuid == child.uuid))
    child.phone, child.address = "0811", "Jl. Server"  # edited on the district
    db.session.commit()
    data = {"posyandu": tree.posyandu["A1"].uuid, "name": child.name, "sex": child.sex,
            "birth_date": child.birth_date.isoformat(), "phone": "0822", "address": None, "rt": "003"}
    same_field = {"id": str(uuid.uuid4()), "entity": "person", "uuid": child.uuid, "base": base,
                  "data": data, "changed": {"phone": None}}
    answer = api(app, "POST", "/push", {"changes": [same_field]}, credential=cred)[1]["results"][0]
    assert (answer["status"], answer["code"], answer["fields"]) == ("conflict", "edited_on_both", ["phone"])
    other_field = {**same_field, "id": str(uuid.uuid4()), "changed": {"rt": None}}
    answer = api(app, "POST", "/push", {"changes": [other_field]}, credential=cred)[1]["results"][0]
    assert answer["status"] == "applied"
    db.session.refresh(child)
    assert (child.phone, child.address, child.rt) == ("0811", "Jl. Server", "003")  # both sides' edits kept


def test_rows_written_around_the_orm_get_numbered(app, tree):
    from sqlalchemy import insert

    from posyandu.sync.tracking import horizon, number_unnumbered

    db.session.execute(insert(Person.__table__), [{"uuid": str(uuid.uuid4()), "posyandu_id": tree.posyandu["A1"].id,
                                                   "name": "Bulk", "sex": "L", "birth_date": tree.people[
                                                       "child_A1"].birth_date, "created_at": tree.people[
                                                       "child_A1"].created_at, "updated_at": tree.people[
                                                       "child_A1"].created_at, "has_kia_book": True,
                                                   "consent": False}])
    db.session.commit()
    bulk = db.session.scalar(select(Person).where(Person.name == "Bulk"))
    assert db.session.scalar(select(SyncRow.seq).where(SyncRow.uuid == bulk.uuid)) is None
    before = horizon(db.session)
    assert number_unnumbered(db.session) == 1 and number_unnumbered(db.session) == 0
    db.session.commit()
    row = db.session.scalar(select(SyncRow).where(SyncRow.uuid == bulk.uuid))
    assert row.seq == before + 1 and row.posyandu_id == tree.posyandu["A1"].id
    assert horizon(db.session) == before + 1


def test_a_page_is_applied_kind_by_kind_and_a_bad_record_is_skipped_alone(app, tree):
    from posyandu.models import Visit

    app.config["SYNC_LAPTOP"] = True
    hb = tree.sessions["A1"]  # holds the child's visit, queue number 1
    baby = str(uuid.uuid4())
    page = [
        {"entity": "visit", "uuid": str(uuid.uuid4()), "seq": 3,  # queue number 1 is taken here: refused by SQLite
         "data": {"hari_buka": hb.uuid, "person": tree.people["mother_A1"].uuid, "queue_number": 1,
                  "group": "ibu_hamil", "step": 0}},
        {"entity": "visit", "uuid": str(uuid.uuid4()), "seq": 4,
         "data": {"hari_buka": hb.uuid, "person": baby, "queue_number": 2, "group": "balita", "step": 0}},
        {"entity": "person", "uuid": baby, "seq": 2,
         "data": {"posyandu": tree.posyandu["A1"].uuid, "name": "Bayi Tarik", "sex": "L",
                  "birth_date": "2026-01-01"}},
    ]
    from posyandu.sync.tracking import APPLYING

    report = laptop.Report()
    db.session.info[APPLYING] = True  # as pull() does
    laptop._apply_page(page, report, laptop.Ids(), {})
    db.session.commit()
    db.session.info.pop(APPLYING)
    assert (report.pulled, report.skipped) == (2, 1)
    assert db.session.scalar(select(Visit.queue_number).join(Person).where(Person.name == "Bayi Tarik")) == 2
    assert db.session.query(SyncState).filter(SyncState.state == "pending").count() == 0  # pulled, not local news


def test_a_record_the_laptop_adopts_under_the_servers_uuid_is_audited(app, tree):
    from posyandu.models import AuditLog, HariBuka
    from posyandu.services import session_day as sd

    app.config["SYNC_LAPTOP"] = True
    hb = sd.open_session(tree.users["ketua_a1"], tree.posyandu["A1"], tree.sessions["A1"].held_on.replace(day=1))
    db.session.commit()
    state = db.session.scalar(select(SyncState).where(SyncState.uuid == hb.uuid))
    old, server = hb.uuid, str(uuid.uuid4())
    laptop._record([{"id": state.change_id, "status": "applied", "uuid": server, "seq": 7}],
                   {state.change_id: state}, laptop.Report())
    assert db.session.scalar(select(HariBuka.uuid).where(HariBuka.id == hb.id)) == server
    rows = db.session.scalars(select(AuditLog).where(AuditLog.entity == "hari_buka", AuditLog.entity_id == hb.id,
                                                     AuditLog.action == "update")).all()
    assert [r.changes["uuid"] for r in rows] == [[old, server]]


def test_a_pull_never_reads_past_a_commit_still_in_flight(app, tree):
    """PostgreSQL: writers take numbers without waiting for each other; a pull's horizon waits for the commits
    that hold numbers, so none of them can land below a cursor a laptop already has."""
    import threading

    from sqlalchemy import text

    from posyandu.sync import tracking

    if app.backend != "postgresql":
        return  # SQLite has one writer at a time: the counter row is the horizon
    before = tracking.horizon(db.session)
    db.session.commit()
    writer, other = db.engine.connect(), db.engine.connect()
    try:
        w, o = writer.begin(), other.begin()
        for conn in (writer, other):  # two writers at once: the second does not wait for the first
            conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": tracking.SEQ_LOCK})
        mine = writer.scalar(text("SELECT nextval('sync_seq')"))
        theirs = other.scalar(text("SELECT nextval('sync_seq')"))
        assert before < mine < theirs
        o.commit()  # a later number commits first; the earlier one is still in flight
        seen = []
        reader = threading.Thread(target=lambda: seen.append(_horizon_in(app)))
        reader.start()
        reader.join(1.0)
        assert seen == []  # the pull waits for the commit in flight instead of reading past it
        w.commit()
        reader.join(30)
        assert seen == [theirs]
    finally:
        writer.close()
        other.close()


def _horizon_in(app):
    from posyandu.sync import tracking

    with app.app_context():
        try:
            return tracking.horizon(db.session)
        finally:
            db.session.remove()
