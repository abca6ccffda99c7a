"""Benchmark: one kelurahan with 420 kader (84 Posyandu × 5, four of each five holding a board role as well, a hari
buka with attendance, most commitments signed, BPJS for half): time to compute the month's batch, then to print the
slips (3 and 4 per page), the daftar penerimaan, the kuitansi, the XLSX and the transfer CSV — through the routes,
as the clerk would. Prints the figures and checks the PDFs.
    .venv/bin/python bench/bench_incentives.py [--n 420]
"""
import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

MONTH = date(2025, 11, 1)


def build(n: int):
    """The kelurahan, its Posyandu and kader, roles, attendance, commitments; bulk inserts."""
    from sqlalchemy import insert, select

    from posyandu.extensions import db
    from posyandu.models import (Commitment, CommitmentTemplate, District, Duty, HariBuka, Kader, KaderRole, Kecamatan,
                                 Kelurahan, Posyandu, User)
    from posyandu.models.base import new_uuid, utcnow
    from posyandu.services.accounts import hash_password

    d = District(name="Kota Bontang", code="6474")
    kec = Kecamatan(district=d, name="Bontang Utara", code="647402")
    kel = Kelurahan(kecamatan=kec, name="Api-Api", code="6474021001")
    db.session.add_all([d, kec, kel])
    db.session.flush()
    pw = hash_password("bench-pass-1")
    for username, role in (("clerk", "kelurahan_clerk"), ("admin", "district_admin")):
        db.session.add(User(username=username, display_name=f"Bench {role}", role=role, password_hash=pw,
                            district_id=d.id, kelurahan_id=kel.id if role == "kelurahan_clerk" else None))
    n_pos = max(1, n // 5)
    for i in range(n_pos):
        db.session.add(Posyandu(kelurahan_id=kel.id, name=f"Melati {i + 1}"))
    db.session.flush()
    pos_ids = list(db.session.scalars(select(Posyandu.id).order_by(Posyandu.id)))
    now = utcnow()
    stamp = lambda: {"uuid": new_uuid(), "created_at": now, "updated_at": now}  # noqa: E731
    names = ["Ni Luh Putu Āyu", "Siti Rahmawati", "Dewi Daeng Matutu", "Fatimah Hasanuddin", "Wulan Sitorus"]
    db.session.execute(insert(Kader), [
        {**stamp(), "name": f"{names[i % 5]} {i}", "sex": "P", "nik": f"6474024506{i:06d}",
         "bpjs_tk_number": f"2300{i:07d}" if i % 2 else None,
         "bank_name": "Bankaltimtara" if i % 7 else None, "bank_account": f"0012{i:07d}" if i % 7 else None,
         "bank_account_holder": f"{names[i % 5]} {i}" if i % 7 else None} for i in range(n)])
    kader_ids = list(db.session.scalars(select(Kader.id).order_by(Kader.id)))
    roles, duties, hbs = [], [], []
    boards = ("ketua", "sekretaris", "bendahara", "bidang_kesehatan")
    for i, kid in enumerate(kader_ids):
        pos = pos_ids[min(i // 5, len(pos_ids) - 1)]
        start = date(2024, 1, 1) if i % 37 else date(2025, 11, 17)  # a few joined mid-month
        roles.append({**stamp(), "kader_id": kid, "posyandu_id": pos, "role": "kader", "start_date": start,
                      "end_date": date(2025, 11, 20) if i % 53 == 0 else None})
        if i % 5:
            roles.append({**stamp(), "kader_id": kid, "posyandu_id": pos, "role": boards[i % 5 - 1],
                          "start_date": start, "end_date": None})
    db.session.execute(insert(KaderRole), roles)
    for j, pos in enumerate(pos_ids):
        hbs.append({**stamp(), "posyandu_id": pos, "held_on": date(2025, 11, 5 + j % 20), "step_order": "1,2,3,4,5",
                    "opened_at": now, "closed_at": now, "version": 0})
    db.session.execute(insert(HariBuka), hbs)
    hb_of = dict(db.session.execute(select(HariBuka.posyandu_id, HariBuka.id)).all())
    for i, kid in enumerate(kader_ids):
        pos = pos_ids[min(i // 5, len(pos_ids) - 1)]
        duties.append({**stamp(), "hari_buka_id": hb_of[pos], "kader_id": kid, "meja": i % 5 + 1,
                       "present": i % 11 != 0})
    db.session.execute(insert(Duty), duties)
    tpl = CommitmentTemplate(district_id=d.id, year=2025, version=1, title="Komitmen", body="x", body_sha256="0" * 64)
    db.session.add(tpl)
    db.session.flush()
    db.session.execute(insert(Commitment), [
        {**stamp(), "kader_id": kid, "posyandu_id": pos_ids[min(i // 5, len(pos_ids) - 1)], "template_id": tpl.id,
         "year": 2025, "title": "Komitmen", "text": "x", "text_sha256": "0" * 64, "signer_name": "x",
         "signature_kind": "typed", "signature": "x", "signed_at": datetime(2025, 1, 10)}
        for i, kid in enumerate(kader_ids) if i % 13])
    db.session.commit()
    return kel.id


def main(n: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from posyandu import create_app
    from posyandu.extensions import db
    from posyandu.models import IncentiveBatch, Posyandu, User
    from posyandu.services import incentives, months

    from tests.incentive_factories import policy_data

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            kel_id = build(n)
            admin = db.session.scalar(select(User).where(User.username == "admin"))
            incentives.save_policy(admin, policy_data(MONTH, 1_000_000, bpjs_deduction=True, attendance_required=True,
                                                      commitment_required=True))
            # A batch pays from approved Posyandu-months only (issue 13): close every Posyandu's month first; the
            # batch then reads the months' snapshot sections.
            t0 = time.perf_counter()
            for pos in db.session.scalars(select(Posyandu).where(Posyandu.kelurahan_id == kel_id)).all():
                months.submit(admin, pos, MONTH)
                months.verify(admin, pos, MONTH)
                months.approve(admin, pos, MONTH)
            db.session.commit()
            close_secs = time.perf_counter() - t0
            db.session.remove()

            c = app.test_client()
            c.post("/masuk", data={"username": "clerk", "password": "bench-pass-1"})
            timings = {}
            t0 = time.perf_counter()
            resp = c.post("/insentif/hitung", data={"kelurahan_id": kel_id, "month": "2025-11",
                                                    "idempotency_key": "bench"})
            timings["compute (route)"] = time.perf_counter() - t0
            assert resp.status_code == 303, resp.status_code
            batch_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
            t0 = time.perf_counter()
            review = c.get(f"/insentif/{batch_id}", headers={"Accept-Encoding": "gzip"})
            timings["review page"] = time.perf_counter() - t0
            assert review.status_code == 200
            review_kb = len(review.data) / 1024
            sizes, pages = {}, {}
            for name, path in (("slips 3/page", "slip.pdf?per=3"), ("slips 4/page", "slip.pdf?per=4"),
                               ("daftar penerimaan", "daftar.pdf"), ("kuitansi", "kuitansi.pdf"),
                               ("xlsx", "insentif.xlsx"), ("transfer csv", "transfer.csv")):
                t0 = time.perf_counter()
                resp = c.get(f"/insentif/{batch_id}/{path}")
                timings[name] = time.perf_counter() - t0
                assert resp.status_code == 200, (name, resp.status_code)
                sizes[name] = len(resp.data)
                if path.endswith("pdf") or ".pdf?" in path:
                    pages[name] = len(PdfReader(BytesIO(resp.data)).pages)
            batch = db.session.get(IncentiveBatch, batch_id)
            t = incentives.batch_totals(batch)
            lines = len(batch.lines)
            assert t["net"] == sum(ln.net for ln in batch.lines)
            held = sum(1 for ln in batch.lines if any(r["code"] == "month_open" for r in ln.reductions))
            assert held == 0, held
    print(f"incentives for {n} kader in one kelurahan ({lines} lines; net total Rp{t['net']:,})".replace(",", "."))
    print(f"  (closing the {n // 5 or 1} Posyandu-months first: {close_secs:.2f} s, not counted below)")
    for name, secs in timings.items():
        extra = f"  {pages[name]:>4} pages" if name in pages else ""
        size = f"  {sizes[name] / 1024:8.0f} KB" if name in sizes else ""
        print(f"  {name:<20} {secs:6.2f} s{size}{extra}")
    total = sum(v for k, v in timings.items() if k in ("compute (route)", "slips 3/page", "daftar penerimaan"))
    print(f"  compute + slips (3/page) + daftar: {total:.2f} s")
    print(f"  review page (first 40 lines, gzip): {review_kb:.1f} KB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=420)
    main(ap.parse_args().n)
