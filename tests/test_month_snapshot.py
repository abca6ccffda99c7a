"""Approved means frozen, for the reports: the snapshot holds every number, list and e-PPGBM row of a
Posyandu-month; reports of an approved month read it and never the live tables, so its PDF, XLSX and e-PPGBM
workbook stay byte-identical; a report over many Posyandu mixes snapshots and live numbers and says which are not
final; reopen–correct–reapprove changes the numbers and leaves the trail."""
import re
from datetime import date

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from posyandu.extensions import db
from posyandu.models import AuditLog, Measurement, MonthEvent, Person
from posyandu.services import changes, month_snapshot, months
from posyandu.services import reports as svc

from .report_factories import EXPECTED_A1, L, M, build_month

TODAY = date.today()


def _pos(tree, *keys):
    from posyandu.models import Posyandu

    return select(Posyandu.id).where(Posyandu.id.in_([tree.posyandu[k].id for k in keys]))


def _approve(tree, key: str, month: date = M):
    pos, u = tree.posyandu[key], tree.users
    months.submit(u["ketua_a1"] if key == "A1" else u["clerk_a"], pos, month)
    months.verify(u["nakes_a"], pos, month)
    pm = months.approve(u["clerk_a"], pos, month)
    db.session.commit()
    return pm


@pytest.fixture
def month(tree):
    return build_month(tree)


def _ids(rows) -> list[int]:
    return [p.id for p, _ in rows]


def test_build_many_is_build_of_each_and_rebuilds_the_area(app, tree, month):
    a1, a2 = tree.posyandu["A1"].id, tree.posyandu["A2"].id
    many = month_snapshot.build_many([a1, a2], M)
    assert many[a1] == month_snapshot.build(a1, M) and many[a2] == month_snapshot.build(a2, M)
    live = svc.live_by_posyandu(_pos(tree, "A1"), M, risk=True)[a1]
    assert month_snapshot.from_plain(many[a1]["report"]) == live
    t = month_snapshot.from_plain(many[a1]["report"]).total()
    assert {k: getattr(t, k) for k in EXPECTED_A1} == EXPECTED_A1
    v = many[a1]["versions"]
    assert v["snapshot"] == month_snapshot.FORMAT and "growth_reference" in v and isinstance(v["kbm_tables"], list)
    growth = month_snapshot.sheet_rows(many[a1]["eppgbm"], "growth")
    assert growth and all(isinstance(r[3], str) for r in growth)  # one Pertumbuhan row per weighed child, plain
    assert set(month_snapshot.SECTIONS) <= set(many[a1])


def test_build_many_runs_a_fixed_number_of_queries(app, tree, month):
    ids = [p.id for p in tree.posyandu.values()]
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        month_snapshot.build_many(ids[:1], M)
        one = len(counted)
        counted.clear()
        month_snapshot.build_many(ids, M)
        assert len(counted) == one  # no query per Posyandu
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_every_list_in_the_snapshot_matches_people_behind_and_its_number(app, tree, month):
    a1 = tree.posyandu["A1"].id
    snap = month_snapshot.build(a1, M)
    area = month_snapshot.from_plain(snap["report"])
    for metric in svc.METRICS:
        live = [p.id for p, _ in db.session.execute(svc.people_behind(_pos(tree, "A1"), M, metric))]
        assert [e[0] for e in month_snapshot.entries(snap["lists"].get(metric))[0]] == live, metric
    assert len(snap["lists"]["S"]["ids"]) == area.total().S and len(snap["lists"]["D"]["ids"]) == area.total().D
    assert len(snap["lists"].get("kek", {}).get("ids", [])) == area.kek
    assert snap["lists"]["S"]["posyandu"] == tree.posyandu["A1"].name


def _render(c, url_base: str) -> dict[str, bytes]:
    out = {}
    for name in ("laporan.pdf", "laporan.xlsx", "eppgbm.xlsx"):
        url = f"{url_base}/{name}?bulan={M:%Y-%m}"
        resp = c.job_file(url) if name == "eppgbm.xlsx" else c.get(url)
        assert resp.status_code == 200, name
        out[name] = resp.get_data()
    return out


def _listed(tree, key: str, metric: str) -> list[int]:
    return _ids(svc.list_page(_pos(tree, key), M, metric, size=100)[0])


@pytest.fixture
def unlock(app):
    """unlock(table): lift the database half of the month lock on a table for this test (restored after), so a
    raw UPDATE can change an approved month's rows behind the app's back."""
    restore = []

    def lift(table: str):
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_month_closed"))
            restore.append(f"ALTER TABLE {table} ENABLE TRIGGER {table}_month_closed")
        else:
            name = f"{table}_month_closed_update"
            restore.append(db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}))
            db.session.execute(text(f"DROP TRIGGER {name}"))
        db.session.commit()

    yield lift
    db.session.rollback()
    for sql in restore:
        db.session.execute(text(sql))
    db.session.commit()


def test_a_closed_month_prints_the_same_bytes_whatever_the_live_tables_say(app, tree, month, login, unlock):
    a1 = tree.posyandu["A1"]
    c = login("clerk_a")
    _approve(tree, "A1")
    base = f"/laporan/posyandu/{a1.id}"
    before = _render(c, base)
    lists = {m: _listed(tree, "A1", m) for m in ("S", "K", "D", "stunted", "at_risk", "kek", "vita_biru")}
    page = c.get(f"{base}?bulan={M:%Y-%m}").get_data(as_text=True)
    assert "Belum final" not in page
    # Rows the lock does not guard, which the live report reads: birth dates, sex, the KIA book.
    db.session.execute(text("UPDATE person SET sex = 'P', has_kia_book = :f WHERE posyandu_id = :p"),
                       {"f": False, "p": a1.id})
    # And the month's own measurements, with the database lock lifted for the test.
    unlock("measurement")
    db.session.execute(text("UPDATE measurement SET weight_kg = weight_kg + 3, ntob = 'N', lhaz = 1.0, whz = 1.0, "
                            "waz = 1.0 WHERE posyandu_id = :p"), {"p": a1.id})
    db.session.commit()
    live = svc.live_by_posyandu(_pos(tree, "A1"), M)[a1.id].total()
    assert live.stunted == 0 and live.K == 0  # the live tables did change
    after = _render(c, base)
    for name in before:
        assert after[name] == before[name], name
    frozen = svc.monthly_by_posyandu(_pos(tree, "A1"), M, risk=True)[a1.id].total()
    assert {k: getattr(frozen, k) for k in EXPECTED_A1} == EXPECTED_A1
    # The lists behind the numbers are the frozen ones too (names and NIK are the person's, read live).
    assert {m: _listed(tree, "A1", m) for m in lists} == lists and len(lists["K"]) == frozen.K
    listed = c.get(f"{base}/daftar/K?bulan={M:%Y-%m}").get_data(as_text=True)
    assert all(tree_name in listed for tree_name in [db.session.get(Person, i).name for i in lists["K"]])
    csv = c.get(f"{base}/daftar/K?bulan={M:%Y-%m}&format=csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + frozen.K
    assert b"%PDF" == before["laporan.pdf"][:4] and before["laporan.xlsx"][:2] == b"PK"


def test_an_open_month_prints_the_same_bytes_for_the_same_rows(app, tree, month, login):
    """Fixed workbook and zip dates: an XLSX of unchanged rows is the same file a second later."""
    c = login("clerk_a")
    base = f"/laporan/kelurahan/{tree.kelurahan['A'].id}"
    one = c.get(f"{base}/laporan.xlsx?bulan={M:%Y-%m}").get_data()
    two = c.job_file(f"{base}/eppgbm.xlsx?bulan={M:%Y-%m}").get_data()
    import time

    time.sleep(2.1)  # zip entry times have a two-second resolution
    assert c.get(f"{base}/laporan.xlsx?bulan={M:%Y-%m}").get_data() == one
    assert c.job_file(f"{base}/eppgbm.xlsx?bulan={M:%Y-%m}").get_data() == two


def test_a_report_over_many_posyandu_mixes_snapshots_and_live_and_says_which_are_not_final(app, tree, month, login):
    a1, a2 = tree.posyandu["A1"], tree.posyandu["A2"]
    c = login("clerk_a")
    kel = f"/laporan/kelurahan/{tree.kelurahan['A'].id}"
    whole = svc.total(svc.live_by_posyandu(_pos(tree, "A1", "A2"), M).values()).total()
    lists_before = _ids(svc.list_page(_pos(tree, "A1", "A2"), M, "S", size=100)[0])
    epp_before = c.job_file(f"{kel}/eppgbm.xlsx?bulan={M:%Y-%m}").get_data()
    _approve(tree, "A1")
    page = c.get(f"{kel}?bulan={M:%Y-%m}").get_data(as_text=True)
    assert "Belum final untuk 1 dari 2 Posyandu" in page and a2.name in page
    assert svc.total(svc.monthly_by_posyandu(_pos(tree, "A1", "A2"), M).values()).total() == whole
    mixed = svc.people_list(_pos(tree, "A1", "A2"), M, "S")
    assert _ids(mixed.page(1, 100)[0]) == lists_before
    assert mixed.count() == whole.S
    assert _ids(mixed.page(2, 3)[0]) == lists_before[3:6]
    # The e-PPGBM rows of the approved Posyandu come from its snapshot: the same workbook as before approval.
    assert c.job_file(f"{kel}/eppgbm.xlsx?bulan={M:%Y-%m}").get_data() == epp_before
    # A live change in A2 shows; the same change in the closed A1 does not.
    db.session.execute(text("UPDATE person SET has_kia_book = :f WHERE posyandu_id IN (:a, :b)"),
                       {"f": False, "a": a1.id, "b": a2.id})
    changes.renew(db.session, [a1.id, a2.id])  # written around the ORM: its change tokens by hand, as the seed does
    db.session.commit()
    by_pos = svc.monthly_by_posyandu(_pos(tree, "A1", "A2"), M)
    assert by_pos[a1.id].total().K == EXPECTED_A1["K"] and by_pos[a2.id].total().K == 0
    # Every Posyandu approved: the notice is gone and the documents print the approval day.
    _approve(tree, "A2")
    page = c.get(f"{kel}?bulan={M:%Y-%m}").get_data(as_text=True)
    assert "Belum final" not in page
    assert svc.final_on(_pos(tree, "A1", "A2"), M) == months.local_date(months.month_of(a2.id, M).approved_at)


def test_the_trend_reads_approved_months_from_their_snapshots(app, tree, month, unlock):
    a1 = tree.posyandu["A1"]
    before = svc.prevalence_trend(_pos(tree, "A1"), M, 3)
    _approve(tree, "A1")
    unlock("measurement")
    db.session.execute(text("UPDATE measurement SET lhaz = 1.0 WHERE posyandu_id = :p AND measured_on >= :f "
                            "AND measured_on <= :l"), {"p": a1.id, "f": M, "l": date(M.year, M.month, 28)})
    db.session.commit()
    assert svc.prevalence_trend(_pos(tree, "A1"), M, 3) == before


def test_the_lock_is_back_after_a_test_lifted_it(app, tree, month):
    """The lifted trigger of the tests above is restored (the schema is shared between tests)."""
    pm = _approve(tree, "A1")
    with pytest.raises(DBAPIError, match="month_closed"):
        db.session.execute(text("UPDATE measurement SET weight_kg = 1 WHERE posyandu_id = :p AND measured_on >= :f "
                                "AND measured_on <= :l"), {"p": pm.posyandu_id, "f": M, "l": L})
    db.session.rollback()


def test_reopen_correct_reapprove_changes_the_numbers_and_leaves_the_trail(app, tree, month, login):
    a1, u = tree.posyandu["A1"], tree.users
    c = login("clerk_a")
    pm = _approve(tree, "A1")
    first_hash = pm.snapshot_sha256
    pdf = c.get(f"/laporan/posyandu/{a1.id}/laporan.pdf?bulan={M:%Y-%m}").get_data()
    months.reopen(u["clerk_a"], a1, M, "BB anak salah ketik")
    db.session.commit()
    # The correction, through the ORM: the stunted child's last TB/U was mistyped.
    m = db.session.scalar(select(Measurement).where(
        Measurement.person_id == month["c3"].id, Measurement.measured_on >= M, Measurement.measured_on <= L))
    m.lhaz = 0.5
    db.session.commit()
    pm = _approve(tree, "A1")
    assert pm.snapshot_sha256 != first_hash
    t = svc.monthly_by_posyandu(_pos(tree, "A1"), M)[a1.id].total()
    assert t.stunted == EXPECTED_A1["stunted"] - 1
    assert c.get(f"/laporan/posyandu/{a1.id}/laporan.pdf?bulan={M:%Y-%m}").get_data() != pdf
    events = [(e.action, e.reason, e.snapshot_sha256) for e in pm.events]
    assert ("reopen", "BB anak salah ketik", first_hash) in events and events[-1][0] == "approve"
    audited = db.session.scalars(select(AuditLog).where(AuditLog.entity.in_(("measurement", "Measurement")),
                                                        AuditLog.entity_id == m.id)).all()
    assert audited, "the correction is in the audit trail"
    assert db.session.scalar(select(MonthEvent).where(MonthEvent.action == "reopen")).actor_id == u["clerk_a"].id


def test_a_closed_months_list_names_the_posyandu_the_person_was_counted_in(app, tree, month, login):
    """After approval a child moves to another Posyandu and her old Posyandu is renamed: the list behind the
    number of the closed month (page and CSV) still says where she was counted, named as it was then."""
    a1, a2 = tree.posyandu["A1"], tree.posyandu["A2"]
    old_name = a1.name
    _approve(tree, "A1")
    _approve(tree, "A2")
    db.session.execute(text("UPDATE person SET posyandu_id = :b WHERE id = :p"), {"b": a2.id, "p": month["c1"].id})
    db.session.execute(text("UPDATE posyandu SET name = 'Mawar Baru' WHERE id = :p"), {"p": a1.id})
    db.session.commit()
    c = login("clerk_a")
    url = f"/laporan/kelurahan/{tree.kelurahan['A'].id}/daftar/S?bulan={M:%Y-%m}"
    page = c.get(url).get_data(as_text=True)
    row = re.search(r"<tr><td><a [^>]*>Anak Satu</a>.*?</tr>", page).group(0)
    assert f">{old_name}<" in row and "Mawar Baru" not in page and a2.name not in row
    csv = c.get(url + "&format=csv").get_data(as_text=True)
    line = next(ln for ln in csv.splitlines() if "Anak Satu" in ln)
    assert line.split(",")[5] == old_name
    # An open month's list names the person's own Posyandu, as now.
    nxt = c.get(f"/laporan/kelurahan/{tree.kelurahan['A'].id}/daftar/S?bulan={date.today():%Y-%m}")
    assert nxt.status_code == 200


def test_a_list_reads_only_its_own_section_and_the_trend_only_the_months_not_frozen(app, tree, month):
    """The list behind one number loads that list's part of each snapshot (not the whole snapshot); the trend
    reads an approved month from the figures and the live measurements only of the months not approved."""
    before = svc.prevalence_trend(_pos(tree, "A1"), M, 3)
    _approve(tree, "A1")
    seen = []

    def record(_conn, _cursor, statement, params, *_args):
        seen.append((statement, list(params.values()) if isinstance(params, dict) else list(params)))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        month_snapshot.read(_pos(tree, "A1"), M, "lists/D")
        read_list = seen[:]
        seen.clear()
        assert svc.prevalence_trend(_pos(tree, "A1"), M, 3) == before
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any("lists/D" in params for _s, params in read_list)
    assert not any(p in ("eppgbm", "lists/S") for _s, params in read_list for p in params)
    live = [params for s, params in seen if "FROM measurement" in s]
    assert live and not any(p in (L, L.isoformat()) for params in live for p in params)  # M itself: not read
