"""Incentive arithmetic without Flask: policy in force, proration, reductions with reasons, PPh 21 rounding,
BPJS, several roles paid once, totals equal to the sum of lines, Rupiah and terbilang."""
from datetime import date

import pytest

from posyandu.domain import incentives as inc
from posyandu.domain.incentives import KaderMonth, Policy, Reduction, RoleSpan

ATT = Reduction("percent", 5000, "Tidak hadir pada hari buka bulan ini (potong 50%).")
COM = Reduction("amount", 100_000, "Belum menandatangani komitmen kinerja tahun ini.")
HV = Reduction("percent", 2500, "Kunjungan rumah kurang dari 4 (potong 25%).")
BONTANG = [
    Policy(date(2024, 1, 1), 300_000, "APBD", pph21_bp=250, id=1),
    Policy(date(2025, 11, 1), 1_000_000, "APBD", pph21_bp=250, bpjs_deduction=True, id=2,
           require={"attendance": ATT, "commitment": COM, "home_visits": HV}, min_home_visits=4),
]
KUKAR = [Policy(date(2025, 1, 1), 250_000, "APBDes", pph21_bp=500, id=3)]


def km(kid=1, roles=None, **kw):
    base = dict(hari_buka_held=1, hari_buka_attended=1, commitment_signed=True, home_visits=4, bpjs_enrolled=False)
    base.update(kw)
    return KaderMonth(kid, f"Kader {kid}", roles or [RoleSpan("kader", date(2024, 1, 1), None)], **base)


def test_policy_changes_at_the_month_boundary():
    assert inc.policy_for(BONTANG, date(2025, 10, 1)).amount == 300_000
    assert inc.policy_for(BONTANG, date(2025, 10, 31)).amount == 300_000
    assert inc.policy_for(BONTANG, date(2025, 11, 1)).amount == 1_000_000
    assert inc.policy_for(BONTANG, date(2025, 11, 30)).amount == 1_000_000
    assert inc.policy_for(BONTANG, date(2023, 12, 1)) is None
    oct_ = inc.compute_line(inc.policy_for(BONTANG, date(2025, 10, 1)), date(2025, 10, 1), km())
    nov = inc.compute_line(inc.policy_for(BONTANG, date(2025, 11, 1)), date(2025, 11, 1), km())
    assert (oct_.gross, oct_.pph21, oct_.net) == (300_000, 7_500, 292_500)
    assert (nov.gross, nov.pph21, nov.net) == (1_000_000, 25_000, 975_000)


def test_another_district_has_its_own_policy():
    p = inc.policy_for(KUKAR, date(2025, 11, 1))
    line = inc.compute_line(p, date(2025, 11, 1), km())
    assert (line.gross, line.pph21, line.net) == (250_000, 12_500, 237_500)
    assert inc.policy_for(KUKAR, date(2025, 11, 1)) is not inc.policy_for(BONTANG, date(2025, 11, 1))


def test_policy_must_start_on_a_first_and_use_whole_rupiah():
    with pytest.raises(ValueError):
        Policy(date(2025, 11, 15), 1_000_000)
    with pytest.raises(ValueError):
        Policy(date(2025, 11, 1), 1_000_000, require={"attendance": Reduction("percent", 5000, "")})
    with pytest.raises(ValueError):
        Policy(date(2025, 11, 1), 1_000_000, require={"attendance": Reduction("percent", 12_000, "x")})


def test_joined_mid_month_is_prorated_by_calendar_days_and_floored():
    # Joined 20 November: 11 of 30 days → floor(1 000 000 × 11 / 30) = 366 666
    line = inc.compute_line(BONTANG[1], date(2025, 11, 1), km(roles=[RoleSpan("kader", date(2025, 11, 20), None)]))
    assert (line.days_served, line.days_in_month, line.prorated) == (11, 30, 366_666)
    assert any("Prorata 11/30" in n for n in line.notes)
    # Left on 10 October (31 days): floor(300 000 × 10 / 31) = 96 774
    line = inc.compute_line(BONTANG[0], date(2025, 10, 1),
                            km(roles=[RoleSpan("kader", date(2024, 1, 1), date(2025, 10, 10))]))
    assert line.prorated == 96_774


def test_no_role_in_the_month_means_no_line():
    roles = [RoleSpan("kader", date(2024, 1, 1), date(2025, 10, 31))]
    assert inc.compute_line(BONTANG[1], date(2025, 11, 1), km(roles=roles)) is None


def test_reductions_state_their_reasons_and_never_go_below_zero():
    p = BONTANG[1]
    line = inc.compute_line(p, date(2025, 11, 1), km(hari_buka_attended=0, commitment_signed=False, home_visits=1))
    assert [(c.code, c.amount) for c in line.cuts] == [("attendance", 500_000), ("commitment", 100_000),
                                                        ("home_visits", 250_000)]
    assert [c.reason for c in line.cuts] == [ATT.reason, COM.reason, HV.reason]
    assert line.gross == 150_000 and line.pph21 == 3_750 and line.net == 146_250
    heavy = Policy(date(2025, 11, 1), 100_000, require={"commitment": Reduction("amount", 250_000, "Tanpa komitmen")})
    line = inc.compute_line(heavy, date(2025, 11, 1), km(commitment_signed=False))
    assert line.cuts[0].amount == 100_000 and line.gross == 0 and line.net == 0


def test_conditions_that_cannot_be_assessed_are_not_applied_and_say_so():
    line = inc.compute_line(BONTANG[1], date(2025, 11, 1), km(hari_buka_held=0, hari_buka_attended=0,
                                                               home_visits=None))
    assert line.cuts == [] and line.gross == 1_000_000
    assert any("Tidak ada hari buka" in n for n in line.notes)
    assert any("Kunjungan rumah belum tercatat" in n for n in line.notes)


def test_pph21_rounding_rule_is_floor_to_the_rupiah():
    assert inc.tax(1_000_000, 250) == 25_000
    assert inc.tax(366_666, 250) == 9_166  # 9 166,65 → 9 166
    assert inc.tax(96_774, 300) == 2_903  # 2 903,22 → 2 903
    assert inc.tax(33_333, 500) == 1_666  # 1 666,65 → 1 666 (floor, not half-up)
    assert inc.tax(0, 500) == 0
    assert inc.tax(-33_333, 500) == -1_666  # corrections mirror exactly
    assert all(isinstance(inc.tax(g, r), int) for g in (1, 999, 366_666) for r in (250, 300, 500))


def test_pph21_rate_can_be_set_per_batch():
    line = inc.compute_line(BONTANG[1], date(2025, 11, 1), km(), pph21_bp=300)
    assert line.pph21 == 30_000 and line.net == 970_000


def test_bpjs_is_deducted_for_enrolled_kader_only_and_never_beyond_the_net():
    enrolled = inc.compute_line(BONTANG[1], date(2025, 11, 1), km(bpjs_enrolled=True))
    assert (enrolled.gross, enrolled.pph21, enrolled.bpjs, enrolled.net) == (1_000_000, 25_000, 16_800, 958_200)
    assert inc.compute_line(BONTANG[1], date(2025, 11, 1), km()).bpjs == 0
    assert inc.compute_line(BONTANG[0], date(2025, 10, 1), km(bpjs_enrolled=True)).bpjs == 0  # policy off
    tiny = inc.compute_line(BONTANG[1], date(2025, 11, 1),
                            km(bpjs_enrolled=True, roles=[RoleSpan("kader", date(2025, 11, 30), None)]))
    assert tiny.gross == 33_333 and tiny.pph21 == 833 and tiny.bpjs == 16_800 and tiny.net == 15_700
    zero = Policy(date(2025, 11, 1), 10_000, bpjs_deduction=True)
    line = inc.compute_line(zero, date(2025, 11, 1), km(bpjs_enrolled=True))
    assert line.bpjs == 10_000 and line.net == 0 and any("BPJS dipotong Rp10.000 dari Rp16.800" in n for n in line.notes)


def test_a_person_with_several_roles_is_paid_once_by_default():
    roles = [RoleSpan("kader", date(2024, 1, 1), None, "Melati 1"), RoleSpan("bendahara", date(2024, 1, 1), None),
             RoleSpan("kader", date(2025, 3, 1), None, "Mawar 2")]
    line = inc.compute_line(BONTANG[1], date(2025, 11, 1), km(roles=roles))
    assert line.units == 1 and line.gross == 1_000_000
    assert any("dibayar satu kali" in n for n in line.notes)
    # Overlapping roles count their days once: 1–20 and 10–30 November cover all 30 days.
    split = [RoleSpan("kader", date(2025, 11, 1), date(2025, 11, 20)), RoleSpan("ketua", date(2025, 11, 10), None)]
    assert inc.compute_line(BONTANG[1], date(2025, 11, 1), km(roles=split)).prorated == 1_000_000


def test_a_policy_may_pay_per_role_each_prorated():
    p = Policy(date(2025, 11, 1), 100_000, pay_per_role=True)
    roles = [RoleSpan("kader", date(2024, 1, 1), None), RoleSpan("ketua", date(2025, 11, 16), None)]
    line = inc.compute_line(p, date(2025, 11, 1), km(roles=roles))
    assert line.units == 2 and line.prorated == 100_000 + 50_000 and line.base == 200_000


def test_adjustment_needs_a_reason_and_recomputes_tax():
    line = inc.compute_line(BONTANG[1], date(2025, 11, 1), km())
    with pytest.raises(ValueError):
        inc.adjust(line, -50_000, " ", 250, 0)
    adj = inc.adjust(line, -50_000, "Izin sakit dua minggu", 250, 0)
    assert (adj.gross, adj.pph21, adj.net, adj.adjustment_reason) == (950_000, 23_750, 926_250, "Izin sakit dua minggu")
    with pytest.raises(ValueError):
        inc.adjust(line, -2_000_000, "terlalu banyak", 250, 0)
    assert inc.adjust(adj, 0, "", 250, 0).gross == 1_000_000


def test_totals_equal_the_sum_of_lines():
    lines = [inc.compute_line(BONTANG[1], date(2025, 11, 1),
                              km(i, roles=[RoleSpan("kader", date(2025, 11, 1 + i % 29), None)],
                                 hari_buka_attended=i % 3, commitment_signed=i % 4 != 0, bpjs_enrolled=i % 2 == 0,
                                 home_visits=i % 6))
             for i in range(1, 60)]
    t = inc.totals(lines)
    for key, attr in (("gross", "gross"), ("pph21", "pph21"), ("bpjs", "bpjs"), ("net", "net")):
        assert t[key] == sum(getattr(ln, attr) for ln in lines)
    assert t["net"] == t["gross"] - t["pph21"] - t["bpjs"]
    assert t["gross"] == t["prorated"] - t["reductions"] + t["adjustment"]
    assert all(isinstance(v, int) for v in t.values())


def test_correction_deltas_carry_the_tax_on_the_final_gross():
    paid = {1: (1_000_000, 25_000, 16_800), 2: (500_000, 12_500, 0)}
    now = {1: (1_000_000, 25_000, 16_800), 2: (1_000_000, 25_000, 0), 3: (366_666, 9_166, 0)}
    ds = inc.deltas(paid, now)
    assert [(d.kader_id, d.gross, d.pph21, d.net) for d in ds] == [(2, 500_000, 12_500, 487_500),
                                                                   (3, 366_666, 9_166, 357_500)]


def test_rupiah_and_terbilang():
    assert inc.rupiah(1_000_000) == "Rp1.000.000"
    assert inc.rupiah(16_800) == "Rp16.800"
    assert inc.rupiah(-50_000) == "-Rp50.000"
    assert inc.terbilang(1_000_000) == "satu juta rupiah"
    assert inc.terbilang(958_200) == "sembilan ratus lima puluh delapan ribu dua ratus rupiah"
    assert inc.terbilang(16_800) == "enam belas ribu delapan ratus rupiah"
    assert inc.terbilang(1_100_000) == "satu juta seratus ribu rupiah"
    assert inc.terbilang(0) == "nol rupiah"
    assert inc.month_name(date(2025, 11, 1)) == "November 2025"
