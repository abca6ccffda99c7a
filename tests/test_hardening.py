"""Hostile and careless input (issue 10): every defect found by probing the running app, reproduced."""
import json
import os
import stat
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from posyandu.extensions import db
from posyandu.models import AuditLog, Certificate, HariBuka, HomeVisit, IdempotencyKey, KbmTable, Measurement, Person

from . import kader_factories

HUGE = "9" * 40


def _no_5xx(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:800]
    return resp


# --- numbers: non-ASCII digits, 40-digit ids --------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"/sasaran/{HUGE}", f"/hari-buka/{HUGE}", f"/kader/{HUGE}", f"/insentif/{HUGE}", f"/posyandu/{HUGE}",
    f"/laporan/posyandu/{HUGE}", f"/hari-buka/1/kunjungan/{HUGE}/meja/2", f"/kunjungan-rumah/catat/{HUGE}",
])
def test_forty_digit_ids_in_urls_are_not_found(tree, login, url):
    assert _no_5xx(login("admin_d").get(url)).status_code == 404


@pytest.mark.parametrize("url", [
    f"/sasaran/?page={HUGE}", f"/kader/?page={HUGE}", f"/kader/?posyandu={HUGE}", f"/kunjungan-rumah/?posyandu={HUGE}",
    f"/sasaran/baru?ibu={HUGE}", f"/akun/?page={HUGE}", f"/hari-buka/?page={HUGE}", "/sasaran/baru?ibu=%C2%B2",
    f"/kader/komitmen/?posyandu={HUGE}", f"/kader/sertifikat/?kelurahan={HUGE}", f"/kader/komitmen/?tahun={HUGE}",
    f"/hari-buka/1/meja/2?lanjut={HUGE}", f"/laporan/?bulan=0001-01", f"/laporan/?bulan=9999-12",
])
def test_forty_digit_query_numbers_are_handled(tree, login, url):
    _no_5xx(login("admin_d").get(url))


def test_unicode_digits_in_posted_numbers_are_refused_cleanly(tree, login):
    clerk = login("clerk_a")
    for value in ("²", "①", "١٢", HUGE):
        _no_5xx(clerk.post("/insentif/hitung", {"kelurahan_id": value, "month": "2024-01"}))
    kader = kader_factories.kader_of(tree, "A1")
    for value in ("²", HUGE):
        _no_5xx(clerk.post(f"/kader/{kader.id}/peran/akhiri", {"role_id": value, "end_date": "2024-01-01"}))
    ketua = login("ketua_a1")
    hb = tree.sessions["A1"]
    for value in ("²", HUGE, "1_0"):
        assert _no_5xx(ketua.post(f"/hari-buka/{hb.id}/antri", {"person_id": value})).status_code in (404, 422)
    resp = ketua.post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi Dua", "sex": "L",
                                        "birth_date": date.today().isoformat(), "antri": "²",
                                        "idempotency_key": "k" * 32})
    assert _no_5xx(resp).status_code == 303


@pytest.mark.parametrize("field,value", [("rt", "١٢"), ("rw", "²"), ("phone", "０８１２３４５６７８")])
def test_digit_fields_take_ascii_digits_only(tree, login, field, value):
    data = {"posyandu_id": tree.posyandu["A1"].id, "name": "Ibu Angka", "sex": "P", "birth_date": "1990-01-01",
            "idempotency_key": "d" * 32, field: value}
    assert login("ketua_a1").post("/sasaran/baru", data).status_code == 422
    assert db.session.scalar(select(Person).where(Person.name == "Ibu Angka")) is None


def test_nik_with_arabic_indic_digits_is_refused(tree, login):
    nik = "".join(chr(0x0660 + int(d)) for d in "6474014203940099")
    data = {"posyandu_id": tree.posyandu["A1"].id, "name": "Ibu NIK", "sex": "P", "birth_date": "1994-03-02",
            "idempotency_key": "n" * 32, "nik": nik}
    assert login("ketua_a1").post("/sasaran/baru", data).status_code == 422


# --- NUL bytes ------------------------------------------------------------------------------------------------

def test_nul_bytes_in_searches_and_forms_are_refused(tree, login):
    c = login("ketua_a1")
    assert _no_5xx(c.post("/sasaran/", {"q": "Ibu\x00A"})).status_code == 400
    assert _no_5xx(c.post("/kader/", {"q": "Kader\x00"})).status_code == 400
    assert _no_5xx(c.post(f"/hari-buka/{tree.sessions['A1'].id}/meja/1", {"q": "\x00"})).status_code == 400
    assert _no_5xx(c.get("/sasaran/?page=1%00")).status_code == 400


# --- idempotency keys -----------------------------------------------------------------------------------------

def test_a_reused_key_never_answers_with_another_users_record(tree, login):
    admin = login("admin_d")
    kader = kader_factories.kader_of(tree, "A1")
    form = {"type_code": "piagam", "issued_on": date.today().isoformat(), "issuer_name": "dr. Kepala",
            "issuer_title": "Kepala Dinas", "idempotency_key": "shared-key-0123456789abcdef"}
    assert admin.post(f"/kader/{kader.id}/sertifikat", form).status_code == 303
    # The same key posted by another account for another kind of record: refused, nothing of the first shown.
    ketua = login("ketua_a1")
    resp = ketua.post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi Kunci", "sex": "L",
                                        "birth_date": date.today().isoformat(),
                                        "idempotency_key": form["idempotency_key"]})
    assert _no_5xx(resp).status_code == 409
    clerk = login("clerk_a")
    resp = clerk.post(f"/kader/{kader.id}/sertifikat", form)
    assert _no_5xx(resp).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


@pytest.mark.parametrize("key", ["x" * 65, "x" * 5000, "abc\x01def-0123456789abcdef", "abc\x7fdef"])
def test_long_or_strange_keys_are_refused(tree, login, key):
    resp = login("ketua_a1").post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi Aneh",
                                                    "sex": "L", "birth_date": date.today().isoformat(),
                                                    "idempotency_key": key})
    assert 400 <= resp.status_code < 500
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


# --- drawn signatures -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", [
    "[" * 100_00 + "]" * 100_00,            # nesting deep enough for a RecursionError
    json.dumps([[100, 100, 101, 101]]),      # a dot
    json.dumps([[i % 1200, i % 400] for i in range(61)]),  # too many strokes
    json.dumps([[(i * 7) % 1200, (i * 3) % 400] * 1 for i in range(5000)]),
    json.dumps([[1e309, 5, 5, 5]]), "null", "[[true, 1, 2, 3]]", "{}", "[[]]",
])
def test_malformed_drawn_signatures_are_a_form_error(tree, login, signature):
    kader = kader_factories.with_pin(kader_factories.kader_of(tree, "A1"))
    from posyandu.models import Commitment
    from posyandu.services import commitments

    t = commitments.ensure_template(tree.users["admin_d"], tree.districts["D"].id, date.today().year)
    c = login("ketua_a1")
    form = {"posyandu_id": tree.posyandu["A1"].id, "agree": "y", "text_sha256": t.body_sha256,
            "idempotency_key": "s" * 32, "pin": kader_factories.PIN}
    resp = c.post(f"/kader/{kader.id}/komitmen", dict(form, signature=signature))
    assert _no_5xx(resp).status_code == 422 and "Tanda tangan tidak terbaca" in resp.get_data(as_text=True)
    assert c.post(f"/kader/{kader.id}/komitmen", dict(form, signature=kader_factories.STROKES)).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 1


def test_malformed_countersignature_is_a_form_error(tree, login):
    commitment = kader_factories.commitment_of(tree, "A1")
    resp = login("clerk_a").post(f"/kader/komitmen/{commitment.id}/ketahui",
                                 {"name": "Andi Baso", "title": "Lurah Kelurahan A", "signature": "[" * 20000})
    assert _no_5xx(resp).status_code == 422 and "Tanda tangan tidak terbaca" in resp.get_data(as_text=True)


# --- dates ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("held_on", ["0001-01-01", "2099-01-01", "1899-12-31"])
def test_hari_buka_dates_have_a_sane_range(tree, login, held_on):
    resp = login("ketua_a1").post("/hari-buka/buka", {"posyandu_id": tree.posyandu["A1"].id, "held_on": held_on})
    assert resp.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(HariBuka).where(HariBuka.held_on == date.fromisoformat(held_on))) == 0


def test_no_home_visit_before_the_person_was_born(tree, login):
    child = tree.people["child_A1"]
    c = login("ketua_a1")
    for on in ((child.birth_date - timedelta(days=1)).isoformat(), "0001-01-01", "2099-05-05"):
        resp = c.post(f"/kunjungan-rumah/catat/{child.id}", {"visited_on": on, "findings": "x",
                                                             "idempotency_key": f"hv-{on}-0123456789abcdef"})
        assert resp.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(HomeVisit)) == 0


# --- escaping -------------------------------------------------------------------------------------------------

def test_kbm_form_error_does_not_reflect_markup(tree, login):
    resp = login("admin_d").post("/referensi/kbm", {"name": "X", "valid_from": "2024-01-01",
                                                    "grams": "<script>alert(1)</script>"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- per-district reference data ------------------------------------------------------------------------------

def _kbm_lines(grams: int) -> str:
    return "\n".join(f"{m}: {grams}" for m in range(1, 61))


def test_a_districts_kbm_version_applies_to_that_district_only(tree, login):
    from posyandu.services import session_day

    before_d = session_day.current_kbm(date.today(), tree.districts["D"].id)
    resp = login("admin_e").post("/referensi/kbm", {"name": "Kota E 2025", "valid_from": "2025-01-01",
                                                    "grams": _kbm_lines(123)})
    assert resp.status_code == 303
    assert session_day.current_kbm(date.today(), tree.districts["D"].id).id == before_d.id
    assert session_day.current_kbm(date.today(), tree.districts["E"].id).grams["1"] == 123
    page = login("admin_d").get("/referensi/kbm").get_data(as_text=True)
    assert "Kota E 2025" not in page
    row = db.session.scalar(select(KbmTable).where(KbmTable.name == "Kota E 2025"))
    assert row.district_id == tree.districts["E"].id
    audit = db.session.scalar(select(AuditLog).where(AuditLog.entity == "kbm_table", AuditLog.entity_id == row.id))
    assert audit is not None and audit.actor_id == tree.users["admin_e"].id


# --- smaller ones ---------------------------------------------------------------------------------------------

def test_flash_messages_keep_names_out_of_the_session_cookie(tree, login):
    import base64
    import zlib

    c = login("ketua_a1")
    resp = c.post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Siti Rahasia", "sex": "P",
                                    "birth_date": "1990-01-01", "idempotency_key": "f" * 32})
    assert resp.status_code == 303
    cookie = c.c.get_cookie("session").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.startswith("."):
        raw = zlib.decompress(raw)
    assert b"Siti" not in raw
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Siti Rahasia terdaftar" in page


def test_sqlite_database_and_backup_are_private(app, tree, tmp_path):
    if app.backend != "sqlite":
        pytest.skip("files only on SQLite")
    path = db.engine.url.database
    db.session.remove()
    db.engine.dispose()
    os.chmod(path, 0o644)
    with db.engine.connect() as conn:  # a connection makes sure the files are private
        conn.execute(text("SELECT 1"))
    for p in (path, path + "-wal"):
        if os.path.exists(p):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    target = tmp_path / "backup.sqlite"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_sql_errors_do_not_log_parameters(app):
    assert db.engine.hide_parameters


def test_csv_cells_keep_negative_numbers_as_numbers():
    from posyandu.services.report_exports import safe_cell

    assert safe_cell(-1.2) == -1.2 and safe_cell("-1,20") == "-1,20" and safe_cell("−1.2") == "−1.2"
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe_cell("-A1+1") == "'-A1+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"


def test_pdf_text_beyond_the_font_prints_a_sensible_fallback():
    """reportlab printed 😀 (U+1F600) as ὠ (U+1F60) and dropped 𝔄𝔫𝔦; now a plain form or a "?"."""
    from io import BytesIO

    from pypdf import PdfReader

    from posyandu.pdf.certificates import certificates_pdf
    from posyandu.pdf.common import nfc

    assert nfc("Ani 😀 𝔄𝔫𝔦 🙏🏽 Ságu") == "Ani ? Ani ? Ságu"
    data = {"number": "1", "title": "Piagam 🌟", "heading": "Kepada 😀 𝔄𝔫𝔦", "body": "Terima kasih 🙏🏽",
            "recipient_name": "Ani 👶", "issuer_org": "Pemerintah Kota D", "issuer_name": "dr. 🏥",
            "issuer_title": "Kepala", "place": "Kota D", "issued_on_text": "1 Januari 2025",
            "verify_url": "http://x/v/1", "revoked": False}
    text = PdfReader(BytesIO(certificates_pdf([data], "Piagam 🌟"))).pages[0].extract_text()
    assert "Kepada ? Ani" in text and "\u1f60" not in text


# --- SQLite: reads do not block writes ------------------------------------------------------------------------

def test_a_long_read_does_not_block_a_meja_2_save(app, tree, login):
    """A district export holds a read transaction open; a kader's meja-2 save goes through meanwhile (page loads
    used to begin IMMEDIATE and hold the write lock: the save waited the whole busy timeout and failed)."""
    if app.backend != "sqlite":
        pytest.skip("SQLite locking")
    kader = login("kader_a1")
    hb = tree.sessions["A1"]
    hb.held_on = date.today()
    db.session.commit()
    url = f"/hari-buka/{hb.id}/kunjungan/{hb.visits[0].id}/meja/2"
    kader.token()
    with app.test_request_context("/laporan/kabupaten", method="GET"):  # a page load, still reading
        reader = db.engine.connect()
        before = reader.execute(select(func.count()).select_from(Measurement)).scalar()
        resp = kader.post(url, {"weight_kg": "9,1", "length_cm": "76", "position": "l"})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        # the reader keeps its snapshot until it ends; the save is there for everyone else
        assert reader.execute(select(func.count()).select_from(Measurement)).scalar() == before
        reader.close()
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == before + 1


def test_demo_seed_leaves_planner_statistics_on_postgresql(app):
    """Without ANALYZE after the bulk load the planner took the fresh tables for empty (district report 16 s)."""
    if app.backend != "postgresql":
        pytest.skip("planner statistics of PostgreSQL")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--children", "60", "--months", "1"])
    assert result.exit_code == 0, result.output
    reltuples = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'person'::regclass"))
    assert reltuples > 0


@pytest.mark.parametrize("weight", ["9" * 40, "-" + "9" * 40, "٩,٥", "１２"])
def test_meja_2_measurements_take_ascii_numbers_of_sane_length(tree, login, weight):
    """Found by bench/fuzz_inputs.py: a 40-digit weight reached the unit-slip message and Babel's number format
    raised InvalidOperation (500)."""
    hb = tree.sessions["A1"]
    resp = login("kader_a1").post(f"/hari-buka/{hb.id}/kunjungan/{hb.visits[0].id}/meja/2",
                                  {"weight_kg": weight, "length_cm": "76", "position": "l"})
    assert _no_5xx(resp).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 0
