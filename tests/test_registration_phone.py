"""Registration on a phone: NIK first, a birth date typed on the keypad, the birth date and sex taken from the
NIK, and fieldsets marked by group (all shown without JavaScript)."""
import re
from datetime import date, timedelta

from sqlalchemy import select

from posyandu.domain.nik import nik_birth_date
from posyandu.extensions import db
from posyandu.models import Person

from .test_people import baby


def test_nik_gives_birth_date_and_sex():
    today = date(2026, 12, 1)
    assert nik_birth_date("6474015705240001", today) == (date(2024, 5, 17), "P")
    assert nik_birth_date("6474011705940001", today) == (date(1994, 5, 17), "L")
    assert nik_birth_date("6474011712260001", today) == (date(1926, 12, 17), "L")  # not a birth in the future
    assert nik_birth_date("6474013102240001", today) is None  # 31 February
    assert nik_birth_date("12345", today) is None


def test_nik_comes_first_and_the_birth_date_is_typeable(tree, login):
    html = login("kader_a1").get("/sasaran/baru").get_data(as_text=True)
    assert html.index('name="nik"') < html.index('name="birth_date"') < html.index('name="sex"')
    tag = re.search(r'<input[^>]*name="birth_date"[^>]*>', html).group(0)
    assert 'type="text"' in tag and 'inputmode="numeric"' in tag and "hh-bb-tttt" in tag
    assert 'type="date"' not in html
    # Fieldsets are marked by group for register.js; none is hidden by the server (no JavaScript: all shown).
    assert 'data-show="child"' in html and 'data-show="pregnancy"' in html
    assert not re.search(r'<fieldset[^>]*hidden', html)


def test_birth_date_typed_the_indonesian_way(tree, login):
    c = login("kader_a1")
    born = date.today() - timedelta(days=40)
    for i, typed in enumerate((born.strftime("%d-%m-%Y"), born.strftime("%d/%m/%Y"), born.strftime("%d%m%Y"),
                               born.isoformat())):
        name = f"Bayi Ketik {i}"
        assert c.post("/sasaran/baru", baby(tree, name=name, birth_date=typed)).status_code == 303, typed
        assert db.session.scalar(select(Person.birth_date).where(Person.name == name)) == born
    resp = c.post("/sasaran/baru", baby(tree, name="Bayi Salah", birth_date="31-02-2024"))
    assert resp.status_code == 422 and "Tanggal tidak sah" in resp.get_data(as_text=True)


def test_empty_birth_date_and_sex_are_taken_from_the_nik(tree, login):
    c = login("kader_a1")
    resp = c.post("/sasaran/baru", baby(tree, name="Dari NIK", nik="6474015705240001", birth_date="", sex=""))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    p = db.session.scalar(select(Person).where(Person.name == "Dari NIK"))
    assert (p.birth_date, p.sex) == (date(2024, 5, 17), "P")
    resp = c.post("/sasaran/baru", baby(tree, name="Tanpa NIK", birth_date="", sex=""))
    assert resp.status_code == 422


def test_errors_come_back_summarised_at_the_top_and_linked_to_fields(tree, login):
    resp = login("kader_a1").post("/sasaran/baru", baby(tree, name="", birth_date="", sex=""),
                                  headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    summary = html.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#name"' in summary and 'href="#birth_date"' in summary and 'href="#sex-0"' in summary
    assert "autofocus" in html.split('class="error-summary"')[1][:80]
    assert html.index("error-summary") < html.index('name="nik"')


def test_an_empty_nik_box_is_no_nik(tree, login):
    """A browser posts the empty NIK box as ""; two babies without NIK must not collide on the unique NIK."""
    c = login("kader_a1")
    for name in ("Bayi Tanpa NIK Satu", "Bayi Tanpa NIK Dua"):
        resp = c.post("/sasaran/baru", baby(tree, name=name, nik="", kk_number="", mother_nik="", father_nik=""))
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        assert db.session.scalar(select(Person).where(Person.name == name)).nik is None
