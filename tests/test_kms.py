"""N/T/O/B, 2T, BGM and new stunting on constructed weighing histories (DESIGN §3)."""
from datetime import date

import pytest

from posyandu.domain.kms import (KBM_KMS_2010, Weighing, implausible_change, is_bgm, is_new_stunting, is_two_t,
                                 kbm_grams, ntob, previous_weighing)

KBM = {str(k): v for k, v in KBM_KMS_2010.items()}


def run(history_spec, age0_months=1):
    """Code a sequence of (date, kg) weighings one after another, as the app does at each hari buka."""
    history, codes, two_ts = [], [], []
    for on, kg in history_spec:
        age = age0_months + (on.year * 12 + on.month) - (history_spec[0][0].year * 12 + history_spec[0][0].month)
        code = ntob(history, on, kg, age, KBM)
        two_ts.append(is_two_t(history, on, code))
        history.append(Weighing(on, kg, code))
        codes.append(code)
    return codes, two_ts


def test_first_weighing_is_b_then_n_and_t_against_kbm():
    codes, _ = run([(date(2026, 1, 10), 4.0), (date(2026, 2, 10), 4.9), (date(2026, 3, 10), 5.5)], age0_months=1)
    # Feb: age 2 months, KBM 900 g, gained exactly 900 g → N; Mar: age 3, KBM 800, gained 600 → T
    assert codes == ["B", "N", "T"]


@pytest.mark.parametrize("age, gain_g, code", [
    (1, 800, "N"), (1, 700, "T"), (2, 900, "N"), (2, 800, "T"), (4, 600, "N"), (4, 500, "T"),
    (6, 400, "N"), (6, 300, "T"), (8, 300, "N"), (8, 200, "T"), (12, 200, "N"), (12, 100, "T"),
    (24, 200, "N"), (59, 100, "T"), (0, 800, "N"), (0, 700, "T"),
])
def test_kbm_boundaries(age, gain_g, code):
    prev = [Weighing(date(2026, 4, 3), 8.0, "N")]
    assert ntob(prev, date(2026, 5, 28), 8.0 + gain_g / 1000, age, KBM) == code


def test_missed_month_gives_o_and_breaks_2t():
    codes, two_ts = run([(date(2026, 1, 10), 7.0), (date(2026, 2, 10), 7.0), (date(2026, 4, 10), 7.0),
                         (date(2026, 5, 10), 7.0), (date(2026, 6, 10), 7.0)], age0_months=10)
    assert codes == ["B", "T", "O", "T", "T"]
    assert two_ts == [False, False, False, False, True]


def test_weight_loss_is_t_and_two_consecutive_t_is_2t():
    codes, two_ts = run([(date(2026, 1, 5), 10.0), (date(2026, 2, 5), 9.8), (date(2026, 3, 5), 9.8),
                         (date(2026, 4, 5), 10.3)], age0_months=20)
    assert codes == ["B", "T", "T", "N"]
    assert two_ts == [False, False, True, False]


def test_year_boundary_counts_as_consecutive_months():
    codes, _ = run([(date(2025, 12, 20), 9.0), (date(2026, 1, 3), 9.3)], age0_months=15)
    assert codes == ["B", "N"]


def test_second_weighing_in_same_month_compares_with_last_month():
    history = [Weighing(date(2026, 2, 10), 6.0, "B"), Weighing(date(2026, 3, 2), 6.5, "N")]
    assert previous_weighing(history, date(2026, 3, 25)).on == date(2026, 2, 10)
    assert ntob(history, date(2026, 3, 25), 6.6, 5, KBM) == "N"  # 600 g over February ≥ KBM 500


def test_kbm_table_is_versioned_data():
    custom = {str(m): 100 for m in range(1, 61)}
    prev = [Weighing(date(2026, 1, 1), 5.0, "B")]
    assert ntob(prev, date(2026, 2, 1), 5.1, 3, custom) == "N"
    assert ntob(prev, date(2026, 2, 1), 5.1, 3, KBM) == "T"
    assert kbm_grams(KBM, 75) == 200 and kbm_grams(KBM, 0) == 800


def test_bgm_and_new_stunting():
    assert is_bgm(-3.01) and not is_bgm(-3.0) and not is_bgm(None)
    assert is_new_stunting(-1.9, -2.1) and is_new_stunting(-2.0, -2.01)
    assert not is_new_stunting(-2.2, -2.5)  # already stunted: not new
    assert not is_new_stunting(None, -2.5)  # no earlier valid length: cannot say it is new


def test_implausible_changes_are_typing_slips_not_illness():
    on = date(2026, 3, 10)
    prev = date(2026, 2, 10)
    assert implausible_change(prev, 5.8, 60.0, on, 8.5, 61.0) == ["weight_jump"]
    assert implausible_change(prev, 8.5, 70.0, on, 5.8, 71.0) == ["weight_drop"]
    assert implausible_change(prev, 8.0, 76.0, on, 8.2, 67.0) == ["length_shrink"]
    assert implausible_change(prev, 8.0, 67.0, on, 8.2, 76.0) == ["length_jump"]
    assert implausible_change(prev, 8.0, 70.0, on, 7.6, 70.5) == []  # a sick month: real
    assert implausible_change(None, None, None, on, 8.0, 70.0) == []
