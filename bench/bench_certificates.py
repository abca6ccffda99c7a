"""Benchmark: bulk-print 420 certificates of one kelurahan as ONE PDF, through the route and as the pure function.

Prints time and size; checks the result is one valid PDF of 420 landscape A4 pages.
    .venv/bin/python bench/bench_certificates.py [--n 420]
"""
import argparse
import sys
import tempfile
import time
from datetime import date
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402


def main(n: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from posyandu import create_app
    from posyandu.extensions import db
    from posyandu.models import Certificate, District, Kecamatan, Kelurahan, User
    from posyandu.models.base import new_uuid, utcnow
    from posyandu.pdf.certificates import certificates_pdf
    from posyandu.services.accounts import hash_password
    from posyandu.services.certificates import new_token

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            d = District(name="Kota Bontang", code="6474")
            kec = Kecamatan(district=d, name="Bontang Utara")
            kel = Kelurahan(kecamatan=kec, name="Api-Api")
            db.session.add_all([d, kec, kel])
            db.session.flush()
            db.session.add(User(username="clerk", display_name="Petugas", role="kelurahan_clerk",
                                password_hash=hash_password("bench-pass-1"), district_id=d.id, kelurahan_id=kel.id))
            now = utcnow()
            names = ["Ni Luh Putu Āyu", "Siti Rahmawati", "Dewi Daeng Matutu", "Fatimah Hasanuddin"]
            db.session.execute(insert(Certificate), [
                {"uuid": new_uuid(), "created_at": now, "updated_at": now, "number": f"SK/6474/2026/{i:06d}",
                 "token": new_token(), "type_code": "stratum", "kelurahan_id": kel.id,
                 "recipient_name": f"{names[i % 4]} {i}", "title": "Sertifikat Kader Posyandu",
                 "heading": "Kader Madya", "body": "Telah memenuhi keterampilan dasar kader Posyandu dan ditetapkan "
                 "sebagai Kader Madya pada Posyandu di Kelurahan Api-Api, Kota Bontang.",
                 "issued_on": date(2026, 8, 17), "issuer_name": "dr. Kepala Dinas",
                 "issuer_title": "Kepala Dinas Kesehatan", "place": "Kota Bontang"} for i in range(1, n + 1)])
            db.session.commit()
            kel_id = kel.id

            c = app.test_client()
            c.post("/masuk", data={"username": "clerk", "password": "bench-pass-1"})
            t0 = time.perf_counter()
            resp = c.get(f"/kader/sertifikat/kelurahan/{kel_id}/pdf")
            route_s = time.perf_counter() - t0
            assert resp.status_code == 200 and resp.mimetype == "application/pdf", resp.status_code
            reader = PdfReader(BytesIO(resp.data))
            assert len(reader.pages) == n
            assert round(float(reader.pages[0].mediabox.width)) == 842

            sample = [{"number": f"SK/{i}", "title": "Sertifikat Kader Posyandu", "heading": "Kader Madya",
                       "body": "Telah memenuhi keterampilan dasar kader Posyandu.", "recipient_name": names[i % 4],
                       "issuer_org": "Pemerintah Kota Bontang", "issuer_name": "dr. Kepala",
                       "issuer_title": "Kepala Dinas Kesehatan", "place": "Kota Bontang",
                       "issued_on_text": "17 Agustus 2026", "verify_url": f"https://posyandu.example/v/{new_token()}",
                       "revoked": False} for i in range(n)]
            t0 = time.perf_counter()
            pure = certificates_pdf(sample)
            pure_s = time.perf_counter() - t0
            db.engine.dispose()
    print(f"{n} certificates via route: {route_s:.2f} s, {len(resp.data) / 1024:.0f} KiB "
          f"({len(resp.data) / n / 1024:.1f} KiB/page), {len(reader.pages)} pages, valid PDF")
    print(f"{n} certificates, PDF function only: {pure_s:.2f} s, {len(pure) / 1024:.0f} KiB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=420)
    main(ap.parse_args().n)
