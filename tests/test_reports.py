"""Report figures against hand-counted data (tests/report_factories.py), and the arithmetic behind them."""
import re
from dataclasses import asdict
from datetime import date, timedelta

import pytest

from posyandu.domain import reports as dom
from posyandu.domain.lifecycle import age_in_months
from posyandu.services import reports as svc

from .report_factories import CELLS_A1, EXPECTED_A1, L, M, build_month

# --- plain arithmetic -----------------------------------------------------------------------------------

def test_ratios_are_percentages_with_one_decimal():
    c = dom.Cell(S=6, K=5, D=5, N=2)
    assert (c.ks, c.ds, c.dk, c.nd) == (83.3, 83.3, 100.0, 40.0)
    assert dom.Cell().ds is None and dom.pct(1, 3) == 33.3 and dom.pct(2, 3) == 66.7 and dom.pct(1, 8) == 12.5
    assert dom.fmt_pct(12.5) == "12,5%" and dom.fmt_pct(None) == "–"  # Indonesian style: no space before %
    assert dom.fmt_pct(40.0) == "40%" and dom.fmt_pct(0.04) == "0%" and dom.fmt_pct(99.96) == "100%"


@pytest.mark.parametrize("on", [date(2026, 2, 28), date(2024, 2, 29), date(2026, 3, 31), date(2026, 11, 30)])
def test_age_band_cutoffs_match_age_in_months(on):
    for months in (0, 1, 6, 12, 24, 36, 59, 60):
        edge = dom.latest_birth_for_age(on, months)
        assert age_in_months(edge, on) >= months
        assert age_in_months(edge + timedelta(days=1), on) < months
    cut = dom.band_cutoffs(on)
    for label, after, upto in cut:
        _, lo, hi = next(b for b in dom.AGE_BANDS if b[0] == label)
        assert age_in_months(upto, on) == lo and age_in_months(after + timedelta(days=1), on) == hi
        assert dom.band_of(lo) == dom.band_of(hi) == label
    assert dom.band_of(60) is None


def test_months():
    assert dom.month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert dom.shift_month(date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert dom.months_back(date(2026, 2, 1), 3) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert dom.parse_month("2026-03", date(2020, 5, 5)) == date(2026, 3, 1)
    assert dom.parse_month("x", date(2020, 5, 5)) == date(2020, 5, 1)


def test_rank_and_falling():
    rows = [("a", dom.Cell(lhaz_n=10, stunted=1)), ("b", dom.Cell()), ("c", dom.Cell(lhaz_n=10, stunted=3))]
    assert [r[0] for r in dom.rank(rows)] == ["c", "a", "b"]
    assert dom.falling([-0.2, -0.5, -0.8]) and not dom.falling([-1.9, -2.4, -2.5]) and not dom.falling([0, -0.1, -0.2])


# --- the month in SQL ---------------------------------------------------------------------------------------

@pytest.fixture
def month(tree):
    return build_month(tree)


def _pos(tree, *keys):
    from sqlalchemy import select

    from posyandu.models import Posyandu

    return select(Posyandu.id).where(Posyandu.id.in_([tree.posyandu[k].id for k in keys]))


def test_skdn_of_posyandu_a1_by_hand(tree, month):
    by_pos = svc.monthly_by_posyandu(_pos(tree, "A1"), M, risk=True)
    a1 = by_pos[tree.posyandu["A1"].id]
    tot = a1.total()
    assert {k: getattr(tot, k) for k in EXPECTED_A1} == EXPECTED_A1
    assert tot.D == tot.N + tot.T + tot.O + tot.B and tot.consistent()
    assert tot.tidak_hadir == 1 and tot.K - tot.D == 0  # c3 was weighed without a KIA book
    assert (tot.ks, tot.ds, tot.dk, tot.nd) == (83.3, 83.3, 100.0, 40.0)
    assert (tot.stunting_pct, tot.wasting_pct, tot.underweight_pct) == (40.0, 40.0, 60.0)
    # one child per cell, in the right band and sex
    assert {key for key, c in a1.cells.items() if c.S} == set(CELLS_A1)
    assert all(c.S == 1 for c in a1.cells.values())
    assert a1.cells[("6-11", "P")].N == 1 and a1.cells[("6-11", "P")].stunted == 1  # c2: last of two weighings
    assert a1.cells[("24-35", "L")].B == 1 and a1.cells[("24-35", "L")].bgm == 1  # c7: flagged last weighing
    assert a1.cells[("24-35", "L")].gizi_kurang == 1 and a1.cells[("24-35", "L")].waz_n == 1  # …valid one counts
    assert a1.cells[("24-35", "P")].tidak_hadir == 1 and a1.cells[("24-35", "P")].D == 0  # c4 missed the month
    assert a1.cells[("36-59", "L")].O == 1  # c5, 59 months
    assert a1.total(sex="L").S == 4 and a1.total(sex="P").S == 2
    assert a1.total(band="24-35").S == 2
    # mothers, vitamin A, ILP, attendance
    assert a1.vitamin_a == {"biru": 1, "merah": 1}
    assert (a1.ibu_hamil, a1.lila_measured, a1.kek) == (2, 2, 1)
    assert a1.ilp_registered["balita"] == 6 and a1.ilp_registered["ibu_hamil"] == 2
    assert a1.ilp_visited == {"balita": 2, "ibu_hamil": 1}
    assert a1.ilp_coverage("balita") == 33.3 and a1.ilp_coverage("ibu_hamil") == 50.0
    assert (a1.duties, a1.present, a1.attendance) == (2, 1, 50.0)


def test_roll_up_kelurahan_and_district(tree, month, app):
    from posyandu.extensions import db
    from posyandu.models import User

    admin = db.session.get(User, tree.users["admin_d"].id)
    pos = svc.area_posyandu(admin, "district", None)
    by_pos = svc.monthly_by_posyandu(pos, M)
    rows = svc.posyandu_rows(pos)
    kel = {name: a.total() for _, name, a in svc.roll_up(by_pos, rows, "kelurahan")}
    assert kel["Kelurahan A"].S == 7 and kel["Kelurahan A"].D == 6 and kel["Kelurahan A"].B == 2
    assert kel["Kelurahan B"].S == 0
    district = svc.total(by_pos.values()).total()
    assert district.S == 7 and district.N == 2 and district.consistent()  # c10 of district E is not here
    # a clerk of kelurahan A asking for district E's Posyandu gets nothing
    clerk = db.session.get(User, tree.users["clerk_a"].id)
    assert svc.monthly_by_posyandu(svc.area_posyandu(clerk, "posyandu", tree.posyandu["C1"].id), M) == {}


def test_lists_behind_numbers_match_counts(tree, month):
    pos = _pos(tree, "A1")
    tot = svc.monthly_by_posyandu(pos, M, risk=True)[tree.posyandu["A1"].id].total()
    names = lambda metric, **kw: [p.name for p, _ in svc.list_page(pos, M, metric, **kw, size=50)[0]]
    for metric in EXPECTED_A1:
        if metric.endswith("_n"):
            continue
        assert len(names(metric)) == getattr(tot, metric), metric
    assert names("tidak_hadir") == ["Anak Empat"]
    assert names("new_stunting") == ["Anak Dua"]
    assert sorted(names("at_risk")) == ["Anak Satu", "Anak Tiga"]
    assert names("S", band="24-35", sex="L") == ["Anak Tujuh"]
    assert names("kek") == ["Ibu M1"] and sorted(names("ibu_hamil")) == ["Ibu M1", "Ibu M2"]
    assert names("vita_biru") == ["Anak Dua"] and names("vita_merah") == ["Anak Lima"]
    assert sorted(names("ilp-vis-balita")) == ["Anak Dua", "Anak Satu"]
    assert len(names("ilp-reg-balita")) == 6
    assert svc.list_page(pos, M, "D")[2] == 5


@pytest.mark.parametrize("wide", [False, True])
def test_at_risk_and_trend(tree, month, wide):
    pos = _pos(tree, "A1")
    tot = svc.monthly_by_posyandu(pos, M, wide, risk=True)[tree.posyandu["A1"].id].total()
    assert {k: getattr(tot, k) for k in EXPECTED_A1} == EXPECTED_A1  # the same figures by either read path
    rows = svc.list_page(pos, M, "at_risk", wide=wide, size=10)[0]
    # most urgent first (2T before a slowly falling TB/U), not by name
    assert [(p.name, reason) for p, reason in rows] == [("Anak Tiga", "2T"), ("Anak Satu", "falling_lhaz")]
    trend = svc.prevalence_trend(pos, M, 3, wide)
    assert [m for m, _ in trend] == [dom.shift_month(M, -2), dom.shift_month(M, -1), M]
    now = trend[-1][1]
    assert (now.lhaz_n, now.stunted, now.wasted, now.underweight) == (tot.lhaz_n, tot.stunted, tot.wasted,
                                                                         tot.underweight)
    before = trend[1][1]  # PREV: c1, c2, c3, c4 (all valid)
    assert (before.lhaz_n, before.stunted) == (4, 1)


def test_an_empty_month_is_all_zero(tree, month):
    by_pos = svc.monthly_by_posyandu(_pos(tree, "A1"), dom.shift_month(M, -70))
    tot = svc.total(by_pos.values()).total()
    assert asdict(tot) == asdict(dom.Cell())
    assert L == dom.month_end(M)


def test_gizi_buruk_is_bb_tb_below_minus_3_by_hand(tree, month):
    """Issue 9 / PMK 2/2020: gizi buruk and gizi kurang are BB/PB or BB/TB categories. Counted by hand in Python
    from the stored rows: each child of S, its latest valid measurement of the month, BB/TB < −3 SD."""
    from sqlalchemy import select

    from posyandu.extensions import db
    from posyandu.models import Measurement, Person

    a1 = tree.posyandu["A1"].id
    tot = svc.monthly_by_posyandu(_pos(tree, "A1"), M)[a1].total()
    kids = db.session.scalars(select(Person).where(Person.posyandu_id == a1, Person.deleted_at.is_(None))).all()
    s_kids = [p for p in kids if p.birth_date <= L and age_in_months(p.birth_date, L) < 60]
    latest_whz = {}
    for p in s_kids:
        rows = db.session.scalars(select(Measurement).where(
            Measurement.person_id == p.id, Measurement.measured_on >= M, Measurement.measured_on <= L,
            Measurement.flagged.is_(False), Measurement.weight_kg.is_not(None))).all()
        if rows:
            latest_whz[p.name] = max(rows, key=lambda m: (m.measured_on, m.id)).whz
    buruk = [n for n, z in latest_whz.items() if z is not None and z < -3]
    kurang = [n for n, z in latest_whz.items() if z is not None and -3 <= z < -2]
    assert buruk == ["Anak Tiga"] and kurang == ["Anak Tujuh"]
    assert (tot.gizi_buruk, tot.gizi_kurang) == (len(buruk), len(kurang))
    # BB/U below −2 is "berat badan kurang", not gizi kurang: Anak Dua (BB/U −2.4, BB/TB −1.0) is not counted
    names = lambda metric: [p.name for p, _ in svc.list_page(_pos(tree, "A1"), M, metric, size=50)[0]]
    assert names("gizi_buruk") == buruk and names("gizi_kurang") == kurang
    assert "Anak Dua" in names("underweight") and "Anak Dua" not in names("gizi_kurang")


def test_trend_chart_labels_the_vertical_axis_along_it():
    from datetime import date

    from posyandu.domain.report_chart import trend_chart

    svg = trend_chart([(date(2026, m, 1), 20.0 + m, 8.0, 15.0) for m in range(1, 7)], title="Prevalensi",
                      series=("Stunting", "Gizi kurang/buruk", "BB kurang"), y_label="% balita diukur")
    label = re.search(r'<text ([^>]*)>% balita diukur</text>', svg).group(1)
    assert 'transform="rotate(-90)"' in label  # along the y axis, not under the month names
    x_of_ticks = {float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+">\d+</text>', svg)}
    y_along = float(re.search(r'\by="([\d.]+)"', label).group(1))
    assert y_along < min(x_of_ticks) - 20  # left of the tick numbers, clear of them
    assert all(name in svg for name in ("Stunting", "Gizi kurang/buruk", "BB kurang"))
