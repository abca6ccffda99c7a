"""BPJS Ketenagakerjaan for kader: the premium rule, the enrolment list, totals, who pays, the export, scope."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from posyandu.domain import bpjs as dom
from posyandu.extensions import db
from posyandu.models import District, Kader, KaderRole
from posyandu.services import bpjs, incentives

from .incentive_factories import policy_data


# --- the premium rule -------------------------------------------------------------------------------------------

def test_bpu_default_premium_matches_the_demo_policy_deduction():
    p = dom.premium()
    assert (p.jkk, p.jkm, p.total) == (10_000, 6_800, 16_800)
    assert dom.premium(1_000_000, 100, 6_800).total == 16_800


@pytest.mark.parametrize("income, bp, jkm, jkk", [(2_500_000, 100, 6_800, 25_000), (1_234_567, 100, 6_800, 12_346),
                                                  (1_000_000, 24, 0, 2_400), (0, 100, 6_800, 0)])
def test_premium_is_income_times_rate_rounded_plus_jkm(income, bp, jkm, jkk):
    p = dom.premium(income, bp, jkm)
    assert p.jkk == jkk and p.total == jkk + jkm


@pytest.mark.parametrize("args", [(-1, 100, 6800), (1_000_000, 10_001, 6800), (1_000_000, -1, 6800),
                                  (1_000_000, 100, -5)])
def test_premium_refuses_impossible_rates(args):
    with pytest.raises(ValueError):
        dom.premium(*args)


def test_enrolment_state():
    on = date(2026, 6, 15)
    assert dom.enrolment_state(None, None, None, on) == "not_enrolled"
    assert dom.enrolment_state("  ", None, None, on) == "not_enrolled"
    assert dom.enrolment_state("123", None, None, on) == "active"
    assert dom.enrolment_state("123", date(2026, 1, 1), date(2026, 6, 15), on) == "active"
    assert dom.enrolment_state("123", date(2026, 7, 1), None, on) == "not_yet"
    assert dom.enrolment_state("123", date(2025, 1, 1), date(2026, 6, 14), on) == "expired"


# --- the list -----------------------------------------------------------------------------------------------------

def _kader(t, key, name, nik=None, number=None, since=None, until=None, ended=False, **kw):
    start = date.today() - timedelta(days=300)
    k = Kader(name=name, sex="P", nik=nik, bpjs_tk_number=number, bpjs_tk_since=since, bpjs_tk_active_until=until,
              birth_date=date(1985, 4, 2), **kw)
    k.roles.append(KaderRole(posyandu_id=t.posyandu[key].id, role="kader", start_date=start,
                             end_date=date.today() - timedelta(days=5) if ended else None))
    db.session.add(k)
    db.session.commit()
    return k


@pytest.fixture
def enrolled(tree):
    today = date.today()
    _kader(tree, "A1", "Ani Aktif", "6474015504850001", "23001234567", today - timedelta(days=200),
           today + timedelta(days=100), address="Jl. Melati 3 RT 04")
    _kader(tree, "A2", "Budi Tanpa NIK", None, "23007654321", today - timedelta(days=30), None)
    _kader(tree, "A1", "Citra Lewat", "6474015504850002", "23001111111", today - timedelta(days=400),
           today - timedelta(days=1))
    _kader(tree, "B1", "Dewi Belum", "6474015504850003")
    _kader(tree, "A1", "Eka Berhenti", "6474015504850004", "23002222222", ended=True)
    _kader(tree, "C1", "Fitri Kota E", "6474015504850005", "23003333333")
    return tree


def test_enrolment_list_counts_premium_totals_and_scope(enrolled):
    t = enrolled
    e = bpjs.enrolment(t.users["admin_d"], date.today())
    names = [r.kader.name for r in e.rows]
    # The two "Kader Satu/Dua" of the tree are also current kader of A1 (not enrolled, no NIK).
    assert set(names) == {"Ani Aktif", "Budi Tanpa NIK", "Citra Lewat", "Dewi Belum", "Kader Satu", "Kader Dua"}
    state = {r.kader.name: r.state for r in e.rows}
    assert state["Ani Aktif"] == "active" and state["Budi Tanpa NIK"] == "active"
    assert state["Citra Lewat"] == "expired" and state["Dewi Belum"] == "not_enrolled"
    assert e.counts["active"] == 2 and e.counts["not_enrolled"] == 3 and e.counts["nik_missing"] == 3
    assert e.total_premium == 2 * 16_800
    # The kelurahan sees hers; district E its own.
    assert {r.kader.name for r in bpjs.enrolment(t.users["clerk_a"], date.today()).rows} == (
        {"Ani Aktif", "Budi Tanpa NIK", "Citra Lewat", "Kader Satu", "Kader Dua"})
    assert [r.kader.name for r in bpjs.enrolment(t.users["admin_e"], date.today()).rows] == ["Fitri Kota E"]


def test_rates_are_per_district_and_change_the_totals(enrolled, login):
    t = enrolled
    admin = login("admin_d")
    assert admin.post("/bpjs/tarif", {"income": "2000000", "jkk_bp": "100", "jkm": "6800"}).status_code == 303
    assert db.session.get(District, t.districts["D"].id).bpjs_income == 2_000_000
    e = bpjs.enrolment(t.users["admin_d"], date.today())
    assert e.premium.total == 26_800 and e.total_premium == 2 * 26_800
    # District E keeps the BPU default.
    assert bpjs.enrolment(t.users["admin_e"], date.today()).premium.total == 16_800
    admin.post("/bpjs/tarif", {"income": "2000000", "jkk_bp": "20000", "jkm": "6800"})
    assert db.session.get(District, t.districts["D"].id).bpjs_jkk_bp == 100
    assert login("clerk_a").post("/bpjs/tarif", {"income": "1", "jkk_bp": "1", "jkm": "1"}).status_code == 403


def test_who_pays_follows_the_incentive_policy(enrolled):
    t = enrolled
    admin = t.users["admin_d"]
    assert bpjs.enrolment(admin, date.today()).payer.kind == "none"
    incentives.save_policy(admin, policy_data(valid_from=date(2024, 1, 1)))
    assert bpjs.enrolment(admin, date.today()).payer.kind == "district"
    incentives.save_policy(admin, policy_data(valid_from=date(2025, 1, 1), bpjs_deduction=True, bpjs_amount=16_800))
    payer = bpjs.enrolment(admin, date.today()).payer
    assert (payer.kind, payer.amount, payer.mismatch) == ("deducted", 16_800, False)
    incentives.save_policy(admin, policy_data(valid_from=date(2025, 6, 1), bpjs_deduction=True, bpjs_amount=20_000))
    assert bpjs.enrolment(admin, date.today()).payer.mismatch


def test_page_and_exports_for_the_bpjs_office(enrolled, login):
    t = enrolled
    admin = login("admin_d")
    # The district first sees the counts per kelurahan/desa, then opens one list.
    html = admin.get("/bpjs/").get_data(as_text=True)
    assert "Ani Aktif" not in html and "Rp33.600" in html and "Kelurahan B" in html and "Kelurahan C" not in html
    kel = t.kelurahan["A"].id
    html = admin.get(f"/bpjs/?kelurahan={kel}").get_data(as_text=True)
    assert "Ani Aktif" in html and "Dewi Belum" not in html and "Fitri Kota E" not in html
    tallies = {k.name: k for k in bpjs.per_kelurahan(bpjs.enrolment(t.users["admin_d"], date.today()))}
    a = tallies["Kelurahan A"]
    assert (a.kader, a.active, a.lapsed, a.not_enrolled, a.nik_missing, a.premium) == (5, 2, 1, 2, 3, 33_600)
    assert tallies["Kelurahan B"].not_enrolled == 1
    # The clerk has one kelurahan: her list straight away.
    assert "Ani Aktif" in login("clerk_a").get("/bpjs/").get_data(as_text=True)
    resp = admin.get(f"/bpjs/?format=csv&kelurahan={kel}")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    lines = resp.get_data().decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("No,NIK,Nama,Tanggal lahir,No. kepesertaan BPJS TK")
    ani = next(ln for ln in lines if "Ani Aktif" in ln)
    assert "6474015504850001" in ani and "1985-04-02" in ani and "23001234567" in ani and "Jl. Melati 3" in ani
    assert ani.endswith("10000,6800,16800")
    assert not any("Dewi Belum" in ln for ln in lines)  # another kelurahan
    resp = admin.get("/bpjs/?format=xlsx")
    ws = load_workbook(io.BytesIO(resp.get_data())).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows.index(tuple(bpjs.EXPORT_HEADER))
    body = [r for r in rows[header + 1:] if r[0]]
    assert len(body) == 6 and rows[-1][-1] == 33_600
    assert next(r for r in body if r[2] == "Ani Aktif")[1] == "6474015504850001"


def test_bpjs_pages_are_gated_by_role(tree, login):
    for user in ("ketua_a1", "kader_a1", "nakes_a"):
        assert login(user).get("/bpjs/").status_code == 403
    # A kelurahan filter outside the scope is ignored (the clerk's own list), never another desa's kader.
    _kader(tree, "B1", "Orang B", "6474015504850009")
    html = login("clerk_a").get(f"/bpjs/?kelurahan={tree.kelurahan['B'].id}").get_data(as_text=True)
    assert "Orang B" not in html


def test_kader_form_records_enrolled_since_and_address(tree, login):
    k = _kader(tree, "A1", "Gita", "6474015504850010")
    clerk = login("clerk_a")
    resp = clerk.post(f"/kader/{k.id}/ubah", {"name": "Gita", "nik": "6474015504850010", "sex": "P",
                                              "bpjs_tk_number": "23009999999", "bpjs_tk_since": "2025-01-01",
                                              "bpjs_tk_active_until": "2024-12-31", "address": "Jl. Mawar 1"})
    assert resp.status_code == 422  # active until before enrolled since
    resp = clerk.post(f"/kader/{k.id}/ubah", {"name": "Gita", "nik": "6474015504850010", "sex": "P",
                                              "bpjs_tk_number": "23009999999", "bpjs_tk_since": "2025-01-01",
                                              "address": "Jl. Mawar 1"})
    assert resp.status_code == 303
    k = db.session.get(Kader, k.id)
    assert (k.bpjs_tk_since, k.address) == (date(2025, 1, 1), "Jl. Mawar 1")
