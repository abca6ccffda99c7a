"""Kader roster, competence, verification, commitments and certificates through the routes."""
import re
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from posyandu.extensions import db
from posyandu.models import AuditLog, Certificate, Commitment, ImmutableRecord, Kader, KaderRole

from . import kader_factories as kf

NAME = "Ni Luh Putu \u0100yu"
VALID_NIK = "6474014203940001"


@pytest.fixture
def kader_b(tree):
    return kf.kader_of(tree, "B1", name="Kader Bontang Utara", nik="6474015505900002")


@pytest.fixture
def ayu(tree):
    return kf.kader_of(tree, "A1", name=NAME, nik="6474014506920003")


# --- roster ------------------------------------------------------------------------------------------------------

def test_roster_lists_kader_in_scope_with_search_page_and_fragment(tree, login, ayu, kader_b):
    c = login("clerk_a")
    page = c.get("/kader/").get_data(as_text=True)
    assert "<html" in page and NAME in page and "Kader Bontang Utara" not in page
    frag = c.post("/kader/", {"q": "luh"}, headers={"HX-Request": "true"})
    html = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in html and NAME in html and "Kader Satu" not in html
    assert "Vary" in frag.headers and "HX-Request" in frag.headers["Vary"]
    assert NAME in c.post("/kader/", {"q": "64740145"}).get_data(as_text=True)  # NIK prefix, posted: not in a URL
    assert NAME not in c.get(f"/kader/?posyandu={tree.posyandu['A2'].id}").get_data(as_text=True)
    assert login("kader_a1").get("/kader/").status_code == 403  # kader accounts: no roster (NIK, bank data)


def test_clerk_cannot_see_verify_edit_or_print_another_kelurahans_kader(tree, login, kader_b):
    c = login("clerk_a")
    kid = kader_b.id
    assert c.get(f"/kader/{kid}").status_code == 404
    assert c.get(f"/kader/{kid}/ubah").status_code == 404
    assert c.post(f"/kader/{kid}/tinjau", {"action": "verify"}).status_code == 404
    assert c.get(f"/kader/{kid}/komitmen").status_code == 404
    com = kf.commitment_of(tree, "B1")
    assert c.get(f"/kader/komitmen/{com.id}/pdf").status_code == 404
    cert = kf.certificate_of(tree, "B1")
    assert c.get(f"/kader/sertifikat/{cert.id}/pdf").status_code == 404
    assert c.post(f"/kader/sertifikat/kelurahan/{tree.kelurahan['B'].id}/pdf").status_code == 404
    db.session.refresh(kader_b)
    assert kader_b.review_status == "baru"
    assert "Kader Bontang Utara" not in c.get("/kader/kualitas-data").get_data(as_text=True)


def test_edit_kader_validates_and_keeps_history(tree, login, ayu):
    c = login("ketua_a1")
    bad = c.post(f"/kader/{ayu.id}/ubah", {"name": NAME, "sex": "P", "nik": "123", "bank_account": "12ab"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "NIK harus 16 angka." in html and 'aria-invalid="true"' in html
    ok = c.post(f"/kader/{ayu.id}/ubah", {"name": NAME, "sex": "P", "nik": "6474 0145 0692 0003",
                                          "education": "sma", "bpjs_tk_number": "23000123456",
                                          "bpjs_tk_active_until": "2027-01-31", "bank_name": "Bankaltimtara",
                                          "bank_account": "0012345678", "bank_account_holder": NAME})
    assert ok.status_code == 303
    db.session.refresh(ayu)
    assert (ayu.bank_name, ayu.bpjs_tk_active_until, ayu.education) == ("Bankaltimtara", date(2027, 1, 31), "sma")
    log = db.session.scalars(select(AuditLog).where(AuditLog.entity == "kader", AuditLog.entity_id == ayu.id,
                                                    AuditLog.action == "update")).all()
    assert log and "bank_account" in log[-1].changes


def test_roles_are_time_bounded_and_double_roles_reported(tree, login, ayu):
    c = login("clerk_a")
    resp = c.post(f"/kader/{ayu.id}/peran", {"posyandu_id": tree.posyandu["A2"].id, "role": "bendahara",
                                             "start_date": date.today().isoformat()})
    assert resp.status_code == 303
    report = c.get("/kader/peran-ganda").get_data(as_text=True)
    assert NAME in report and "Bendahara" in report
    role = db.session.scalar(select(KaderRole).where(KaderRole.kader_id == ayu.id, KaderRole.role == "bendahara"))
    assert c.post(f"/kader/{ayu.id}/peran/akhiri", {"role_id": role.id, "end_date": "2000-01-01"}).status_code == 303
    db.session.refresh(role)
    assert role.end_date == role.start_date  # never before it began
    # a role of another kader cannot be ended through this kader
    other = db.session.scalar(select(KaderRole).join(Kader).where(Kader.name == "Kader Satu"))
    assert c.post(f"/kader/{ayu.id}/peran/akhiri", {"role_id": other.id,
                                                    "end_date": date.today().isoformat()}).status_code == 404


def test_assessments_give_a_stratum_and_the_trained_share(tree, login, ayu):
    from posyandu.domain.competence import catalogue

    c = login("nakes_a")
    groups = catalogue().by_group()
    skills = [s.code for g in ("manajemen", "balita", "remaja") for s in groups[g]]
    resp = c.post(f"/kader/{ayu.id}/penilaian", {"skills": skills, "assessed_on": date.today().isoformat(),
                                                 "assessor": "Bidan Rina, Puskesmas A", "passed": "1"})
    assert resp.status_code == 303
    page = c.get(f"/kader/{ayu.id}").get_data(as_text=True)
    assert "Purwa" in page
    report = c.get("/kader/kompetensi").get_data(as_text=True)
    assert "Kelurahan A" in report and "Kelurahan B" not in report
    # Kader Satu, Kader Dua and Ayu serve A1: one of three trained, above the 10 % target
    assert "33,3%" in report or "33.3%" in report
    bad = c.post(f"/kader/{ayu.id}/penilaian", {"skills": ["ZZ"], "assessed_on": "2020-01-01", "assessor": "x"})
    assert bad.status_code == 422


def test_stratum_rule_comes_from_config(app, tree, login, ayu):
    from posyandu.services import roster

    app.config["KADER_STRATUM_RULE"] = [{"stratum": "utama", "required": ["manajemen"], "extra": 0}]
    roster.record_assessments(tree.users["admin_d"], ayu, ["M1", "M2", "M3", "M4"], date.today(), "Tim")
    assert roster.strata(select(Kader.id).where(Kader.id == ayu.id)) == {ayu.id: "utama"}
    app.config["KADER_STRATUM_RULE"] = [{"stratum": "utama", "required": ["typo"], "extra": 0}]
    with pytest.raises(ValueError):
        roster.stratum_rule()


def test_verification_then_validation_with_reason_when_sent_back(tree, login, ayu):
    clerk, admin, ketua = login("clerk_a"), login("admin_d"), login("ketua_a1")
    assert ketua.post(f"/kader/{ayu.id}/tinjau", {"action": "verify"}).status_code == 403
    assert admin.post(f"/kader/{ayu.id}/tinjau", {"action": "validate"}).status_code == 303
    db.session.refresh(ayu)
    assert ayu.review_status == "baru"  # cannot validate before the kelurahan verified
    clerk.post(f"/kader/{ayu.id}/tinjau", {"action": "return"})  # no reason: refused
    clerk.post(f"/kader/{ayu.id}/tinjau", {"action": "return", "reason": "   "})  # blanks are no reason either
    db.session.refresh(ayu)
    assert ayu.review_status == "baru"
    clerk.post(f"/kader/{ayu.id}/tinjau", {"action": "return", "reason": "NIK tidak sesuai KTP"})
    db.session.refresh(ayu)
    assert (ayu.review_status, ayu.return_reason) == ("dikembalikan", "NIK tidak sesuai KTP")
    assert "NIK tidak sesuai KTP" in clerk.get(f"/kader/{ayu.id}").get_data(as_text=True)
    clerk.post(f"/kader/{ayu.id}/tinjau", {"action": "verify"})
    admin.post(f"/kader/{ayu.id}/tinjau", {"action": "validate"})
    db.session.refresh(ayu)
    assert ayu.review_status == "tervalidasi" and ayu.verified_by_id == tree.users["clerk_a"].id
    # a later correction sends the record back to be verified
    ketua.post(f"/kader/{ayu.id}/ubah", {"name": NAME, "sex": "P", "phone": "081234567890"})
    db.session.refresh(ayu)
    assert ayu.review_status == "baru" and ayu.validated_at is None


def test_data_quality_lists_nik_problems_double_roles_and_unverified(tree, login):
    kf.kader_of(tree, "A1", name="Tanpa NIK")
    a2 = kf.kader_of(tree, "A2", name="NIK Salah", nik="1234")
    db.session.add(Kader(name="Kembar", sex="P", nik=VALID_NIK,
                         roles=[KaderRole(posyandu_id=tree.posyandu["A1"].id, role="kader", start_date=date(2024, 1, 1))]))
    db.session.add(Kader(name="Kembar Dua", sex="P", nik=VALID_NIK,
                         roles=[KaderRole(posyandu_id=tree.posyandu["A2"].id, role="kader", start_date=date(2024, 1, 1)),
                                KaderRole(posyandu_id=tree.posyandu["A2"].id, role="ketua", start_date=date(2024, 1, 1))]))
    db.session.commit()
    html = login("clerk_a").get("/kader/kualitas-data").get_data(as_text=True)
    assert "NIK kosong" in html and "NIK tidak sah" in html and "NIK ganda" in html and "Peran ganda" in html
    assert a2.name in html and "Kembar Dua" in html


# --- commitments -------------------------------------------------------------------------------------------------

def _template(tree):
    from posyandu.services import commitments

    return commitments.ensure_template(tree.users["admin_d"], tree.districts["D"].id, date.today().year)


def _sign(c, kader, t, tree, key="k", **extra):
    return c.post(f"/kader/{kader.id}/komitmen", {"posyandu_id": tree.posyandu["A1"].id, "agree": "y",
                                                  "text_sha256": t.body_sha256, "idempotency_key": key, **extra})


def _ketua_of_a1(tree, login, linked=True):
    """The kader who is ketua of Posyandu A1, linked to the ketua_a1 account by the kelurahan."""
    k = Kader(name="Sitti Rahmah", sex="P")
    k.roles.append(KaderRole(posyandu_id=tree.posyandu["A1"].id, role="ketua", start_date=date(2024, 1, 1)))
    db.session.add(k)
    db.session.commit()
    if linked:
        assert login("clerk_a").post(f"/kader/{k.id}/akun", {"user_id": tree.users["ketua_a1"].id}).status_code == 303
    return k


def test_a_shared_login_cannot_sign_for_a_kader_it_is_not(tree, login, ayu):
    """The defect: the Posyandu's shared kader login signed Āyu's commitment with a typed "Not Me", kept under her
    name. Now she must be identified (her own account or her PIN) and a typed signature must be her name."""
    t = _template(tree)
    shared = login("kader_a1")
    page = shared.get(f"/kader/{ayu.id}/komitmen").get_data(as_text=True)
    assert 'id="no-pin"' in page and 'id="sign-form"' not in page  # no PIN yet: nothing to sign with
    resp = _sign(shared, ayu, t, tree, typed_name="Not Me")
    assert resp.status_code == 422
    kf.with_pin(ayu)
    assert _sign(shared, ayu, t, tree, typed_name=NAME).status_code == 422  # her PIN not typed
    wrong = _sign(shared, ayu, t, tree, typed_name=NAME, pin="111112")
    assert wrong.status_code == 422 and "PIN salah" in wrong.get_data(as_text=True)
    not_her = _sign(shared, ayu, t, tree, typed_name="Not Me", pin=kf.PIN)
    assert not_her.status_code == 422 and "harus nama penanda tangan" in not_her.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Commitment)) == 0
    ok = _sign(shared, ayu, t, tree, typed_name=" ni luh  putu \u0100YU ", pin=kf.PIN)  # case and spaces aside
    assert ok.status_code == 303
    com = db.session.scalar(select(Commitment).where(Commitment.kader_id == ayu.id))
    assert com.signer_name == NAME and com.signer_method == "pin" and com.recorded_by_id == tree.users["kader_a1"].id
    assert "dengan PIN pribadinya" in shared.get(f"/kader/komitmen/{com.id}").get_data(as_text=True)


def test_a_kader_signs_from_her_own_linked_account_and_only_for_herself(tree, login, ayu):
    t = _template(tree)
    clerk = login("clerk_a")
    assert "kader_a1" in clerk.get(f"/kader/{ayu.id}").get_data(as_text=True)  # offered: an account of her Posyandu
    assert clerk.post(f"/kader/{ayu.id}/akun", {"user_id": tree.users["kader_a1"].id}).status_code == 303
    own = login("kader_a1")
    page = own.get(f"/kader/{ayu.id}/komitmen").get_data(as_text=True)
    assert 'id="signer-own"' in page and 'name="pin"' not in page
    assert _sign(own, ayu, t, tree, signature=kf.STROKES).status_code == 303
    com = db.session.scalar(select(Commitment).where(Commitment.kader_id == ayu.id))
    assert com.signer_method == "account" and com.signature_kind == "drawn"
    accounts = login("admin_d").get("/akun/").get_data(as_text=True)
    assert f"akun kader {NAME}" in accounts  # the admins see whose personal account it is
    satu = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    no_pin = _sign(own, satu, t, tree, signature=kf.STROKES)
    assert no_pin.status_code == 422 and 'id="no-pin"' in no_pin.get_data(as_text=True)
    kf.with_pin(satu, "730519")
    assert _sign(own, satu, t, tree, signature=kf.STROKES).status_code == 422  # her account is not Kader Satu
    assert _sign(own, satu, t, tree, signature=kf.STROKES, pin="730519").status_code == 303
    assert db.session.scalar(select(Commitment.signer_method).where(Commitment.kader_id == satu.id)) == "pin"
    # Another kelurahan's account, or an account taken by another kader, cannot be linked.
    assert clerk.post(f"/kader/{satu.id}/akun", {"user_id": tree.users["kader_a1"].id}).status_code == 303
    assert kf.KaderSigner and db.session.scalar(select(kf.KaderSigner.user_id).where(
        kf.KaderSigner.kader_id == satu.id)) is None


def test_pin_is_set_by_ketua_or_kelurahan_hashed_and_wrong_pins_back_off(app, tree, login, ayu):
    from posyandu.models import AuditLog, KaderSigner, Throttle
    from sqlalchemy import update

    t = _template(tree)
    ketua = login("ketua_a1")
    assert login("kader_a1").post(f"/kader/{ayu.id}/pin", {"pin": "582941", "confirm": "582941"}).status_code == 403
    for weak in ("123456", "000000", "12345", "１２３４５６"):
        ketua.post(f"/kader/{ayu.id}/pin", {"pin": weak, "confirm": weak})
        assert db.session.scalar(select(KaderSigner.pin_hash).where(KaderSigner.kader_id == ayu.id)) is None
    assert ketua.post(f"/kader/{ayu.id}/pin", {"pin": "582941", "confirm": "582941"}).status_code == 303
    stored = db.session.scalar(select(KaderSigner.pin_hash).where(KaderSigner.kader_id == ayu.id))
    assert stored.startswith("$argon2id$") and "582941" not in stored
    assert "582941" not in " ".join(str(a.changes) for a in db.session.scalars(select(AuditLog)))
    for _ in range(5):
        assert _sign(ketua, ayu, t, tree, signature=kf.STROKES, pin="999999").status_code == 422
    waiting = _sign(ketua, ayu, t, tree, signature=kf.STROKES, pin="582941")
    assert waiting.status_code == 429 and "Coba lagi dalam" in waiting.get_data(as_text=True)
    db.session.execute(update(Throttle).values(next_at=Throttle.next_at - 86400))
    db.session.commit()
    assert _sign(ketua, ayu, t, tree, signature=kf.STROKES, pin="582941").status_code == 303


def test_the_kader_replaces_her_pin_with_one_only_she_knows(app, tree, login, ayu):
    from posyandu.models import KaderSigner

    t = _template(tree)
    kf.with_pin(ayu)
    assert login("clerk_a").get(f"/kader/{ayu.id}/pin/ganti").status_code == 403  # hers, not the kelurahan's
    shared = login("ketua_a1")  # the Posyandu laptop's login: her old PIN first
    page = shared.get(f"/kader/{ayu.id}").get_data(as_text=True)
    assert f"/kader/{ayu.id}/pin/ganti" in page
    wrong = shared.post(f"/kader/{ayu.id}/pin/ganti", {"current": "999999", "pin": "730519", "confirm": "730519"})
    assert wrong.status_code == 422 and "PIN salah" in wrong.get_data(as_text=True)
    weak = shared.post(f"/kader/{ayu.id}/pin/ganti", {"current": kf.PIN, "pin": "111111", "confirm": "111111"})
    assert weak.status_code == 422
    ok = shared.post(f"/kader/{ayu.id}/pin/ganti", {"current": kf.PIN, "pin": "730519", "confirm": "730519"})
    assert ok.status_code == 303
    row = db.session.scalar(select(KaderSigner).where(KaderSigner.kader_id == ayu.id))
    assert row.pin_self_set and "730519" not in row.pin_hash
    assert "diganti sendiri oleh kader" in shared.get(f"/kader/{ayu.id}").get_data(as_text=True)
    assert _sign(shared, ayu, t, tree, signature=kf.STROKES, pin=kf.PIN).status_code == 422  # the old one is gone
    assert _sign(shared, ayu, t, tree, key="k2", signature=kf.STROKES, pin="730519").status_code == 303
    # The ketua setting a new PIN later takes it back out of her hands, and the page says so.
    assert shared.post(f"/kader/{ayu.id}/pin", {"pin": "582941", "confirm": "582941"}).status_code == 303
    db.session.refresh(row)
    assert not row.pin_self_set


def test_a_pin_count_lives_and_dies_with_the_signature(app, tree, ayu):
    """A wrong PIN's count survives the refused request; a right PIN's attempt is undone with a signature that
    fails (it is counted in the request's own transaction, so no lock is released halfway)."""
    from posyandu.models import Throttle
    from posyandu.services import signers

    kf.with_pin(ayu)
    ketua = tree.users["ketua_a1"]
    with pytest.raises(signers.IdentityError, match="wrong_pin"):
        signers.identify(ketua, ayu, "999999")
    db.session.rollback()
    assert db.session.get(Throttle, f"pin:{ayu.id}").failures == 1
    assert signers.identify(ketua, ayu, kf.PIN) == "pin"
    db.session.rollback()  # the signature failed after the PIN was checked
    assert db.session.get(Throttle, f"pin:{ayu.id}").failures == 1
    signers.identify(ketua, ayu, kf.PIN)
    db.session.commit()
    assert db.session.get(Throttle, f"pin:{ayu.id}") is None


def test_the_ketua_countersigns_as_herself_and_the_kelurahan_enters_the_lurah(tree, login, ayu):
    t = _template(tree)
    kf.with_pin(ayu)
    ketua_kader = _ketua_of_a1(tree, login)
    c = login("ketua_a1")
    assert _sign(c, ayu, t, tree, typed_name=NAME, pin=kf.PIN).status_code == 303
    com = db.session.scalar(select(Commitment).where(Commitment.kader_id == ayu.id))
    page = c.get(f"/kader/komitmen/{com.id}").get_data(as_text=True)
    assert 'id="countersigner"' in page and "Sitti Rahmah" in page and 'name="name"' not in page
    assert login("admin_d").post(f"/kader/komitmen/{com.id}/ketahui", {"signature": kf.STROKES}).status_code == 403
    typed_other = c.post(f"/kader/komitmen/{com.id}/ketahui", {"typed_name": "Ketua Posyandu A1"})
    assert typed_other.status_code == 422
    # Name and title posted by hand are not taken: they come from the board position.
    cs = c.post(f"/kader/komitmen/{com.id}/ketahui", {"name": "Orang Lain", "title": "Bupati",
                                                      "signature": kf.STROKES})
    assert cs.status_code == 303
    db.session.refresh(com)
    assert (com.countersigner_name, com.countersigner_title) == ("Sitti Rahmah", "Ketua Posyandu A1")
    assert com.countersigner_method == "account" and com.countersigner_kader_id == ketua_kader.id
    assert com.countersigned_by_id == tree.users["ketua_a1"].id
    pdf = c.get(f"/kader/komitmen/{com.id}/pdf")
    text_ = " ".join(PdfReader(BytesIO(pdf.data)).pages[0].extract_text().split())
    assert NAME in text_ and "Sitti Rahmah" in text_ and com.text_sha256 in text_.replace(" ", "")
    assert "Kader dikenali dengan PIN pribadinya" in text_ and "Yang mengetahui: dengan akunnya sendiri" in text_
    second = c.post(f"/kader/komitmen/{com.id}/ketahui", {"typed_name": "Sitti Rahmah"})
    assert second.status_code == 303
    db.session.refresh(com)
    assert com.countersigner_name == "Sitti Rahmah" and com.countersignature_kind == "drawn"
    # The kelurahan: the lurah's name is entered (no account name by default), the title is prefilled.
    satu = db.session.scalar(select(Kader).where(Kader.name == "Kader Satu"))
    kf.with_pin(satu, "730519")
    clerk = login("clerk_a")
    assert _sign(clerk, satu, t, tree, signature=kf.STROKES, pin="730519").status_code == 303
    com2 = db.session.scalar(select(Commitment).where(Commitment.kader_id == satu.id))
    page = clerk.get(f"/kader/komitmen/{com2.id}").get_data(as_text=True)
    assert 'value="Lurah Kelurahan A"' in page and tree.users["clerk_a"].display_name not in page.split("countersign-form")[1]
    assert clerk.post(f"/kader/komitmen/{com2.id}/ketahui", {"name": "", "title": "Lurah Kelurahan A",
                                                             "signature": kf.STROKES}).status_code == 422
    assert clerk.post(f"/kader/komitmen/{com2.id}/ketahui", {"name": "Andi Baso", "title": "Lurah Kelurahan A",
                                                             "signature": kf.STROKES}).status_code == 303
    db.session.refresh(com2)
    assert (com2.countersigner_name, com2.countersigner_method) == ("Andi Baso", "entered")


def test_the_ketua_does_not_countersign_her_own_commitment_and_needs_her_pin_on_another_account(tree, login):
    t = _template(tree)
    ketua_kader = _ketua_of_a1(tree, login, linked=False)
    kf.with_pin(ketua_kader, "640213")
    c = login("ketua_a1")
    assert _sign(c, ketua_kader, t, tree, signature=kf.STROKES, pin="640213").status_code == 303
    own = db.session.scalar(select(Commitment).where(Commitment.kader_id == ketua_kader.id))
    assert c.post(f"/kader/komitmen/{own.id}/ketahui", {"signature": kf.STROKES, "pin": "640213"}).status_code == 422
    ayu = kf.kader_of(tree, "A1", name=NAME)
    kf.with_pin(ayu)
    assert _sign(c, ayu, t, tree, signature=kf.STROKES, pin=kf.PIN).status_code == 303
    com = db.session.scalar(select(Commitment).where(Commitment.kader_id == ayu.id))
    assert c.post(f"/kader/komitmen/{com.id}/ketahui", {"signature": kf.STROKES}).status_code == 422  # PIN needed
    assert c.post(f"/kader/komitmen/{com.id}/ketahui", {"signature": kf.STROKES, "pin": "640213"}).status_code == 303
    db.session.refresh(com)
    assert com.countersigner_method == "pin" and com.countersigner_name == "Sitti Rahmah"


def test_a_text_changed_while_reading_is_not_signed(tree, login, ayu):
    from posyandu.services import commitments

    kf.with_pin(ayu)
    old = _template(tree)
    commitments.new_version(tree.users["admin_d"], tree.districts["D"].id, old.year, old.title, old.body + "\n6. Baru.")
    resp = login("ketua_a1").post(f"/kader/{ayu.id}/komitmen", {
        "posyandu_id": tree.posyandu["A1"].id, "agree": "y", "text_sha256": old.body_sha256, "typed_name": NAME,
        "idempotency_key": "k1", "pin": kf.PIN})
    assert resp.status_code == 422 and "diperbarui" in resp.get_data(as_text=True)


def test_signed_commitment_cannot_change_in_the_orm_or_the_database(app, tree):
    com = kf.commitment_of(tree, "A1")
    com.text = "Teks lain"
    with pytest.raises(ImmutableRecord):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(Exception, match="immutable"):
        db.session.execute(text("UPDATE commitment SET text = 'x' WHERE id = :i"), {"i": com.id})
    db.session.rollback()
    with pytest.raises(Exception, match="cannot be deleted"):
        db.session.execute(text("DELETE FROM commitment WHERE id = :i"), {"i": com.id})
    db.session.rollback()
    with pytest.raises(Exception, match="immutable"):  # how she was identified is fixed too
        db.session.execute(text("UPDATE commitment SET signer_method = 'account' WHERE id = :i"), {"i": com.id})
    db.session.rollback()
    db.session.execute(text("UPDATE commitment SET countersigner_name = 'Andi Baso', countersigned_at = signed_at, "
                            "countersigner_method = 'entered' WHERE id = :i"), {"i": com.id})
    db.session.commit()
    for sql in ("UPDATE commitment SET countersigner_name = 'Orang Lain' WHERE id = :i",
                "UPDATE commitment SET countersigner_method = 'pin' WHERE id = :i"):
        with pytest.raises(Exception, match="already countersigned"):
            db.session.execute(text(sql), {"i": com.id})
        db.session.rollback()


def test_templates_are_versioned_by_the_district_admin(tree, login):
    c = login("admin_d")
    assert c.get("/kader/komitmen/naskah").status_code == 200
    for body in ("Versi satu.", "Versi dua."):
        assert c.post("/kader/komitmen/naskah", {"year": 2030, "title": "Komitmen", "body": body}).status_code == 303
    html = c.get("/kader/komitmen/naskah").get_data(as_text=True)
    assert html.count("<td>2030</td>") == 2
    assert login("clerk_a").get("/kader/komitmen/naskah").status_code == 403


# --- certificates ------------------------------------------------------------------------------------------------

def test_certificates_issue_verify_publicly_revoke_and_bulk_print(app, tree, login, ayu, client):
    c = login("clerk_a")
    # stratum certificate needs a stratum
    resp = c.post(f"/kader/{ayu.id}/sertifikat", {"type_code": "stratum", "issued_on": date.today().isoformat(),
                                                  "issuer_name": "Lurah A", "issuer_title": "Lurah Kelurahan A",
                                                  "idempotency_key": "c0"})
    assert resp.status_code == 303 and db.session.scalar(select(db.func.count()).select_from(Certificate)) == 0
    for key in ("c1", "c1", "c2"):  # the first twice: one certificate
        c.post(f"/kader/{ayu.id}/sertifikat", {"type_code": "piagam", "issued_on": date.today().isoformat(),
                                               "issuer_name": "Lurah A", "issuer_title": "Lurah Kelurahan A",
                                               "idempotency_key": key})
    c.post("/kader/sertifikat/kelurahan", {"type_code": "odf", "kelurahan_id": tree.kelurahan["A"].id,
                                           "issued_on": date.today().isoformat(), "issuer_name": "Wali Kota",
                                           "issuer_title": "Wali Kota D", "idempotency_key": "c3"})
    certs = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert len(certs) == 3 and len({x.number for x in certs}) == 3 and len({x.token for x in certs}) == 3
    assert all(len(x.token) >= 22 and str(x.id) != x.token for x in certs)

    # public verification: no login, no NIK
    page = client.get(f"/v/{certs[0].token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and NAME in html and "SAH" in html and certs[0].number in html
    assert ayu.nik not in html and "noindex" in page.headers["X-Robots-Tag"]
    assert client.get("/v/not-a-token").status_code == 404

    assert c.post(f"/kader/sertifikat/{certs[0].id}/cabut", {"reason": ""}).status_code == 303
    assert client.get(f"/v/{certs[0].token}").get_data(as_text=True).count("DICABUT") == 0
    c.post(f"/kader/sertifikat/{certs[0].id}/cabut", {"reason": "Salah nama"})
    assert "DICABUT" in client.get(f"/v/{certs[0].token}").get_data(as_text=True)

    bulk = c.job_file(f"/kader/sertifikat/kelurahan/{tree.kelurahan['A'].id}/pdf")
    reader = PdfReader(BytesIO(bulk.data))
    assert bulk.mimetype == "application/pdf" and len(reader.pages) == 2  # the revoked one is left out
    all_text = "".join(p.extract_text() for p in reader.pages)
    assert NAME in all_text and "Kelurahan A" in all_text and f"/v/{certs[1].token}" in all_text
    one = c.get(f"/kader/sertifikat/{certs[0].id}/pdf")
    assert "DICABUT" in PdfReader(BytesIO(one.data)).pages[0].extract_text()
    listing = c.get("/kader/sertifikat/").get_data(as_text=True)
    assert "Salah nama" in listing and certs[2].number in listing


def test_certificate_number_and_token_are_fixed(tree):
    cert = kf.certificate_of(tree, "A1")
    cert.number = "LAIN/1"
    with pytest.raises(ImmutableRecord):
        db.session.commit()
    db.session.rollback()


def test_public_base_url_is_a_setting_and_loopback_is_not_reachable(monkeypatch):
    from posyandu.config import from_environment
    from posyandu.services.certificates import reachable_base_url

    assert not reachable_base_url(None) and not reachable_base_url("")
    for base in ("http://127.0.0.1:5000", "http://localhost:5000/", "http://[::1]:8000", "http://0.0.0.0",
                 "127.0.0.2"):
        assert not reachable_base_url(base), base
    for base in ("https://posyandu.bontangkota.go.id", "http://192.168.1.10:5000", "posyandu.example.id"):
        assert reachable_base_url(base), base
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://posyandu.bontangkota.go.id")
    assert from_environment()["PUBLIC_BASE_URL"] == "https://posyandu.bontangkota.go.id"


def test_certificate_pages_warn_until_the_qr_address_is_public(app, tree, login, ayu):
    cert = kf.certificate_of(tree, "A1")
    c = login("clerk_a")
    for url in ("/kader/sertifikat/", f"/kader/{ayu.id}",
                f"/kader/sertifikat/kelurahan/{cert.kelurahan_id}/pratinjau"):
        html = c.get(url).get_data(as_text=True)
        assert "PUBLIC_BASE_URL" in html and "http://localhost" in html, url  # the test client's own address
    pdf = PdfReader(BytesIO(c.get(f"/kader/sertifikat/{cert.id}/pdf").data)).pages[0].extract_text()
    assert f"http://localhost/v/{cert.token}" in pdf

    app.config["PUBLIC_BASE_URL"] = "https://posyandu.bontangkota.go.id/"
    for url in ("/kader/sertifikat/", f"/kader/{ayu.id}"):
        assert "PUBLIC_BASE_URL" not in c.get(url).get_data(as_text=True), url
    pdf = PdfReader(BytesIO(c.get(f"/kader/sertifikat/{cert.id}/pdf").data)).pages[0].extract_text()
    assert f"https://posyandu.bontangkota.go.id/v/{cert.token}" in pdf
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    assert "PUBLIC_BASE_URL" in c.get("/kader/sertifikat/").get_data(as_text=True)


def test_clerk_ticks_certificates_previews_and_prints_only_those(app, tree, login, ayu, kader_b):
    from posyandu.services import certificates

    kel = tree.kelurahan["A"]
    clerk = tree.users["clerk_a"]
    made = [certificates.issue(clerk, "piagam", kel, date.today(), "Lurah A", "Lurah Kelurahan A", kader=ayu,
                               key=f"k{i}") for i in range(3)]
    app.config["PUBLIC_BASE_URL"] = "https://posyandu.bontangkota.go.id"
    c = login("clerk_a")
    listing = c.get("/kader/sertifikat/").get_data(as_text=True)
    for cert in made:  # a tick per certificate, tied to the print form
        assert f'name="id" value="{cert.id}" form="cetak-pilihan"' in listing
    chosen = [made[0].id, made[2].id]
    preview = c.get(f"/kader/sertifikat/kelurahan/{kel.id}/pratinjau?id={chosen[0]}&id={chosen[1]}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and html.count('class="cert-preview') == 2
    assert made[0].number in html and made[2].number in html and made[1].number not in html
    assert f"https://posyandu.bontangkota.go.id/v/{made[0].token}" in html and "<svg viewBox" in html
    assert "PUBLIC_BASE_URL" not in html
    form = re.search(r'<form class="inline" method="post" action="([^"]+)">(.*?)</form>', html).group(2)
    posted = [int(i) for i in re.findall(r'name="id" value="(\d+)"', form)]
    assert posted == chosen  # the print button posts the previewed certificates
    pdf = c.job_file(f"/kader/sertifikat/kelurahan/{kel.id}/pdf", {"id": posted})
    reader = PdfReader(BytesIO(pdf.data))
    assert pdf.mimetype == "application/pdf" and len(reader.pages) == 2
    text_ = "".join(p.extract_text() for p in reader.pages)
    assert made[0].number in text_ and made[2].number in text_ and made[1].number not in text_
    # nothing ticked: every valid certificate; another kelurahan's id is ignored, not printed
    other = kf.certificate_of(tree, "B1")
    assert len(PdfReader(BytesIO(c.job_file(f"/kader/sertifikat/kelurahan/{kel.id}/pdf").data)).pages) == 3
    odd = c.get(f"/kader/sertifikat/kelurahan/{kel.id}/pratinjau?id={other.id}").get_data(as_text=True)
    assert other.number not in odd
    assert login("kader_a1").get(f"/kader/sertifikat/kelurahan/{kel.id}/pratinjau").status_code == 403


def test_kader_birth_date_is_typed_day_first_or_iso(tree, login, ayu):
    """Issue 11: the kader's birth date was a date picker, which Chromium shows in the browser's order (mm/dd/yyyy
    on an English system, whatever the page language) and scrolls decades back; typed like the sasaran's now."""
    c = login("ketua_a1")
    form = c.get(f"/kader/{ayu.id}/ubah").get_data(as_text=True)
    tag = re.search(r'<input[^>]*id="birth_date"[^>]*>', form).group(0)
    assert 'type="text"' in tag and 'inputmode="numeric"' in tag and 'placeholder="hh-bb-tttt"' in tag
    for typed in ("17/05/1985", "17-05-1985", "1985-05-17"):
        resp = c.post(f"/kader/{ayu.id}/ubah", {"name": NAME, "sex": "P", "birth_date": typed})
        assert resp.status_code == 303, typed
        db.session.refresh(ayu)
        assert ayu.birth_date == date(1985, 5, 17), typed
    assert c.post(f"/kader/{ayu.id}/ubah", {"name": NAME, "sex": "P", "birth_date": "05/17/1985"}).status_code == 422
