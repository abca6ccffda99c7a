"""Registration of sasaran: validation, duplicates, idempotency, search, edit with history, soft delete."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from posyandu.extensions import db
from posyandu.models import AuditLog, IdempotencyKey, Person, Pregnancy


def baby(tree, **over):
    data = {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi Baru Lahir", "sex": "P",
            "birth_date": (date.today() - timedelta(days=3)).isoformat(), "idempotency_key": "k-" + over.get("name", "x")[:40],
            "consent": "y", "consent_by": "Ibu A1"}
    data.update(over)
    return data


def count_people():
    return db.session.scalar(select(func.count()).select_from(Person))


def test_register_baby_without_nik_links_mother_and_audits(tree, login):
    c = login("kader_a1")
    mother = tree.people["mother_A1"]
    resp = c.post("/sasaran/baru", baby(tree, mother_id=str(mother.id), name="Putri Āyu"))
    assert resp.status_code == 303
    p = db.session.scalar(select(Person).where(Person.name == "Putri Āyu"))
    assert p.mother_id == mother.id and p.nik is None and p.created_by_id == tree.users["kader_a1"].id
    log = db.session.scalar(select(AuditLog).where(AuditLog.entity == "person", AuditLog.entity_id == p.id))
    assert log.action == "create" and log.actor_id == tree.users["kader_a1"].id
    assert log.changes["name"] == [None, "Putri Āyu"]
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Putri Āyu" in page and "Riwayat perubahan" in page


def test_register_ibu_hamil_creates_pregnancy_with_hpl(tree, login):
    c = login("kader_a1")
    hpht = date.today() - timedelta(days=70)
    resp = c.post("/sasaran/baru", baby(tree, name="Siti Hamil", birth_date="1998-01-05", hpht=hpht.isoformat(),
                                        gravida="1", nik="6474014501980003"))
    assert resp.status_code == 303
    preg = db.session.scalar(select(Pregnancy).join(Person).where(Person.name == "Siti Hamil"))
    assert preg.hpl == hpht + timedelta(days=280)
    assert "Ibu hamil" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_posting_twice_creates_one_person(tree, login):
    c = login("kader_a1")
    data = baby(tree, name="Dobel Klik", idempotency_key="same-key-123")
    first = c.post("/sasaran/baru", data)
    second = c.post("/sasaran/baru", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).where(Person.name == "Dobel Klik")) == 1
    assert db.session.get(IdempotencyKey, "same-key-123").entity_id is not None


def test_likely_duplicate_is_offered_then_confirmable(tree, login):
    c = login("kader_a1")
    existing = tree.people["child_A1"]
    data = baby(tree, name=existing.name.upper(), birth_date=existing.birth_date.isoformat(), sex="L",
                idempotency_key="dup-1")
    before = count_people()
    resp = c.post("/sasaran/baru", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Mungkin orang ini sudah terdaftar" in html
    assert f"/sasaran/{existing.id}" in html and count_people() == before
    resp = c.post("/sasaran/baru", {**data, "confirm_new": "y"})
    assert resp.status_code == 303 and count_people() == before + 1


@pytest.mark.parametrize("field, value, message", [
    ("nik", "12345", "NIK harus 16 angka."),
    ("nik", "64740142039A0001", "NIK hanya berisi angka."),
    ("nik", "6474019913940001", "Tanggal lahir pada NIK tidak sah."),
    ("birth_date", (date.today() + timedelta(days=1)).isoformat(), "Tanggal tidak boleh di masa depan."),
    ("birth_date", "31-02-2024", "Tanggal tidak sah."),
    ("name", "", "Wajib diisi."),
    ("name", "A" * 10_000, "Paling banyak 100 karakter."),
    ("sex", "", "Wajib diisi."),
    ("birth_weight_kg", "tiga", "Isi dengan angka"),
    ("rt", "1a", "Isi dengan angka"),
])
def test_bad_input_is_422_beside_the_field_and_writes_nothing(tree, login, field, value, message):
    c = login("kader_a1")
    before = count_people()
    resp = c.post("/sasaran/baru", baby(tree, **{field: value}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert count_people() == before


def test_non_utf8_bytes_are_rejected(tree, login):
    c = login("kader_a1")
    before = count_people()
    # A form from a phone with a non-UTF-8 keyboard or a broken proxy: percent-encoded bytes that are not UTF-8.
    body = b"&".join([
        b"csrf_token=" + c.token().encode(), b"name=Bad%FF%FEName", b"sex=L",
        b"birth_date=" + date.today().isoformat().encode(), b"posyandu_id=" + str(tree.posyandu["A1"].id).encode(),
        b"idempotency_key=nonutf8"])
    resp = c._fresh("post", "/sasaran/baru", data=body, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 422
    assert "bukan teks UTF-8" in resp.get_data(as_text=True)
    assert count_people() == before


def test_registration_into_posyandu_outside_scope_is_refused(tree, login):
    c = login("kader_a1")
    resp = c.post("/sasaran/baru", baby(tree, posyandu_id=tree.posyandu["A2"].id))
    assert resp.status_code == 422 and "Pilihan tidak sah." in resp.get_data(as_text=True)


def test_htmx_invalid_form_returns_only_the_form_partial(tree, login):
    c = login("kader_a1")
    resp = c.post("/sasaran/baru", baby(tree, name=""), headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and html.lstrip().startswith("<form") and "<html" not in html


def test_search_by_name_nik_and_mother_with_and_without_htmx(tree, login):
    c = login("nakes_a")  # Puskesmas A serves kelurahan A: Posyandu A1 and A2
    full = c.post("/sasaran/", {"q": "anak"}).get_data(as_text=True)
    assert "<html" in full and "Anak A1" in full and "Anak A2" in full and "Anak B1" not in full
    frag = c.post("/sasaran/", {"q": "ibu a2"}, headers={"HX-Request": "true"})
    html = frag.get_data(as_text=True)
    assert "<html" not in html and "Anak A2" in html and "Ibu A2" in html and "Anak A1" not in html
    assert frag.headers["Vary"].count("HX-Request") == 1
    nik = tree.people["mother_A1"].nik
    assert "Ibu A1" in c.post("/sasaran/", {"q": nik[:10]}).get_data(as_text=True)


def test_search_is_posted_so_nik_never_appears_in_a_url(tree, login):
    c = login("kader_a1")
    nik = tree.people["mother_A1"].nik
    html = c.post("/sasaran/", {"q": nik}).get_data(as_text=True)
    assert "Ibu A1" in html and nik not in "".join(re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', html))
    assert "Anak A1" in c.get(f"/sasaran/?q={nik}").get_data(as_text=True)  # a GET query does not search
    assert c.post("/sasaran/", {"q": "x", "csrf_token": "forged"}).status_code == 400


def test_search_pages_are_posted_too(tree, login):
    from posyandu.models import Person as P

    for i in range(30):
        db.session.add(P(posyandu_id=tree.posyandu["A1"].id, name=f"Anak Banyak {i:02d}", sex="L",
                         birth_date=date(2024, 1, 1)))
    db.session.commit()
    c = login("kader_a1")
    first = c.post("/sasaran/", {"q": "banyak"}).get_data(as_text=True)
    assert "Anak Banyak 00" in first and "Anak Banyak 29" not in first and 'name="page" value="2"' in first
    second = c.post("/sasaran/", {"q": "banyak", "page": "2"}).get_data(as_text=True)
    assert "Anak Banyak 29" in second


def test_search_treats_like_wildcards_literally(tree, login):
    c = login("kader_a1")
    assert "Anak A1" not in c.post("/sasaran/", {"q": "%"}).get_data(as_text=True)


def test_search_folds_case_beyond_ascii(tree, login):
    """SQLite's lower() folds ASCII only: "āyu" (or "ĀYU") never found "Ni Luh Āyu" there."""
    from tests.factories import person

    person(tree.posyandu["A1"], "Ni Luh Āyu")
    db.session.commit()
    c = login("kader_a1")
    for typed in ("āyu", "ĀYU", "luh āy", "A\u0304yu"):  # the last one decomposed, as some keyboards send it
        assert "Ni Luh Āyu" in c.post("/sasaran/", {"q": typed}).get_data(as_text=True), typed


def test_queue_search_finds_the_days_people_for_a_whole_puskesmas(tree, login):
    """A bidan's scope spans many Posyandu: the day's person must not fall behind ten others in the results."""
    from tests.factories import person
    from posyandu.services import session_views

    for i in range(12):
        person(tree.posyandu["A2"], f"Anak Sama {i:02d}")
    wanted = person(tree.posyandu["A1"], "Anak Sama Zz")
    db.session.commit()
    nakes = tree.users["nakes_a"]
    found = session_views.search_for_queue(nakes, tree.sessions["A1"], "anak sama")
    assert [p.id for p in found] == [wanted.id]


def test_edit_keeps_history_and_soft_delete_hides(tree, login):
    c = login("kader_a1")
    child = tree.people["child_A1"]
    form = {"posyandu_id": child.posyandu_id, "name": "Anak A1 Baru", "sex": "L",
            "birth_date": child.birth_date.isoformat(), "mother_nik": tree.people["mother_A1"].nik}
    resp = c.post(f"/sasaran/{child.id}/ubah", form)
    assert resp.status_code == 303
    page = c.get(f"/sasaran/{child.id}").get_data(as_text=True)
    assert "Anak A1 Baru" in page and "<del>Anak A1</del>" in page
    assert c.post(f"/sasaran/{child.id}/hapus").status_code == 303
    assert c.get(f"/sasaran/{child.id}").status_code == 404
    assert "Anak A1 Baru" not in c.post("/sasaran/", {"q": "anak"}).get_data(as_text=True)
    assert db.session.get(Person, child.id).deleted_at is not None  # kept, only hidden
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == child.id,
                                                               AuditLog.entity == "person")).all()
    assert "update" in actions and "delete" in actions


def test_pregnancy_added_and_closed(tree, login):
    c = login("kader_a1")
    woman = tree.people["mother_A1"]
    preg = woman.pregnancies[0]
    resp = c.post(f"/sasaran/{woman.id}/kehamilan/{preg.id}/selesai", {"outcome": "lahir_hidup"})
    assert resp.status_code == 303
    assert db.session.get(Pregnancy, preg.id).ended_on == date.today()
    resp = c.post(f"/sasaran/{woman.id}/kehamilan", {"hpht": (date.today() - timedelta(days=30)).isoformat(),
                                                      "idempotency_key": "p1"})
    assert resp.status_code == 303
    man = tree.people["child_A1"]
    assert c.post(f"/sasaran/{man.id}/kehamilan", {"hpht": date.today().isoformat()}).status_code == 422


def test_htmx_post_success_navigates_with_hx_location(tree, login):
    """An htmx form post that succeeds must not hand htmx a redirect to follow inside the form."""
    c = login("kader_a1")
    resp = c.post("/sasaran/baru", baby(tree, name="Lewat Htmx"), headers={"HX-Request": "true"})
    person = db.session.scalar(select(Person).where(Person.name == "Lewat Htmx"))
    assert resp.status_code == 200 and resp.data == b""
    assert resp.headers["HX-Location"] == f"/sasaran/{person.id}"
    boosted = c.post("/sasaran/baru", baby(tree, name="Lewat Boost"), headers={"HX-Request": "true",
                                                                            "HX-Boosted": "true"})
    assert boosted.status_code == 303  # a boosted form swaps the whole body: a plain redirect is right
