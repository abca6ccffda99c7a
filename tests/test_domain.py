"""Plain-Python domain rules: NIK, life-cycle groups, hari buka dates."""
from datetime import date

import pytest

from posyandu.domain.lifecycle import age_in_months, group_for, hpl_from_hpht, pregnancy_is_active
from posyandu.domain.nik import kk_problem, nik_birth, nik_matches, nik_problem, normalise
from posyandu.domain.schedule import next_open_day, open_day


@pytest.mark.parametrize("nik, problem", [
    ("6474014203940001", None),
    ("647401420394000", "length"),
    ("64740142039400a1", "digits"),
    ("0974014203940001", "region"),
    ("6474013213940001", "birth"),   # day 32
    ("6474017213940001", "birth"),   # woman, day 72 - 40 = 32
    ("6474010113940001", "birth"),   # month 13
    ("6474014203940000", "serial"),
])
def test_nik_problems(nik, problem):
    assert nik_problem(nik) == problem


def test_nik_encodes_birth_and_sex():
    assert nik_birth("6474014203940001") == (2, 3, 94, "P")
    assert nik_matches("6474010203940001", date(1994, 3, 2), "L")
    assert not nik_matches("6474010203940001", date(1994, 3, 2), "P")
    assert normalise(" 6474.0142 0394-0001 ") == "6474014203940001" and normalise("  ") is None
    assert kk_problem("12") == "length" and kk_problem("6474010203940001") is None


@pytest.mark.parametrize("birth, on, pregnant, delivered, group", [
    (date(2024, 1, 15), date(2026, 1, 14), False, None, "balita"),
    (date(2021, 1, 15), date(2026, 1, 14), False, None, "balita"),          # 59 months
    (date(2021, 1, 15), date(2026, 1, 15), False, None, "usia_sekolah_remaja"),  # 60 months
    (date(2007, 6, 1), date(2026, 5, 31), False, None, "usia_sekolah_remaja"),  # 18 years
    (date(2007, 6, 1), date(2026, 6, 1), False, None, "dewasa"),
    (date(1966, 6, 1), date(2026, 6, 1), False, None, "lansia"),
    (date(1995, 6, 1), date(2026, 6, 1), True, None, "ibu_hamil"),
    (date(1995, 6, 1), date(2026, 6, 1), False, date(2026, 5, 1), "nifas"),
    (date(1995, 6, 1), date(2026, 6, 20), False, date(2026, 5, 1), "dewasa"),  # day 50 after birth
])
def test_life_cycle_groups(birth, on, pregnant, delivered, group):
    assert group_for(birth, on, pregnant, delivered) == group


def test_age_and_pregnancy_dates():
    assert age_in_months(date(2024, 1, 31), date(2024, 2, 29)) == 0
    assert age_in_months(date(2024, 1, 31), date(2024, 3, 1)) == 1
    assert hpl_from_hpht(date(2026, 1, 1)) == date(2026, 10, 8)
    assert pregnancy_is_active(date(2026, 1, 1), None, date(2026, 10, 1))
    assert not pregnancy_is_active(date(2026, 1, 1), date(2026, 9, 1), date(2026, 10, 1))
    assert not pregnancy_is_active(date(2025, 1, 1), None, date(2026, 1, 1))  # beyond 44 weeks


def test_hari_buka_dates():
    assert open_day(2026, 2, "day_of_month", 10, None, None) == date(2026, 2, 10)
    assert open_day(2026, 2, "day_of_month", 31, None, None) == date(2026, 2, 28)
    # second Tuesday of November 2026: Nov 1 is a Sunday → Tuesdays 3, 10
    assert open_day(2026, 11, "nth_weekday", None, 2, 1) == date(2026, 11, 10)
    assert next_open_day(date(2026, 11, 24), "day_of_month", 10, None, None) == date(2026, 12, 10)
    assert next_open_day(date(2026, 12, 10), "day_of_month", 10, None, None) == date(2026, 12, 10)
    assert next_open_day(date(2026, 12, 11), "day_of_month", 10, None, None) == date(2027, 1, 10)
    assert open_day(2026, 1, "nth_weekday", None, None, None) is None


# --- PMK 2/2020 categories and the rules that live once (issue 9) ----------------------------------------------

@pytest.mark.parametrize("z, expected", [
    (-3.01, "gizi_buruk"), (-3.0, "gizi_kurang"), (-2.01, "gizi_kurang"), (-2.0, "gizi_baik"), (1.0, "gizi_baik"),
    (1.01, "gizi_lebih"), (2.0, "gizi_lebih"), (2.01, "obesitas"), (None, None)])
def test_school_age_imt_u_categories(z, expected):
    """IMT/U for 5-18 years (PMK 2/2020): no 'berisiko gizi lebih'; obesitas already above +2 SD."""
    from posyandu.domain import growth

    assert growth.category_baz(z, 120) == expected
    assert growth.category_baz(z, 60) == expected  # 5 years exactly is school age
    if z is not None:
        assert growth.category_baz(z, 59.9) == growth.category_whz(z)  # under five: the BB/TB categories


def test_remaja_is_never_labelled_with_the_adult_imt():
    """A 15-year-old with IMT 26 (adult 'gemuk') is read by IMT/U; BB/U and TB/U get no PMK category after 5 y."""
    from posyandu.domain import findings

    m = {"age_days": 15 * 365 + 100, "weight_kg": 66.6, "length_cm": 160.0, "waz": None, "lhaz": 0.2, "baz": 1.6}
    adult = findings.adult_statuses(m, "usia_sekolah_remaja", "L")
    assert "imt" not in [s.indicator for s in adult]
    child = {s.indicator: s for s in findings.child_statuses(m)}
    assert child["imt_u"].category == "gizi_lebih" and child["tb_u"].category is None
    # a thin remaja (IMT/U < −2) is a finding; an adult keeps the adult IMT
    assert "wasted" in findings.finding_codes(dict(m, baz=-2.4), "usia_sekolah_remaja", "L")
    assert [s.category for s in findings.adult_statuses(m, "dewasa", "L") if s.indicator == "imt"] == ["gemuk"]
    # a balita keeps the 0-60 month categories
    baby = {s.indicator: s.category for s in findings.child_statuses({"age_days": 400, "waz": -3.2, "baz": 1.5})}
    assert baby == {"bb_u": "sangat_kurang", "imt_u": "berisiko_gizi_lebih"}


@pytest.mark.parametrize("group, months, fields", [
    ("balita", 3, {"weight_kg", "length_cm", "position", "head_cm", "oedema"}),
    ("balita", 6, {"weight_kg", "length_cm", "position", "head_cm", "oedema", "muac_cm"}),
    ("ibu_hamil", 300, {"weight_kg", "muac_cm", "systolic", "diastolic"}),
    ("nifas", 300, {"weight_kg", "muac_cm", "systolic", "diastolic"}),
    ("usia_sekolah_remaja", 179, {"weight_kg", "length_cm", "muac_cm", "waist_cm"}),
    ("usia_sekolah_remaja", 180, {"weight_kg", "length_cm", "muac_cm", "waist_cm", "systolic", "diastolic",
                                  "glucose_mg_dl"}),
    ("dewasa", 400, {"weight_kg", "length_cm", "muac_cm", "waist_cm", "systolic", "diastolic", "glucose_mg_dl"}),
    ("lansia", 800, {"weight_kg", "length_cm", "waist_cm", "systolic", "diastolic", "glucose_mg_dl"}),
])
def test_measures_by_group(group, months, fields):
    """DESIGN §3's table of what meja 2 measures, as one rule (template and server both read it)."""
    from posyandu.domain import rules

    assert rules.measures_for(group, months) == fields
    everything = {k: 1 for k in rules.MEASURES}
    assert set(rules.not_applicable(group, months, everything)) == set(rules.MEASURES) - fields
    assert rules.not_applicable(group, months, {k: None for k in rules.MEASURES} | {"oedema": False}) == []


def test_rules_are_written_once():
    """Issue 9 item 8: the thresholds of domain/rules.py appear as numbers nowhere else in the code or templates
    (KEK 23.5 cm, 30.4375 days a month, the 1856- and 1826-day boundaries, 731 days lying/standing)."""
    import io
    import re
    import tokenize
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "posyandu"
    once = {"23.5", "30.4375", "1856", "1826", "731"}
    found = []
    for path in root.rglob("*.py"):
        if path.name == "rules.py":
            continue
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.NUMBER and tok.string in once:
                found.append(f"{path.relative_to(root)}:{tok.start[0]} {tok.string}")
    for path in root.rglob("*.html"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"(?<![\d.,])(23[.,]5|30[.,]4375|1856|1826|731|age_months >= (6|180))(?![\d])", line):
                found.append(f"{path.relative_to(root)}:{n}")
    assert found == []


def test_person_card_reads_findings_by_the_group_at_the_measurement(app, tree):
    """The card used to read everyone over five as 'dewasa': a lansia's LILA 22 cm showed "KEK", a rule for women
    of child-bearing age. Now the group at the measurement decides (lansia: no KEK; remaja: IMT/U)."""
    from datetime import timedelta

    from posyandu.extensions import db
    from posyandu.models import Measurement
    from posyandu.services.person_card import card

    from .factories import person

    today = date.today()
    nenek = person(tree.posyandu["A1"], "Nenek Kartu", "P", date(1950, 1, 1))
    teen = person(tree.posyandu["A1"], "Remaja Kartu", "P", today - timedelta(days=15 * 365 + 30))
    db.session.add_all([
        Measurement(person_id=nenek.id, posyandu_id=nenek.posyandu_id, measured_on=today, weight_kg=45.0,
                    length_cm=150.0, muac_cm=22.0, systolic=120, diastolic=80),
        Measurement(person_id=teen.id, posyandu_id=teen.posyandu_id, measured_on=today, weight_kg=40.9,
                    length_cm=160.0, age_days=15 * 365 + 30, baz=-2.6, lhaz=0.1, muac_cm=24.0)])
    db.session.commit()
    assert card(nenek, today)["flags"] == []
    assert card(teen, today)["flags"] == ["wasted"]


def test_identity_rules():
    from posyandu.domain.identity import initial, nik_disagrees, on_roll

    assert not nik_disagrees("6474011506250001", date(2025, 6, 15), "L")
    assert nik_disagrees("6474011506250001", date(2025, 6, 15), "P")
    assert nik_disagrees("6474015506250001", date(2025, 6, 16), "P")
    assert not nik_disagrees("6474015506250001", date(2025, 6, 15), "P")
    assert not nik_disagrees(None, date(2025, 6, 15), "P") and not nik_disagrees("123", date(2025, 6, 15), "P")
    assert on_roll(None, date(2026, 2, 1)) and on_roll(date(2026, 3, 10), date(2026, 3, 1))
    assert on_roll(date(2026, 3, 10), date(2026, 2, 1)) and not on_roll(date(2026, 3, 10), date(2026, 4, 1))
    assert initial(" siti aminah") == "S." and initial("") == "—"
