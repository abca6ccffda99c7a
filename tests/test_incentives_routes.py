"""Incentive pages: policy form, compute (idempotent, 422 in Indonesian), review, adjust, approve, mark paid, documents,
and the kelurahan scope (a clerk gets 404 for another kelurahan's batch: compute, view, print)."""
import re
from datetime import date

from sqlalchemy import func, select

from posyandu.extensions import db
from posyandu.models import IncentiveBatch, IncentivePolicy, User

from . import incentive_factories as f
from . import kader_factories

NOV = "2025-11"
POLICY = {"valid_from": "2025-11", "amount": "Rp1.000.000", "funding_source": "APBD", "pph21": "2,5",
          "bpjs_amount": "16.800", "min_home_visits": "0", "attendance_required": "y", "attendance_cut_kind": "percent",
          "attendance_cut_value": "50", "attendance_cut_reason": "Tidak hadir pada hari buka",
          "commitment_cut_kind": "amount", "commitment_cut_value": "0", "home_visits_cut_kind": "percent",
          "home_visits_cut_value": "0"}


def _policy(tree):
    return f.policy_of(tree, "A1")


def test_admin_saves_a_policy_and_sees_the_history(app, tree, login):
    c = login("admin_d")
    assert c.get("/insentif/kebijakan").status_code == 200
    resp = c.post("/insentif/kebijakan", dict(POLICY, idempotency_key="p1"))
    assert resp.status_code == 303
    again = c.post("/insentif/kebijakan", dict(POLICY, idempotency_key="p1"))  # double click
    assert again.status_code == 303
    rows = list(db.session.scalars(select(IncentivePolicy)))
    assert len(rows) == 1 and rows[0].amount == 1_000_000 and rows[0].pph21_bp == 250
    assert rows[0].valid_from == date(2025, 11, 1) and rows[0].attendance_cut_value == 5000
    html = c.get("/insentif/kebijakan").get_data(as_text=True)
    assert "Rp1.000.000" in html and "11/2025" in html


def test_invalid_policy_is_422_with_indonesian_messages_beside_fields(app, tree, login):
    c = login("admin_d")
    bad = dict(POLICY, amount="satu juta", pph21="120", attendance_cut_reason="", idempotency_key="p2")
    resp = c.post("/insentif/kebijakan", bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Isi jumlah rupiah tanpa sen" in html and "Isi persen antara 0 dan 100" in html
    assert 'id="amount-error"' in html
    assert db.session.scalar(select(func.count()).select_from(IncentivePolicy)) == 0
    resp = c.post("/insentif/kebijakan", dict(POLICY, attendance_cut_reason="", idempotency_key="p3"))
    assert resp.status_code == 422 and "alasan dicetak pada slip" in resp.get_data(as_text=True)


def test_clerk_cannot_set_policy(app, tree, login):
    assert login("clerk_a").get("/insentif/kebijakan").status_code == 403
    assert login("kader_a1").get("/insentif/").status_code == 403


def test_clerk_computes_once_reviews_adjusts_and_admin_approves_then_paid_is_locked(app, tree, login):
    _policy(tree)
    kader_factories.kader_of(tree, "A1", name="Ni Luh Putu \u0100yu")
    f.close_months(tree, f.last_month(), "A1", "A2")  # a batch pays from approved months only (issue 13)
    c = login("clerk_a")
    assert "Hitung" in c.get("/insentif/").get_data(as_text=True)
    form = {"kelurahan_id": tree.kelurahan["A"].id, "month": f.last_month().strftime("%Y-%m"), "idempotency_key": "b1"}
    first = c.post("/insentif/hitung", form)
    second = c.post("/insentif/hitung", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(IncentiveBatch)) == 1
    batch = db.session.scalar(select(IncentiveBatch))
    page = c.get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert "Ni Luh Putu \u0100yu" in page and "Rp300.000" in page
    line = batch.lines[0]
    url = f"/insentif/{batch.id}/baris/{line.id}"
    assert c.get(url).status_code == 200
    resp = c.post(url, {"amount": "-50.000", "reason": ""})
    assert resp.status_code == 422 and "Tulis alasan penyesuaian." in resp.get_data(as_text=True)
    assert c.post(url, {"amount": "-50.000", "reason": "Terlambat laporan"}).status_code == 303
    db.session.refresh(line)
    assert line.gross == 250_000 and line.pph21 == 6_250
    admin = login("admin_d")
    assert admin.post(f"/insentif/{batch.id}/setujui").status_code == 303
    db.session.refresh(batch)
    assert batch.status == "approved"
    bad = c.post(f"/insentif/{batch.id}/bayar", {"paid_on": "kemarin", "reference": ""})
    assert bad.status_code == 422 and "Tanggal tidak sah." in bad.get_data(as_text=True)
    assert c.post(f"/insentif/{batch.id}/bayar", {"paid_on": "2025-12-05", "reference": "SP2D 1"}).status_code == 303
    db.session.refresh(batch)
    assert batch.status == "paid"
    c.post(url, {"amount": "0", "reason": ""})
    db.session.refresh(line)
    assert line.adjustment == -50_000  # locked
    assert "tidak lagi berstatus draf" in c.get(url).get_data(as_text=True)
    for doc, mime in (("slip.pdf?per=4", "application/pdf"), ("daftar.pdf", "application/pdf"),
                      ("kuitansi.pdf", "application/pdf"), ("insentif.xlsx", "application/vnd.openxmlformats"),
                      ("transfer.csv", "text/csv")):
        resp = c.get(f"/insentif/{batch.id}/{doc}")
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(mime), doc


def test_the_preparer_cannot_approve_and_htmx_posts_answer_with_hx_location(app, tree, login):
    batch = f.batch_of(tree, "A1")  # prepared by admin_d
    admin = login("admin_d")
    resp = admin.post(f"/insentif/{batch.id}/setujui", headers={"HX-Request": "true"})
    assert resp.status_code in (200, 204) and resp.data == b""
    assert resp.headers["HX-Location"] == f"/insentif/{batch.id}"
    db.session.refresh(batch)
    assert batch.status == "draft"
    assert "admin lain yang menyetujuinya" in admin.get(f"/insentif/{batch.id}").get_data(as_text=True)


def _second_admin(tree):
    u = User(username="admin_d2", display_name="Admin Dua", role="district_admin",
             password_hash=tree.users["admin_d"].password_hash, district_id=tree.districts["D"].id)
    db.session.add(u)
    db.session.commit()
    return u


def test_an_admin_who_adjusted_a_line_cannot_approve_after_the_clerk_recomputes(app, tree, login):
    """The walk-around: admin A adjusts a line, the clerk presses hitung ulang (so the clerk 'prepared' it last),
    and A approves her own adjustment. Whoever computed or adjusted any line since the last approval may not."""
    _policy(tree)
    kader_factories.kader_of(tree, "A1")
    _second_admin(tree)
    clerk, admin = login("clerk_a"), login("admin_d")
    clerk.post("/insentif/hitung", {"kelurahan_id": tree.kelurahan["A"].id,
                                    "month": f.last_month().strftime("%Y-%m"), "idempotency_key": "b1"})
    batch = db.session.scalar(select(IncentiveBatch))
    line = batch.lines[0]
    assert admin.post(f"/insentif/{batch.id}/baris/{line.id}", {"amount": "50.000", "reason": "Lembur"}).status_code == 303
    assert clerk.post(f"/insentif/{batch.id}/hitung-ulang").status_code == 303
    db.session.refresh(batch)
    assert batch.prepared_by_id == tree.users["clerk_a"].id and batch.lines[0].adjustment == 50_000
    page = admin.get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert f"/insentif/{batch.id}/setujui" not in page and 'id="four-eyes"' in page  # no button offered
    resp = admin.post(f"/insentif/{batch.id}/setujui")
    assert resp.status_code == 303
    db.session.refresh(batch)
    assert batch.status == "draft" and batch.approved_by_id is None
    second = login("admin_d2")
    assert f"/insentif/{batch.id}/setujui" in second.get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert second.post(f"/insentif/{batch.id}/setujui").status_code == 303
    db.session.refresh(batch)
    assert batch.status == "approved" and batch.approved_by_id == db.session.scalar(
        select(User.id).where(User.username == "admin_d2"))
    # Reopened: only who prepares it after that approval counts. Admin 2 adjusts now, so admin 2 may not approve
    # and admin A (nothing since the approval) may.
    assert second.post(f"/insentif/{batch.id}/kembalikan").status_code == 303
    line = batch.lines[0]
    assert second.post(f"/insentif/{batch.id}/baris/{line.id}", {"amount": "40.000", "reason": "Koreksi"}).status_code == 303
    assert f"/insentif/{batch.id}/setujui" not in second.get(f"/insentif/{batch.id}").get_data(as_text=True)
    assert admin.post(f"/insentif/{batch.id}/setujui").status_code == 303
    db.session.refresh(batch)
    assert batch.status == "approved" and batch.approved_by_id == tree.users["admin_d"].id


def test_clerk_gets_404_for_another_kelurahan_compute_view_and_print(app, tree, login):
    other = f.batch_of(tree, "B1")
    c = login("clerk_a")
    form = {"kelurahan_id": tree.kelurahan["B"].id, "month": f.last_month().strftime("%Y-%m"), "idempotency_key": "x"}
    assert c.post("/insentif/hitung", form).status_code == 404
    for path in ("", "/slip.pdf", "/daftar.pdf", "/kuitansi.pdf", "/insentif.xlsx", "/transfer.csv"):
        assert c.get(f"/insentif/{other.id}{path}").status_code == 404, path
    for path in ("/hitung-ulang", "/bayar", "/koreksi", "/hapus"):
        assert c.post(f"/insentif/{other.id}{path}").status_code == 404, path
    assert c.get(f"/insentif/{other.id}/baris/{other.lines[0].id}").status_code == 404
    html = c.get("/insentif/").get_data(as_text=True)
    assert f"/insentif/{other.id}\"" not in html and "Kelurahan B" not in html
    admin_e = login("admin_e")
    assert admin_e.get(f"/insentif/{other.id}").status_code == 404


def test_a_line_of_another_batch_is_404(app, tree, login):
    own, other = f.batch_of(tree, "A1"), f.batch_of(tree, "B1")
    c = login("admin_d")
    assert c.get(f"/insentif/{own.id}/baris/{other.lines[0].id}").status_code == 404


def test_compute_without_policy_is_422_with_a_reason(app, tree, login):
    c = login("clerk_a")
    resp = c.post("/insentif/hitung", {"kelurahan_id": tree.kelurahan["A"].id, "month": "2020-01",
                                       "idempotency_key": "np"})
    assert resp.status_code == 422 and "Belum ada kebijakan insentif" in resp.get_data(as_text=True)
    resp = c.post("/insentif/hitung", {"kelurahan_id": tree.kelurahan["A"].id, "month": "bulan lalu", "pph21": "x",
                                       "idempotency_key": "np2"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Isi persen antara 0 dan 100" in html
    assert re.search(r'id="month-error"', html)
