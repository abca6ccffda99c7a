"""The Posyandu as an institution: SPM fields, verification/validation, the registration-completeness report."""
from datetime import date, timedelta

import pytest

from posyandu.domain import institution as dom
from posyandu.extensions import db
from posyandu.models import AuditLog, Kader, KaderRole, Posyandu
from posyandu.services import institution


# --- domain -------------------------------------------------------------------------------------------------------

def test_fields_round_trip_in_the_regulations_order_and_refuse_unknown_codes():
    assert dom.dump_fields({"sosial", "kesehatan"}) == "kesehatan,sosial"
    assert dom.parse_fields("sosial, kesehatan,bogus") == ["kesehatan", "sosial"]
    assert dom.parse_fields(None) == []
    with pytest.raises(ValueError):
        dom.dump_fields({"olahraga"})


def test_board_needs_a_ketua_bidang_per_served_field():
    assert dom.required_board([]) == ["ketua", "sekretaris", "bendahara"]
    assert dom.required_board(["pendidikan", "kesehatan"]) == ["ketua", "sekretaris", "bendahara",
                                                                "bidang_kesehatan", "bidang_pendidikan"]


def test_registration_lists_every_gap():
    r = dom.registration(None, " ", [], set(), "baru")
    assert r.gaps == ["registration_number", "sk", "spm_fields", "board", "verification", "validation"]
    assert r.board_missing == ["ketua", "sekretaris", "bendahara"]
    full = {"ketua", "sekretaris", "bendahara", "bidang_kesehatan"}
    r = dom.registration("REG-1", "SK 1", ["kesehatan"], full, "terverifikasi")
    assert r.gaps == ["validation"] and not r.complete
    r = dom.registration("REG-1", "SK 1", ["kesehatan"], full, "tervalidasi")
    assert r.complete and r.gaps == []
    r = dom.registration("REG-1", "SK 1", ["kesehatan", "sosial"], full, "tervalidasi")
    assert r.board_missing == ["bidang_sosial"] and r.gaps == ["board"]


def test_target_state():
    today = date(2026, 6, 1)
    assert dom.target_state(None, today, 0.5) == "none"
    assert dom.target_state(date(2026, 12, 31), today, 1.0) == "met"
    assert dom.target_state(date(2026, 12, 31), today, 0.5) == "on_track"
    assert dom.target_state(date(2026, 5, 31), today, 0.5) == "overdue"


# --- service and routes -----------------------------------------------------------------------------------------

def _complete(t, key, review="tervalidasi"):
    """Posyandu `key` with a number, SK, the kesehatan field and its whole board."""
    pos = t.posyandu[key]
    pos.registration_number, pos.sk_number, pos.sk_date = f"REG-{key}", f"SK/{key}/2025", date(2025, 3, 1)
    pos.spm_fields, pos.review_status = "kesehatan", review
    start = date.today() - timedelta(days=30)
    for role in ("ketua", "sekretaris", "bendahara", "bidang_kesehatan"):
        k = Kader(name=f"{role} {key}", sex="P")
        k.roles.append(KaderRole(posyandu_id=pos.id, role=role, start_date=start))
        db.session.add(k)
    db.session.commit()
    return pos


def test_completeness_counts_per_kecamatan_and_desa_in_scope(tree):
    _complete(tree, "A1")
    _complete(tree, "B1", review="terverifikasi")
    rep = institution.completeness(tree.users["admin_d"], date.today())
    assert [r.posyandu.name for r in rep.rows] == ["Posyandu A1", "Posyandu A2", "Posyandu B1", "Posyandu B2"]
    assert (rep.total.total, rep.total.complete) == (4, 1)
    assert {k.name: (k.total, k.complete) for k in rep.by_kecamatan} == {"Kecamatan A": (2, 1), "Kecamatan B": (2, 0)}
    assert rep.total.gaps["validation"] == 3 and rep.total.gaps["verification"] == 2
    assert rep.total.gaps["registration_number"] == 2
    by = {r.posyandu.name: r.reg for r in rep.rows}
    assert by["Posyandu B1"].gaps == ["validation"]
    assert by["Posyandu A2"].board_missing == ["ketua", "sekretaris", "bendahara"]
    # The kelurahan sees her own desa only; the other district nothing of D.
    rep = institution.completeness(tree.users["clerk_a"], date.today())
    assert [r.posyandu.name for r in rep.rows] == ["Posyandu A1", "Posyandu A2"]
    rep = institution.completeness(tree.users["admin_e"], date.today(), only_incomplete=True)
    assert [r.posyandu.name for r in rep.rows] == ["Posyandu C1", "Posyandu C2"]


def test_a_board_member_who_stepped_down_leaves_the_position_open(tree):
    pos = _complete(tree, "A1")
    role = db.session.scalar(db.select(KaderRole).where(KaderRole.posyandu_id == pos.id,
                                                        KaderRole.role == "bendahara"))
    role.end_date = date.today() - timedelta(days=1)
    db.session.commit()
    assert institution.registration_of(pos, date.today()).board_missing == ["bendahara"]


def test_verify_validate_and_send_back_with_who_when_why(tree, login):
    pos = tree.posyandu["A1"]
    admin = login("admin_d")
    # The district cannot validate before the kelurahan verified.
    admin.post(f"/posyandu/{pos.id}/tinjau", {"action": "validate"})
    assert db.session.get(Posyandu, pos.id).review_status == "baru"
    clerk = login("clerk_a")
    assert clerk.post(f"/posyandu/{pos.id}/tinjau", {"action": "verify"}).status_code == 303
    p = db.session.get(Posyandu, pos.id)
    assert p.review_status == "terverifikasi" and p.verified_by_id == tree.users["clerk_a"].id
    # A send-back without a reason is refused.
    admin.post(f"/posyandu/{pos.id}/tinjau", {"action": "return", "reason": ""})
    assert db.session.get(Posyandu, pos.id).review_status == "terverifikasi"
    admin.post(f"/posyandu/{pos.id}/tinjau", {"action": "return", "reason": "SK belum dilampirkan"})
    p = db.session.get(Posyandu, pos.id)
    assert (p.review_status, p.return_reason, p.returned_by_id) == ("dikembalikan", "SK belum dilampirkan",
                                                                    tree.users["admin_d"].id)
    assert p.returned_at is not None and p.verified_at is None
    html = admin.get(f"/posyandu/{pos.id}").get_data(as_text=True)
    assert "SK belum dilampirkan" in html and "Admin D" in html
    clerk.post(f"/posyandu/{pos.id}/tinjau", {"action": "verify"})
    admin.post(f"/posyandu/{pos.id}/tinjau", {"action": "validate"})
    p = db.session.get(Posyandu, pos.id)
    assert p.review_status == "tervalidasi" and p.validated_by_id == tree.users["admin_d"].id
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditLog).where(
        AuditLog.entity == "posyandu", AuditLog.entity_id == pos.id)) >= 4


def test_review_is_scoped_and_gated_by_role(tree, login):
    other = tree.posyandu["C1"]
    assert login("admin_d").post(f"/posyandu/{other.id}/tinjau", {"action": "return", "reason": "x"}).status_code == 404
    assert login("clerk_a").post(f"/posyandu/{tree.posyandu['B1'].id}/tinjau",
                                 {"action": "verify"}).status_code == 404
    assert login("ketua_a1").post(f"/posyandu/{tree.posyandu['A1'].id}/tinjau",
                                  {"action": "verify"}).status_code == 403
    assert login("kader_a1").get("/lembaga/kelengkapan").status_code == 403


def test_spm_fields_edited_on_the_posyandu_page_reset_a_validated_institution(tree, login):
    pos = _complete(tree, "A1")
    clerk = login("clerk_a")
    html = clerk.get(f"/posyandu/{pos.id}").get_data(as_text=True)
    assert 'name="fields" type="checkbox" value="sosial"' in html or 'value="sosial"' in html
    resp = clerk.post(f"/posyandu/{pos.id}/bidang-spm", {"fields": ["kesehatan", "sosial"]})
    assert resp.status_code == 303
    p = db.session.get(Posyandu, pos.id)
    assert p.spm_fields == "kesehatan,sosial" and p.review_status == "baru"
    assert institution.registration_of(p, date.today()).board_missing == ["bidang_sosial"]
    clerk.post(f"/posyandu/{pos.id}/bidang-spm", {"fields": ["olahraga"]})
    assert db.session.get(Posyandu, pos.id).spm_fields == "kesehatan,sosial"


def test_report_page_target_and_csv(tree, login):
    _complete(tree, "A1")
    admin = login("admin_d")
    target = date.today() + timedelta(days=90)
    assert admin.post("/lembaga/target", {"target": target.isoformat()}).status_code == 303
    html = admin.get("/lembaga/kelengkapan").get_data(as_text=True)
    assert "1 / 4" in html and "25%" in html and "Kecamatan B" in html
    assert "Posyandu C1" not in html
    resp = admin.get("/lembaga/kelengkapan?format=csv&kurang=1")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data().decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Kecamatan,Kelurahan/Desa,Posyandu") and len(lines) == 4
    assert "Posyandu A1" not in text and "Posyandu B2" in text
    # Past the target date the page says so.
    admin.post("/lembaga/target", {"target": (date.today() - timedelta(days=1)).isoformat()})
    assert "sudah lewat" in admin.get("/lembaga/kelengkapan").get_data(as_text=True)
    # The clerk may read the report but not set the target.
    assert login("clerk_a").post("/lembaga/target", {"target": target.isoformat()}).status_code == 403


def test_a_registration_change_sends_a_validated_institution_back_to_be_verified(tree, login):
    pos = _complete(tree, "A1")
    admin = login("admin_d")
    # A schedule change is not part of what was verified.
    pos.schedule_day = 12
    db.session.commit()
    assert db.session.get(Posyandu, pos.id).review_status == "tervalidasi"
    form = {"kelurahan_id": pos.kelurahan_id, "name": pos.name, "registration_number": "REG-A1-BARU",
            "sk_number": pos.sk_number, "sk_date": "2025-03-01", "schedule_kind": "day_of_month", "schedule_day": "12",
            "schedule_week": "0", "schedule_weekday": "-1", "active": "y"}
    assert admin.post(f"/wilayah/posyandu/{pos.id}/ubah", form).status_code == 303
    p = db.session.get(Posyandu, pos.id)
    assert (p.registration_number, p.review_status, p.validated_at) == ("REG-A1-BARU", "baru", None)


def test_kukar_demo_has_its_own_target_and_gaps_and_district_one_is_untouched(tree):
    from posyandu.models import District, User
    from posyandu.seed_kukar import seed_kukar
    from posyandu.services.accounts import hash_password

    from .conftest import PASSWORD

    seed_kukar(hash_password(PASSWORD))
    admin = db.session.scalar(db.select(User).where(User.username == "admin_kukar"))
    rep = institution.completeness(admin, date.today())
    assert rep.total.total == 8 and rep.target == date(date.today().year + 1, 6, 30)
    assert rep.total.gaps["board"] == 8  # only a ketua so far: sekretaris, bendahara and ketua bidang missing
    first = next(r.reg for r in rep.rows if r.posyandu.review_status == "tervalidasi")  # serves all six fields
    assert "bidang_trantibumlinmas" in first.board_missing and "validation" not in first.gaps
    assert db.session.get(District, tree.districts["D"].id).registration_target is None
    assert institution.completeness(tree.users["admin_d"], date.today()).total.total == 4
