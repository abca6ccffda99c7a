"""The meja-2 assessment as a pure function: the same inputs give the same numbers on a laptop and on the district
(no app, no database here)."""
from datetime import date

from posyandu.domain import growth, kms
from posyandu.domain.growth_assessment import History, PastWeighing, assess, is_adult, uses_kbm

BORN = date(2025, 1, 15)
ON = date(2025, 7, 10)  # about 5.8 months


def test_first_weighing_is_b_with_z_scores_and_no_problems():
    a = assess("P", BORN, ON, {"weight_kg": 7.0, "length_cm": 65.0, "position": "l"})
    z = growth.score("P", (ON - BORN).days, 7.0, 65.0, "l")
    assert a.problems == []
    assert a.computed["age_days"] == (ON - BORN).days
    assert a.computed["waz"] == z["waz"] and a.computed["lhaz"] == z["lhaz"] and a.computed["whz"] == z["whz"]
    assert a.computed["ntob"] == "B" and a.computed["two_t"] is False and a.computed["bgm"] is False
    assert a.computed["kbm_table_id"] is None
    assert a.computed["new_stunting"] is False


def test_n_and_t_against_last_month_and_the_kbm_given():
    last = History(weighings=(PastWeighing(date(2025, 6, 10), 6.6, 64.0, "l", "N"),))
    # age 5 months: KBM 500 g in the KMS 2010 table
    assert assess("P", BORN, ON, {"weight_kg": 7.1}, last).computed["ntob"] == "N"
    assert assess("P", BORN, ON, {"weight_kg": 7.0}, last).computed["ntob"] == "T"
    # a district's own KBM version decides, and its id is kept with the code
    strict = {str(m): 450 for m in range(1, 61)}
    a = assess("P", BORN, ON, {"weight_kg": 7.05}, last, kbm_grams=strict, kbm_table_id=7)
    assert a.computed["ntob"] == "N" and a.computed["kbm_table_id"] == 7


def test_o_when_last_month_was_missed():
    old = History(weighings=(PastWeighing(date(2025, 5, 10), 6.0, None, None, "N"),))
    assert assess("P", BORN, ON, {"weight_kg": 7.0}, old).computed["ntob"] == "O"


def test_two_t_after_a_t_last_month():
    last = History(weighings=(PastWeighing(date(2025, 6, 10), 6.9, None, None, "T"),
                              PastWeighing(date(2025, 5, 10), 6.8, None, None, "N")))
    a = assess("P", BORN, ON, {"weight_kg": 7.0}, last)
    assert a.computed["ntob"] == "T" and a.computed["two_t"] is True


def test_same_day_weighing_of_another_visit_is_history_but_not_the_previous():
    # a weighing on the same date (another visit) counts for N/T/O/B's history but not as "the previous one"
    # for implausible changes
    same_day = History(weighings=(PastWeighing(ON, 9.9, None, None, "N"),
                                  PastWeighing(date(2025, 6, 10), 6.6, None, None, "N")))
    a = assess("P", BORN, ON, {"weight_kg": 7.1}, same_day)
    assert a.problems == [] and a.computed["ntob"] == "N"


def test_bgm_below_minus_three_sd():
    a = assess("L", BORN, ON, {"weight_kg": 4.6})
    assert a.computed["waz"] < -3 and a.computed["bgm"] is True


def test_new_stunting_only_when_the_previous_length_was_not_stunted():
    short = {"weight_kg": 6.5, "length_cm": 59.0, "position": "l"}
    assert assess("P", BORN, ON, short).computed["lhaz"] < -2
    assert assess("P", BORN, ON, short, History(previous_lhaz=-1.0)).computed["new_stunting"] is True
    assert assess("P", BORN, ON, short, History(previous_lhaz=-2.5)).computed["new_stunting"] is False
    assert assess("P", BORN, ON, short, History()).computed["new_stunting"] is False


def test_implausible_change_is_listed_against_the_previous_measurement():
    last = History(weighings=(PastWeighing(date(2025, 6, 10), 6.6, 64.0, "l", "N"),))
    a = assess("P", BORN, ON, {"weight_kg": 9.9, "length_cm": 60.0, "position": "l"}, last)
    assert "weight_jump" in a.problems and "length_shrink" in a.problems
    # standing height is compared as lying length (+0.7 cm): 63.5 standing is 64.2 lying, no shrink
    a = assess("P", BORN, ON, {"weight_kg": 7.1, "length_cm": 63.5, "position": "h"}, last)
    assert "length_shrink" not in a.problems


def test_z_score_flags_are_problems():
    a = assess("P", BORN, ON, {"weight_kg": 25.0})
    assert "waz_flag" in a.problems


def test_no_ntob_without_weight_or_after_the_who_ages():
    assert "ntob" not in assess("P", BORN, ON, {"length_cm": 65.0, "position": "l"}).computed
    assert not uses_kbm(BORN, ON, {"length_cm": 65.0})
    school = date(2018, 1, 1)
    assert not uses_kbm(school, ON, {"weight_kg": 20.0})
    assert "ntob" not in assess("L", school, ON, {"weight_kg": 20.0}).computed


def test_adult_is_checked_for_slips_not_z_scores():
    born = date(1990, 3, 1)
    assert is_adult(born, ON)
    a = assess("P", born, ON, {"weight_kg": 94.0, "length_cm": 155.0},
               History(weighings=(PastWeighing(date(2025, 6, 10), 49.0),)))
    assert a.computed == {"age_days": (ON - born).days}
    assert "weight_change_adult" in a.problems
    assert assess("P", born, ON, {"weight_kg": 50.0, "length_cm": 155.0},
                  History(weighings=(PastWeighing(date(2025, 6, 10), 49.0),))).problems == []
    assert "height_implausible" in assess("P", born, ON, {"weight_kg": 50.0, "length_cm": 15.5}).problems


def test_kbm_table_grams_as_stored_keys_or_ints():
    last = History(weighings=(PastWeighing(date(2025, 6, 10), 6.6),))
    as_ints = assess("P", BORN, ON, {"weight_kg": 7.1}, last, kbm_grams=kms.KBM_KMS_2010, kbm_table_id=1)
    assert as_ints.computed["ntob"] == "N" and as_ints.computed["kbm_table_id"] == 1
