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
