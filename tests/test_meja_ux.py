"""The kader's day on a phone, through the routes: decimal input, the numbers at meja 3, "lanjut" to the next
meja, today's hari buka on the home page."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from posyandu.domain import kms
from posyandu.domain.lifecycle import gestational_age
from posyandu.domain.measure_input import parse_decimal, unit_slip
from posyandu.extensions import db
from posyandu.models import Measurement, Visit

from .test_session_day import enqueue, open_day


def _input(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)


# --- decimal comma -------------------------------------------------------------------------------------------

def test_parse_decimal_takes_comma_or_point():
    assert parse_decimal("12,4") == 12.4 and parse_decimal(" 12.4 ") == 12.4 and parse_decimal(",5") == 0.5
    assert parse_decimal("") is None and parse_decimal(None) is None
    for bad in ("12,4,1", "1.2.3", "12kg", "abc", "1,2.3"):
        try:
            parse_decimal(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_unit_slip_names_the_unit_and_the_likely_value():
    slip = unit_slip("weight_kg", 124, "balita")
    assert (slip.unit, slip.likely) == ("kg", 12.4)
    assert unit_slip("length_cm", 0.85, "balita").likely == 85  # metres typed into a cm field
    assert unit_slip("weight_kg", 3200, "balita", previous=3.0).likely == 3.2  # grams, nearest last month
    assert unit_slip("weight_kg", 12.4, "balita") is None
    assert unit_slip("weight_kg", 124, "dewasa") is None  # a heavy adult is possible
    assert unit_slip("head_cm", 45, "dewasa") is None  # no range for a field the group does not measure


def test_measure_fields_are_text_inputs_with_the_decimal_keypad(tree, login):
    """Chromium turned "12,4" typed into a type=number field into 124: the fields must be text."""
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, tree.people["child_A1"])
    html = c.get(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2").get_data(as_text=True)
    for name in ("weight_kg", "length_cm", "head_cm", "muac_cm"):
        tag = _input(html, name)
        assert 'type="text"' in tag and 'inputmode="decimal"' in tag, tag
    assert 'type="number"' not in html
    reg = c.get("/sasaran/baru").get_data(as_text=True)
    assert 'type="text"' in _input(reg, "birth_weight_kg") and 'inputmode="decimal"' in _input(reg, "birth_weight_kg")


def test_comma_or_point_stored_the_same(tree, login):
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, tree.people["child_A1"])
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2"
    assert c.post(url, {"weight_kg": "9,6", "length_cm": "75.5", "position": "l", "head_cm": " 45,5 "}).status_code == 303
    m = db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id))
    assert (m.weight_kg, m.length_cm, m.head_cm) == (9.6, 75.5, 45.5)


def test_out_of_range_says_the_unit_before_any_who_check(tree, login):
    """124 (for 12,4 kg) at a 13-month-old used to come back as a WHO implausibility to confirm."""
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, tree.people["child_A1"])
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2"
    resp = c.post(url, {"weight_kg": "124", "length_cm": "0,755", "position": "l"}, headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "isi dalam kg" in html and "Maksudnya 12,4 kg?" in html
    assert "isi dalam cm" in html and "Maksudnya 75,5 cm?" in html
    assert "batas wajar WHO" not in html and 'name="confirm"' not in html  # nothing to confirm: a slip
    assert db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id)) is None
    resp = c.post(url, {"weight_kg": "1000", "length_cm": "75"})
    assert "Harus antara 0,5 dan 250 kg" in resp.get_data(as_text=True) or "isi dalam kg" in resp.get_data(as_text=True)


# --- meja 3: the numbers the kader copies ---------------------------------------------------------------------

def test_gain_against_kbm_from_the_previous_weighing():
    on = date(2026, 12, 1)
    history = [kms.Weighing(date(2026, 11, 3), 9.3, "N"), kms.Weighing(date(2026, 10, 2), 9.0, "N")]
    g = kms.gain(history, on, 9.6, 13, kms.KBM_KMS_2010)
    assert (g.grams, g.kbm, g.since, g.last_month) == (300, 200, date(2026, 11, 3), True)
    g = kms.gain(history[1:], on, 9.6, 13, kms.KBM_KMS_2010)
    assert g.grams == 600 and not g.last_month
    assert kms.gain([], on, 9.6, 13, kms.KBM_KMS_2010) is None
    assert gestational_age(date(2026, 10, 2), date(2026, 12, 1)) == (8, 4)


def test_meja3_shows_weight_length_position_and_gain(tree, login):
    child = tree.people["child_A1"]
    last_month = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    db.session.add(Measurement(person_id=child.id, posyandu_id=child.posyandu_id, measured_on=last_month,
                               weight_kg=9.3, length_cm=75.0, position="l", ntob="N"))
    db.session.commit()
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, child)
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja"
    assert c.post(f"{url}/2", {"weight_kg": "9,6", "length_cm": "75,5", "position": "l"}).status_code == 303
    html = c.get(f"{url}/3").get_data(as_text=True)
    numbers = html.split('id="today-numbers"')[1].split("</section>")[0]
    assert "9,6 kg" in numbers and "75,5 cm" in numbers and "Panjang badan (berbaring)" in numbers
    assert "+300 g" in numbers and "KBM 200 g" in numbers


def test_meja3_shows_weeks_of_pregnancy(tree, login):
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, tree.people["mother_A1"])  # HPHT 60 days ago in the tree
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja"
    assert c.post(f"{url}/2", {"weight_kg": "52,5", "muac_cm": "25", "systolic": "110", "diastolic": "70"}).status_code == 303
    numbers = c.get(f"{url}/3").get_data(as_text=True).split('id="today-numbers"')[1].split("</section>")[0]
    assert "8 minggu 4 hari" in numbers and "52,5 kg" in numbers and "110/70 mmHg" in numbers


# --- fewer taps: "lanjut" to the same person's next meja, today's hari buka on the home page --------------------

def test_after_each_save_the_next_meja_of_the_same_person_is_offered(tree, login):
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    child = tree.people["child_A1"]
    resp = c.post(f"/hari-buka/{hb.id}/antri", {"person_id": child.id})
    visit = db.session.scalar(select(Visit).where(Visit.hari_buka_id == hb.id, Visit.person_id == child.id))
    assert resp.headers["Location"].endswith(f"/hari-buka/{hb.id}/meja/1?lanjut={visit.id}")
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    offer = re.search(r'<p class="next-offer"><a class="button primary" href="([^"]+)">([^<]+)', page)
    assert offer.group(1) == f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2?ikut=1"
    assert "Lanjut: Anak A1 di meja 2" in offer.group(2)
    assert 'id="queue-meja-1"' in page  # … beside the queue

    # Not following: a save goes back to the queue, which offers the next meja.
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja"
    resp = c.post(f"{url}/2", {"weight_kg": "9,6", "length_cm": "75,5", "position": "l"})
    assert resp.headers["Location"].endswith(f"/meja/2?lanjut={visit.id}")
    assert "Lanjut: Anak A1 di meja 3" in c.get(resp.headers["Location"]).get_data(as_text=True)

    # Following (came by the offer): each save leads straight to the person's next meja, and says so.
    page = c.get(f"{url}/3?ikut=1").get_data(as_text=True)
    assert "Lanjut ke meja 4" in page and f'action="{url}/3?ikut=1"' in page
    resp = c.post(f"{url}/3?ikut=1")
    assert resp.headers["Location"].endswith(f"{url}/4?ikut=1")
    page = c.get(f"{url}/4?ikut=1").get_data(as_text=True)
    assert "Simpan, lanjut ke meja 5" in page and "Kembali ke antrian" in page
    assert c.post(f"{url}/4?ikut=1", {}).headers["Location"].endswith(f"{url}/5?ikut=1")
    resp = c.post(f"{url}/5?ikut=1", {"pmt": "y"})  # the last meja: done, back to the queue, nothing offered
    assert resp.headers["Location"].endswith(f"/meja/5?lanjut={visit.id}")
    assert "next-offer" not in c.get(resp.headers["Location"]).get_data(as_text=True)
    db.session.refresh(visit)
    assert visit.step == 0


def test_offer_follows_the_posyandu_step_order_and_stays_in_the_day(tree, login):
    tree.posyandu["A1"].step_order = "1,2,3,5,4"
    db.session.commit()
    c = login("kader_a1")
    hb = open_day(login("ketua_a1"), tree)
    visit = enqueue(c, hb, tree.people["child_A1"])
    url = f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja"
    c.post(f"{url}/2", {"weight_kg": "9,6", "length_cm": "75,5", "position": "l"})
    assert c.post(f"{url}/3?ikut=1").headers["Location"].endswith(f"{url}/5?ikut=1")
    other = open_day(login("ketua_a1"), tree, on=date.today() - timedelta(days=1))
    assert "next-offer" not in c.get(f"/hari-buka/{other.id}/meja/3?lanjut={visit.id}").get_data(as_text=True)


def test_home_page_leads_to_each_meja_of_todays_hari_buka(tree, login):
    c = login("kader_a1")
    assert "Hari buka hari ini" not in c.get("/").get_data(as_text=True)
    hb = open_day(login("ketua_a1"), tree)
    page = c.get("/").get_data(as_text=True)
    assert "Hari buka hari ini" in page
    for n in (1, 2, 3, 4, 5):
        assert f'href="/hari-buka/{hb.id}/meja/{n}"' in page
    assert "Hari buka hari ini" not in login("kader_a2").get("/").get_data(as_text=True)  # another Posyandu
