"""One person, one record: a NIK is live in one place only, leaving the roll, transfers, merges, the NIK's own
birth date and sex, and a mother seen from another Posyandu."""
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from posyandu.extensions import db
from posyandu.models import AuditLog, Person

from .factories import person

BIRTH = date(2025, 6, 15)
NIK = "6474011506250001"  # 15-06-25, laki-laki: agrees with BIRTH and sex L


def live_with(nik):
    return db.session.scalar(select(func.count()).where(Person.nik == nik, Person.deleted_at.is_(None),
                                                        Person.left_on.is_(None)))


def child_elsewhere(tree, key="A2", **kw):
    p = person(tree.posyandu[key], "Bima Sakti", "L", BIRTH, nik=NIK, **kw)
    db.session.commit()
    return p


def form(tree, key="A1", **over):
    data = {"posyandu_id": tree.posyandu[key].id, "name": "Bima Sakti", "sex": "L", "birth_date": BIRTH.isoformat(),
            "nik": NIK, "idempotency_key": "reg-" + over.pop("k", "1"), "consent": "y", "consent_by": "Ibu"}
    data.update(over)
    return data


def form_values(html: str) -> dict:
    """What a browser posts for the first form of the page, unchanged."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.values, self.select, self.done = {}, None, False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if self.done:
                return
            if tag == "input" and a.get("name"):
                if a.get("type") in ("checkbox", "radio"):
                    if "checked" in a:
                        self.values[a["name"]] = a.get("value", "y")
                elif a.get("type") != "submit":
                    self.values[a["name"]] = a.get("value", "")
            elif tag == "select":
                self.select = a.get("name")
            elif tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value")

        def handle_endtag(self, tag):
            if tag == "form" and self.values:
                self.done = True

    p = P()
    p.feed(html.split("<main", 1)[-1])
    return p.values


# --- 1. one live record per NIK -------------------------------------------------------------------------------

def test_nik_live_in_another_posyandu_is_found_and_shown_only_as_far_as_scope_allows(tree, login):
    child_elsewhere(tree)
    c = login("kader_a1")
    resp = c.post("/sasaran/baru", form(tree))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "terdaftar di Posyandu lain" in html and "minta pindah" in html
    assert "Bima Sakti" not in html.split('id="name"')[0]  # only the initial in the warning
    assert "Posyandu A2" not in html and NIK not in html.replace(f'value="{NIK}"', "")
    assert live_with(NIK) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_confirming_a_different_person_never_makes_a_second_live_nik(tree, login, htmx):
    child_elsewhere(tree, "A1")
    c = login("kader_a1")
    headers = {"HX-Request": "true"} if htmx else {}
    resp = c.post("/sasaran/baru", form(tree, confirm_new="y"), headers=headers)
    assert resp.status_code == 422 and "NIK ini sudah terdaftar" in resp.get_data(as_text=True)
    resp = c.post("/sasaran/baru", form(tree, k="2", name="Orang Lain", confirm_new="y"), headers=headers)
    assert resp.status_code == 422
    assert live_with(NIK) == 1


def test_a_replayed_post_with_a_fresh_key_makes_no_second_record(tree, login):
    c = login("kader_a1")
    assert c.post("/sasaran/baru", form(tree)).status_code == 303
    assert c.post("/sasaran/baru", form(tree)).status_code == 303  # the same key: the first result
    assert c.post("/sasaran/baru", form(tree, k="2", confirm_new="y")).status_code == 422  # back button, new key
    assert live_with(NIK) == 1


def test_database_refuses_a_second_live_row_but_not_a_left_or_deleted_one(tree):
    first = child_elsewhere(tree)
    db.session.add(Person(posyandu_id=tree.posyandu["A1"].id, name="X", sex="L", birth_date=BIRTH, nik=NIK))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    first = db.session.get(Person, first.id)
    first.left_on, first.left_reason = date(2026, 3, 1), "pindah"
    db.session.add(Person(posyandu_id=tree.posyandu["A1"].id, name="X", sex="L", birth_date=BIRTH, nik=NIK))
    db.session.commit()
    assert live_with(NIK) == 1


def test_two_concurrent_posts_make_one_live_record(app, tree, login):
    clients = [login("kader_a1"), login("kader_a1")]
    tokens = [c.token() for c in clients]
    posts = [{**form(tree, k=f"t{i}"), "confirm_new": "y", "csrf_token": tokens[i]} for i in range(2)]
    db.session.commit()
    barrier = threading.Barrier(2)
    statuses = []

    def post(i):
        with app.app_context():
            barrier.wait()
            resp = clients[i].c.post("/sasaran/baru", data=posts[i])
            statuses.append(resp.status_code)
            db.session.remove()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [303, 422]
    db.session.commit()
    assert live_with(NIK) == 1


def test_edit_to_a_nik_live_elsewhere_is_refused(tree, login):
    child_elsewhere(tree)
    c = login("kader_a1")
    own = tree.people["child_A1"]
    resp = c.post(f"/sasaran/{own.id}/ubah", {"posyandu_id": own.posyandu_id, "name": own.name, "sex": "L",
                                              "birth_date": BIRTH.isoformat(), "nik": NIK})
    assert resp.status_code == 422 and "NIK ini sudah terdaftar" in resp.get_data(as_text=True)
    assert live_with(NIK) == 1


def test_nik_birth_date_and_sex_mismatch_is_a_warning_to_confirm(tree, login):
    c = login("kader_a1")
    wrong = form(tree, birth_date="2025-06-16")
    resp = c.post("/sasaran/baru", wrong)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Tanggal lahir atau jenis kelamin tidak sama dengan NIK" in html
    assert live_with(NIK) == 0
    assert c.post("/sasaran/baru", form(tree, sex="P")).status_code == 422
    assert c.post("/sasaran/baru", {**wrong, "confirm_nik": "y"}).status_code == 303
    assert live_with(NIK) == 1
    p = db.session.scalar(select(Person).where(Person.nik == NIK))
    own = tree.people["child_A1"]
    resp = c.post(f"/sasaran/{p.id}/ubah", {"posyandu_id": p.posyandu_id, "name": p.name, "sex": "P",
                                            "birth_date": p.birth_date.isoformat(), "nik": NIK})
    assert resp.status_code == 422 and own.id != p.id


# --- 7. a mother registered in another Posyandu ---------------------------------------------------------------

def test_child_whose_mother_is_elsewhere_shows_only_the_initial_and_saves_unchanged(tree, login):
    child, mother = tree.people["child_A1"], tree.people["mother_A2"]
    child.mother_id = mother.id
    db.session.commit()
    c = login("ketua_a1")
    html = c.get(f"/sasaran/{child.id}/ubah").get_data(as_text=True)
    assert mother.nik not in html and mother.name not in html and f"/sasaran/{mother.id}" not in html
    assert "I." in html and "terdaftar di Posyandu lain" in html
    page = c.get(f"/sasaran/{child.id}").get_data(as_text=True)
    assert mother.name not in page and f"/sasaran/{mother.id}" not in page and "terdaftar di Posyandu lain" in page
    listed = c.post("/sasaran/", {"q": "anak a1"}).get_data(as_text=True)
    assert mother.name not in listed
    resp = c.post(f"/sasaran/{child.id}/ubah", form_values(html))  # saved unchanged
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert db.session.get(Person, child.id).mother_id == mother.id


# --- 2. leaving the roll ------------------------------------------------------------------------------------------

def _s(tree, month):
    from posyandu.services import reports as svc

    pos = select(tree.posyandu["A1"].__class__.id).where(tree.posyandu["A1"].__class__.id == tree.posyandu["A1"].id)
    area = svc.monthly_by_posyandu(pos, month)[tree.posyandu["A1"].id]
    listed = {p.id for p, _ in db.session.execute(svc.people_behind(pos, month, "S"))}
    return area.total().S, listed, area.ilp_registered.get("balita", 0)


def test_a_child_who_left_in_march_counts_in_february_and_march_but_not_april(tree, login):
    child = person(tree.posyandu["A1"], "Citra Pergi", "P", date(2025, 1, 20))
    db.session.commit()
    before = {m: _s(tree, m) for m in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1))}
    c = login("kader_a1")
    resp = c.post(f"/sasaran/{child.id}/keluar", {"reason": "meninggal", "left_on": "2026-03-10", "note": "sakit"})
    assert resp.status_code == 303
    after = {m: _s(tree, m) for m in before}
    for m in (date(2026, 2, 1), date(2026, 3, 1)):
        assert after[m] == before[m] and child.id in after[m][1]
    s, listed, ilp = after[date(2026, 4, 1)]
    assert (s, ilp) == (before[date(2026, 4, 1)][0] - 1, before[date(2026, 4, 1)][2] - 1)
    assert child.id not in listed
    # today's list leaves her out; a search still finds her, marked; her page says why and keeps the history
    assert "Citra Pergi" not in c.get("/sasaran/").get_data(as_text=True).split('id="people-results"')[1]
    assert "Meninggal" in c.post("/sasaran/", {"q": "citra"}).get_data(as_text=True)
    page = c.get(f"/sasaran/{child.id}").get_data(as_text=True)
    assert "Keluar dari daftar sejak" in page and "Meninggal" in page
    log = db.session.scalars(select(AuditLog).where(AuditLog.entity == "person", AuditLog.entity_id == child.id)
                             .order_by(AuditLog.id.desc())).first()
    assert log.action == "update" and log.changes["left_reason"] == [None, "meninggal"]
    p = db.session.get(Person, child.id)
    assert p.deleted_at is None and p.left_on == date(2026, 3, 10)


def test_leaving_needs_a_known_reason_and_a_date_not_before_birth(tree, login):
    c = login("kader_a1")
    child = tree.people["child_A1"]
    for bad in ({"reason": "hilang", "left_on": "2026-03-10"}, {"reason": "pindah", "left_on": ""},
                {"reason": "pindah", "left_on": "1990-01-01"}):
        assert c.post(f"/sasaran/{child.id}/keluar", bad).status_code == 422
    assert db.session.get(Person, child.id).left_on is None


def test_a_person_back_on_the_roll_cannot_take_a_nik_live_again(tree, login):
    gone = child_elsewhere(tree, "A1")
    c = login("kader_a1")
    assert c.post(f"/sasaran/{gone.id}/keluar", {"reason": "pindah", "left_on": "2026-01-05"}).status_code == 303
    assert c.post("/sasaran/baru", form(tree)).status_code == 303  # the NIK is free while she is away
    c.post(f"/sasaran/{gone.id}/kembali")
    assert db.session.get(Person, gone.id).left_on is not None and live_with(NIK) == 1


# --- 1. transfers (pindah) and merges -------------------------------------------------------------------------

def test_transfer_is_asked_by_the_receiving_posyandu_and_approved_by_the_sending_side(tree, login):
    from posyandu.models import PersonTransfer, Visit

    bima = child_elsewhere(tree, "A2")
    hb = tree.sessions["A2"]
    db.session.add(Visit(hari_buka_id=hb.id, person_id=bima.id, queue_number=2, group="balita", step=2))
    db.session.commit()
    a1 = login("kader_a1")
    # from the registration form: the button posts the form here, which asks only the date and a note
    page = a1.post("/pindah/minta", form(tree))
    assert page.status_code == 200 and 'name="moved_on"' in page.get_data(as_text=True)
    resp = a1.post("/pindah/minta", {"nik": NIK, "posyandu_id": tree.posyandu["A1"].id, "moved_on": "2026-11-20",
                                     "step": "confirm"})
    assert resp.status_code == 303
    again = a1.post("/pindah/minta", {"nik": NIK, "posyandu_id": tree.posyandu["A1"].id, "moved_on": "2026-11-20",
                                      "step": "confirm"})
    assert again.status_code == 303
    t = db.session.scalar(select(PersonTransfer))
    assert db.session.scalar(select(func.count()).select_from(PersonTransfer)) == 1
    assert (t.status, t.from_posyandu_id, t.to_posyandu_id) == ("requested", tree.posyandu["A2"].id,
                                                                 tree.posyandu["A1"].id)
    assert db.session.get(Person, bima.id).posyandu_id == tree.posyandu["A2"].id
    assert a1.get(f"/sasaran/{bima.id}").status_code == 404
    listing = a1.get("/pindah/").get_data(as_text=True)
    assert "B." in listing and "Bima Sakti" not in listing and "Setujui" not in listing
    # the receiving ketua cannot decide; a kader cannot either; the kelurahan can
    assert login("ketua_a1").post(f"/pindah/{t.id}/setujui").status_code == 403
    assert login("kader_a2").post(f"/pindah/{t.id}/setujui").status_code == 403
    clerk = login("clerk_a")
    assert "Setujui" in clerk.get("/pindah/").get_data(as_text=True)
    assert clerk.post(f"/pindah/{t.id}/setujui").status_code == 303
    moved = db.session.get(Person, bima.id)
    assert moved.posyandu_id == tree.posyandu["A1"].id and db.session.get(PersonTransfer, t.id).status == "approved"
    assert db.session.scalar(select(func.count()).where(Visit.person_id == bima.id)) == 1  # history stays
    assert a1.get(f"/sasaran/{bima.id}").status_code == 200
    assert login("kader_a2").get(f"/sasaran/{bima.id}").status_code == 404
    actions = db.session.execute(select(AuditLog.entity, AuditLog.action).where(
        AuditLog.entity.in_(("person", "person_transfer")))).all()
    assert ("person_transfer", "create") in actions and ("person_transfer", "update") in actions
    assert live_with(NIK) == 1


def test_a_rejected_request_moves_nobody(tree, login):
    from posyandu.models import PersonTransfer

    bima = child_elsewhere(tree, "A2")
    login("kader_a1").post("/pindah/minta", {"nik": NIK, "posyandu_id": tree.posyandu["A1"].id,
                                             "moved_on": "2026-11-20", "step": "confirm"})
    t = db.session.scalar(select(PersonTransfer))
    assert login("clerk_a").post(f"/pindah/{t.id}/tolak").status_code == 303
    assert db.session.get(PersonTransfer, t.id).status == "rejected"
    assert db.session.get(Person, bima.id).posyandu_id == tree.posyandu["A2"].id


def test_unknown_nik_or_own_posyandu_is_refused(tree, login):
    child_elsewhere(tree, "A1")
    c = login("kader_a1")
    for nik in ("6474011506250002", NIK):
        resp = c.post("/pindah/minta", {"nik": nik, "posyandu_id": tree.posyandu["A1"].id, "moved_on": "2026-11-20",
                                        "step": "confirm"})
        assert resp.status_code == 422


def test_a_move_by_someone_who_sees_both_posyandu_is_a_dated_transfer(tree, login):
    from posyandu.models import PersonTransfer

    child = tree.people["child_A1"]
    c = login("clerk_a")
    html = c.get(f"/sasaran/{child.id}/ubah").get_data(as_text=True)
    resp = c.post(f"/sasaran/{child.id}/ubah", {**form_values(html), "posyandu_id": tree.posyandu["A2"].id})
    assert resp.status_code == 303
    t = db.session.scalar(select(PersonTransfer).where(PersonTransfer.person_id == child.id))
    assert (t.status, t.from_posyandu_id, t.to_posyandu_id, t.moved_on) == (
        "approved", tree.posyandu["A1"].id, tree.posyandu["A2"].id, date.today())


def test_merge_keeps_the_history_of_both_and_is_audited(tree, login):
    from posyandu.models import HariBuka, Visit

    keep = tree.people["child_A1"]
    dup = person(tree.posyandu["A1"], keep.name, keep.sex, keep.birth_date, nik=None, father_name="Pak Budi")
    hb = HariBuka(posyandu_id=keep.posyandu_id, held_on=date(2026, 1, 10))
    db.session.add(hb)
    db.session.flush()
    db.session.add(Visit(hari_buka_id=hb.id, person_id=dup.id, queue_number=1, group="balita", step=2))
    db.session.commit()
    assert login("kader_a1").get(f"/sasaran/{keep.id}/gabung").status_code == 403
    assert login("ketua_a1").post(f"/sasaran/{keep.id}/gabung", {"other_id": dup.id}).status_code == 403
    c = login("clerk_a")
    assert f'value="{dup.id}"' in c.get(f"/sasaran/{keep.id}/gabung").get_data(as_text=True)
    assert c.post(f"/sasaran/{keep.id}/gabung", {"other_id": tree.people["child_B1"].id}).status_code == 422
    assert c.post(f"/sasaran/{keep.id}/gabung", {"other_id": dup.id}).status_code == 303
    kept, gone = db.session.get(Person, keep.id), db.session.get(Person, dup.id)
    assert gone.deleted_at is not None and gone.merged_into_id == keep.id
    assert kept.father_name == "Pak Budi"  # an empty field takes the other's value
    visits = db.session.scalars(select(Visit.hari_buka_id).where(Visit.person_id == keep.id)).all()
    assert sorted(visits) == sorted([tree.sessions["A1"].id, hb.id])
    merge = db.session.scalar(select(AuditLog).where(AuditLog.action == "merge"))
    assert merge.entity_id == keep.id and merge.changes["merged_from"] == [None, dup.id]
    assert merge.actor_id == tree.users["clerk_a"].id
    assert "digabung" in c.get(f"/sasaran/{keep.id}").get_data(as_text=True)


def test_records_seen_on_the_same_hari_buka_are_not_merged_blindly(tree, login):
    from posyandu.models import Visit

    keep = tree.people["child_A1"]
    dup = person(tree.posyandu["A1"], keep.name, keep.sex, keep.birth_date)
    db.session.add(Visit(hari_buka_id=tree.sessions["A1"].id, person_id=dup.id, queue_number=5, group="balita", step=2))
    db.session.commit()
    resp = login("admin_d").post(f"/sasaran/{keep.id}/gabung", {"other_id": dup.id})
    assert resp.status_code == 422 and "hari buka yang sama" in resp.get_data(as_text=True)
    assert db.session.get(Person, dup.id).deleted_at is None


# --- the migration: NIKs held twice before the constraint ------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def bare_app(request, tmp_path):
    """An app on an empty database of its own (not migrated), on each backend."""
    import uuid

    from sqlalchemy import create_engine, text

    from posyandu import create_app
    from posyandu.config import normalise_database_url

    from .conftest import PG_URL, base_config

    if request.param == "sqlite":
        yield create_app(base_config(f"sqlite:///{tmp_path / 'm.sqlite'}"))
        return
    if not PG_URL:
        pytest.skip("no TEST_DATABASE_URL")
    url, schema = normalise_database_url(PG_URL), f"m_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield create_app(base_config(url, SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": f"-csearch_path={schema}"}}))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _insert(conn, table, **values):
    """A row with the given values and a plain value in every other NOT NULL column (the schema of that revision)."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Numeric, Table

    t = Table(table, MetaData(), autoload_with=conn)
    for c in t.columns:
        if c.name in values or c.nullable or c.server_default is not None:
            continue
        values[c.name] = (1 if c.foreign_keys else 0) if isinstance(c.type, (Integer, Numeric)) else \
            False if isinstance(c.type, Boolean) else datetime(2026, 1, 1) if isinstance(c.type, DateTime) else \
            date(2026, 1, 1) if isinstance(c.type, Date) else f"{table}-{c.name}"[: getattr(c.type, "length", None) or 99]
    conn.execute(t.insert().values(**values))


def test_migration_keeps_a_repeated_nik_on_the_oldest_live_record_and_audits_the_others(bare_app):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from .conftest import ROOT

    here = str(ROOT / "migrations")
    with bare_app.app_context():
        upgrade(directory=here, revision="68d01ea4783c-1")
        with db.engine.begin() as conn:
            for table in ("district", "kecamatan", "kelurahan", "posyandu"):
                _insert(conn, table, id=1)
            for pid, nik, deleted in ((1, NIK, None), (2, NIK, None), (3, NIK, datetime(2026, 1, 1)),
                                      (4, "6474011506250002", None)):
                _insert(conn, "person", id=pid, uuid=f"u{pid}", nik=nik, name="Bima", sex="L",
                        birth_date=date(2025, 6, 15), deleted_at=deleted)
            for pid in (5, 6):  # blank NIKs as forms stored them before: no NIK, not one NIK held twice
                _insert(conn, "person", id=pid, uuid=f"u{pid}", nik="", kk_number="", name="Bayi", sex="P",
                        birth_date=date(2025, 6, 15))
        upgrade(directory=here)
        niks = dict(db.session.execute(select(Person.id, Person.nik).order_by(Person.id)).all())
        assert niks == {1: NIK, 2: None, 3: NIK, 4: "6474011506250002", 5: None, 6: None}
        assert db.session.scalar(select(func.count()).where(Person.kk_number == "")) == 0
        log = db.session.scalar(select(AuditLog).where(AuditLog.entity == "person"))
        assert (log.entity_id, log.action, log.changes) == (2, "update", {"nik": [NIK, None]})
        db.session.remove()
        db.engine.dispose()


def test_the_demo_seed_never_hands_out_a_nik_twice():
    """With 150 000 children the demo seed drew the same NIK for two people (same birth date, sex and serial)."""
    from posyandu.seed import _nik

    class Repeating:  # a random source that draws the same serial twice in a row
        draws = iter([7, 7, 8])

        @classmethod
        def randint(cls, lo, hi):
            return next(cls.draws)

    used: set[str] = set()
    first = _nik(Repeating, "01", BIRTH, "L", used)
    assert _nik(Repeating, "01", BIRTH, "L", used) != first == "6474011506250007"
