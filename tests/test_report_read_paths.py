"""The fast read paths of the reports (issue 15) give the same rows as the ones they replace.

child_month reads a month's weighings by probing each child's newest weighing on SQLite and by DISTINCT ON on
PostgreSQL (a window before); all must agree row for row on a varied month (ties on a date, flagged last weighings, weighings
without a weight, new stunting on a flagged or an earlier row, children never weighed, the deleted and those
who left). A list behind a number is one query for its page and its total."""
import random
from datetime import timedelta

import pytest
from sqlalchemy import Join, event, select

from posyandu.domain import reports as dom
from posyandu.extensions import db
from posyandu.models import Measurement, Person, Posyandu
from posyandu.models.base import utcnow
from posyandu.services import reports as svc

from .factories import person
from .report_factories import EXPECTED_A1, M, build_month

FIRST, LAST = dom.month_start(M), dom.month_end(M)


def _varied_month(tree, n=120, seed=15):
    """n children over the district's Posyandu with 0–4 weighings in and around M, drawn at random."""
    rng = random.Random(seed)
    places = [tree.posyandu[k] for k in ("A1", "A2", "B1")]
    days = [FIRST, FIRST + timedelta(days=9), FIRST + timedelta(days=9), LAST, FIRST - timedelta(days=3),
            LAST + timedelta(days=1), dom.shift_month(M, -1) + timedelta(days=4)]
    for i in range(n):
        p = person(rng.choice(places), f"Anak Acak {i:03d}", rng.choice("LP"),
                   LAST - timedelta(days=rng.randint(0, 62 * 30)), has_kia_book=rng.random() < 0.85,
                   deleted_at=utcnow() if rng.random() < 0.05 else None,
                   left_on=FIRST - timedelta(days=rng.choice((-5, 3))) if rng.random() < 0.05 else None)
        for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4))):
            on = rng.choice(days)
            z = lambda: None if rng.random() < 0.1 else round(rng.uniform(-4, 2), 2)  # noqa: E731
            db.session.add(Measurement(
                person_id=p.id, posyandu_id=p.posyandu_id, measured_on=on,
                weight_kg=None if rng.random() < 0.08 else 9.5, length_cm=75.0, position="l",
                age_days=(on - p.birth_date).days, waz=z(), lhaz=z(), whz=z(), flagged=rng.random() < 0.15,
                ntob=rng.choice(("N", "T", "O", "B", None)), bgm=rng.random() < 0.2, two_t=rng.random() < 0.1,
                new_stunting=rng.random() < 0.15))
    db.session.commit()


def _district(tree):
    return select(Posyandu.id).where(Posyandu.id.in_([p.id for p in tree.posyandu.values()]))


def _methods() -> tuple[str, ...]:
    """Every way child_month can read the weighings on this backend (DISTINCT ON is PostgreSQL's)."""
    return ("probe", "window") + (("distinct",) if svc._dialect() == "postgresql" else ())


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("risk", [False, True])
def test_child_month_probe_and_window_agree(tree, wide, risk):
    build_month(tree)
    _varied_month(tree)
    pos = _district(tree)
    rows = {}
    for method in _methods():
        c = svc.child_month(pos, M, wide, risk, method=method)
        rows[method] = sorted(db.session.execute(select(c)).all())
    assert len(rows["window"]) > 100
    weighed = [r for r in rows["window"] if r.weighed is not None]
    assert len(weighed) > 50 and any(r.new_stunting for r in weighed) and any(r.waz is None for r in weighed)
    if risk:  # the three-month TB/U window: SQLite steps back per child, the others sort the window
        assert any(r.falling is not None for r in rows["window"])
    assert rows["probe"] == rows["window"]
    if "distinct" in rows:
        assert rows["distinct"] == rows["window"]


def _joins(frm) -> tuple[str, int]:
    """The table a FROM clause starts from and how many joins it chains (a join's left side is the chain so far)."""
    n = 0
    while isinstance(frm, Join):
        n, frm = n + 1, frm.left
    return frm.name, n


@pytest.mark.parametrize("method", ["window", "distinct"])
def test_child_month_joins_the_children_to_their_weighings_once(tree, method):
    """Every child of S meets the month's weighings in one outer join: DISTINCT ON joins its newest, newest valid
    and new-stunting rows to each other first (the month's weighed children, few in the current month), not
    each to all of S (three joins per child made the current month's report slower than the window's)."""
    c = svc.child_month(_district(tree), M, wide=True, method=method)
    (frm,) = c.element.get_final_froms()
    assert _joins(frm) == (Person.__tablename__, 1)


def test_report_figures_on_the_varied_month_agree(tree):
    build_month(tree)
    _varied_month(tree)
    pos = _district(tree)
    figures = {}
    for method in _methods():
        saved = dict(svc.WEIGHINGS)
        svc.WEIGHINGS.update({"sqlite": method, "postgresql": method})
        try:
            figures[method] = svc.live_by_posyandu(pos, M, wide=True, risk=True)
        finally:
            svc.WEIGHINGS.clear()
            svc.WEIGHINGS.update(saved)
    assert figures["probe"] == figures["window"]
    if "distinct" in figures:
        assert figures["distinct"] == figures["window"]
    a1 = figures["probe"][tree.posyandu["A1"].id].total()
    assert a1.S > EXPECTED_A1["S"] and a1.consistent()


def _statements(run):
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "set_config(" not in statement:  # PostgreSQL: room for the sort, no JIT (reports.report_reading)
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        out = run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return out, seen


def _whole(q) -> list[tuple]:
    """The oracle: people_behind's whole list read at once, as (person id, detail)."""
    return [(p.id, d) for p, d in db.session.execute(q).all()]


def _page(whole: list, page: int, size: int) -> tuple[list, bool, int]:
    return whole[(page - 1) * size: page * size], len(whole) > page * size, len(whole)


def _ids_details(got: tuple) -> tuple:
    return [(p.id, d) for p, d in got[0]], got[1], got[2]


@pytest.mark.parametrize("wide", [False, True])
def test_list_page_gives_the_rows_of_the_whole_list(tree, wide):
    """A list page (the Posyandu's lists computed whole and kept, services.changes) has the people, order,
    details, total and "more" of people_behind's whole list, for every metric, an age band and a sex, and pages
    past the end; the children at risk most urgent first across the area."""
    build_month(tree)
    _varied_month(tree, n=160)
    pos = _district(tree)
    seen = set()
    for metric in svc.METRICS:
        for band, sex in ((None, None), ("12-23", None), (None, "P"), ("36-59", "L")):
            whole = _whole(svc.people_behind(pos, M, metric, band, sex, wide))
            if band is None and sex is None and metric in svc.CHILD_METRICS:
                seen.add(metric) if len(whole) > 4 else None
            for page in (1, 2, 3, len(whole) // 4 + 1, len(whole) // 4 + 3):
                got = _ids_details(svc.list_page(pos, M, metric, band, sex, wide, page, 4))
                assert got == _page(whole, page, 4), (metric, band, sex, page)
    assert seen >= set(svc.CHILD_METRICS) - {"bgm", "B", "gizi_buruk", "new_stunting", "at_risk"}, seen


@pytest.mark.parametrize("metric", ["S", "D", "at_risk", "stunted", "kek", "ibu_hamil", "vita_merah",
                                    "ilp-reg-balita", "ilp-vis-balita"])
def test_a_kept_list_pages_without_reading_the_month_again(tree, metric):
    """The first page computes the Posyandu's lists; the next pages, another band or sex, and coming back read
    only the tokens and the page's people."""
    build_month(tree)
    _varied_month(tree)
    pos = _district(tree)
    whole = _whole(svc.people_behind(pos, M, metric, wide=True))
    assert _ids_details(svc.list_page(pos, M, metric, wide=True, page=1, size=4)) == _page(whole, 1, 4)
    for page in (2, 3, 1):
        got, statements = _statements(lambda: svc.list_page(pos, M, metric, wide=True, page=page, size=4))
        assert _ids_details(got) == _page(whole, page, 4)
        read = " ".join(statements).lower()
        assert "measurement" not in read and "visit" not in read and "pregnancy" not in read, statements
        # the approved months' lists (none), the area's Posyandu with their tokens, the page's people
        assert len(statements) <= 3, statements


def test_list_route_reads_the_month_once(tree, login):
    build_month(tree)
    c = login("admin_d")
    month = f"{M.year:04d}-{M.month:02d}"
    _, statements = _statements(lambda: c.get(f"/laporan/kabupaten/daftar/D?bulan={month}"))
    heavy = [s for s in statements if "measurement" in s.lower()]
    assert len(heavy) == 1, heavy
    _, statements = _statements(lambda: c.get(f"/laporan/kabupaten/daftar/D?bulan={month}&page=2"))
    assert not [s for s in statements if "measurement" in s.lower()]  # kept


def test_visits_read_from_the_months_hari_buka(tree):
    """The ILP visit figures are read from the month's hari buka, and still count a person of the area seen at
    another Posyandu's hari buka, once per group."""
    k = build_month(tree)
    from posyandu.models import HariBuka, Visit

    hb = HariBuka(posyandu_id=tree.posyandu["B1"].id, held_on=FIRST + timedelta(days=20))
    hb.visits.append(Visit(person_id=k["c1"].id, queue_number=1, group="balita", step=0))
    hb.visits.append(Visit(person_id=k["c5"].id, queue_number=2, group="balita", step=0))
    db.session.add(hb)
    db.session.commit()
    _reg, vis = svc.ilp_by_posyandu(_district(tree), M)
    assert vis[tree.posyandu["A1"].id]["balita"] == 3  # c1 (twice: once), c2, c5


def test_report_reads_run_in_one_process_on_postgresql(tree):
    """A report's reads on PostgreSQL: room for the sorts, no JIT, and no parallel workers (each worker sorted the
    month's weighings again for its own hash: 0,87 s against 0,51 s for a district month at 150 000 children); the
    settings end with the transaction."""
    if svc._dialect() != "postgresql":
        pytest.skip("PostgreSQL settings")
    from sqlalchemy import text

    svc.report_reading()
    shown = [db.session.scalar(text(f"SHOW {name}")) for name in ("work_mem", "jit", "max_parallel_workers_per_gather")]
    assert shown == [svc.REPORT_WORK_MEM, "off", "0"]
    db.session.rollback()
    assert db.session.scalar(text("SHOW max_parallel_workers_per_gather")) != "0"


@pytest.mark.parametrize("wide", [False, True])
def test_live_figures_read_in_parallel_equal_one_after_another(tree, wide):
    """The report page reads its heavy queries at once (database.concurrently: worker threads with their own
    sessions on PostgreSQL); every figure of every Posyandu is the same as read one query after another."""
    build_month(tree)
    _varied_month(tree)
    pos = _district(tree)
    one_by_one = svc.live_by_posyandu(pos, M, wide=wide, risk=not wide)
    at_once = svc.live_by_posyandu(pos, M, wide=wide, risk=not wide, parallel=True)
    assert at_once == one_by_one
    assert sum(a.total().S for a in at_once.values()) > 100  # the varied month was read, not an empty one


def test_concurrently_runs_the_other_calls_in_sessions_of_their_own_on_postgresql(tree):
    import threading

    from posyandu.database import concurrently

    def where():
        return threading.current_thread().name, id(db.session())

    here = where()
    results = concurrently([(where,), (where,), (where,)])
    assert results[0] == here  # the first call runs in this thread, in this session
    if svc._dialect() == "postgresql":
        assert all(name.startswith("report-part") for name, _ in results[1:])
        assert len({s for _, s in results}) == 3
    else:  # SQLite: one transaction, one snapshot
        assert results == [here] * 3


def _varied_people(tree, n=150, seed=16):
    """n people of every age over the district's Posyandu (and one outside it), some pregnant, some in nifas,
    some both, pregnancies deleted, ended long ago or started too early; the deleted and those who left; and
    visits in several groups on hari buka in and around M, at their own Posyandu or another."""
    from posyandu.models import HariBuka, Pregnancy, Visit

    rng = random.Random(seed)
    places = [tree.posyandu[k] for k in ("A1", "A2", "B1", "C1")]
    days = {p.id: [HariBuka(posyandu_id=p.id, held_on=on) for on in
                   (FIRST + timedelta(days=4), LAST, FIRST - timedelta(days=2), LAST + timedelta(days=1))]
            for p in places}
    db.session.add_all([hb for hbs in days.values() for hb in hbs])
    db.session.flush()
    queue = {hb.id: 0 for hbs in days.values() for hb in hbs}
    for i in range(n):
        age_years = rng.choice((0, 1, 3, 4.9, 5, 5.1, 12, 18.9, 19, 19.1, 30, 45, 59.9, 60, 60.1, 75))
        birth = LAST - timedelta(days=int(age_years * 365.25) + rng.choice((-1, 0, 1, 20)))
        p = person(rng.choice(places), f"Warga {rng.choice('ABCDE')} {i % 40:02d}", rng.choice("LP"), birth,
                   deleted_at=utcnow() if rng.random() < 0.05 else None,
                   left_on=FIRST - timedelta(days=rng.choice((-5, 3))) if rng.random() < 0.05 else None)
        if rng.random() < 0.35:
            for _ in range(rng.choice((1, 1, 2))):
                hpht = LAST - timedelta(days=rng.choice((10, 100, 300, 307, 308, 400)))
                ended = rng.choice((None, None, LAST - timedelta(days=rng.choice((0, 20, 42, 43, 60))),
                                    LAST + timedelta(days=3)))
                db.session.add(Pregnancy(person_id=p.id, hpht=hpht, hpl=hpht + timedelta(days=280), ended_on=ended,
                                         deleted_at=utcnow() if rng.random() < 0.1 else None))
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            hb = rng.choice(days[rng.choice((p.posyandu_id, p.posyandu_id, places[0].id))])
            if any(v.person_id == p.id for v in hb.visits):
                continue
            queue[hb.id] += 1
            hb.visits.append(Visit(person_id=p.id, queue_number=queue[hb.id], step=0,
                                   group=rng.choice(svc.GROUPS)))
    db.session.commit()


@pytest.mark.parametrize("wide", [False, True])
def test_ilp_lists_agree_with_the_generic_path(tree, wide):
    """The ILP lists' own members (_ilp_members: the group as plain conditions, the visits counted before meeting
    their people) give the rows, details, order, total and "more" of people_behind's whole list (the group by
    _group_expr), for every group, page by page."""
    build_month(tree)
    _varied_people(tree)
    pos = _district(tree)
    from posyandu.models import Person as P

    groups = dict(db.session.execute(select(P.id, svc._group_expr(LAST)).where(P.birth_date <= LAST)).all())
    for grp in svc.GROUPS:
        inside = set(db.session.scalars(select(P.id).where(P.birth_date <= LAST, svc._in_group(grp, LAST))))
        assert inside == {pid for pid, g in groups.items() if g == grp}, grp
    sizes = {}
    for metric in svc.ILP_METRICS:
        whole = _whole(svc.people_behind(pos, M, metric, wide=wide))
        sizes[metric] = len(whole)
        for page in range(1, len(whole) // 3 + 3):
            got = _ids_details(svc.list_page(pos, M, metric, wide=wide, page=page, size=3))
            assert got == _page(whole, page, 3), (metric, page)
    assert all(sizes[m] > 3 for m in svc.ILP_METRICS), sizes
