"""Background jobs: the job page and its download (owner only, expiring), the three kinds of long work started by
a POST and never run in a request thread, and a meja-2 save that goes through while a district export runs."""
import io
import re
import threading
import time
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from posyandu import jobs as job_queue
from posyandu.extensions import db
from posyandu.models import Job, Measurement
from posyandu.models.base import utcnow
from posyandu.services import jobs, report_exports

from .test_session_day import enqueue, open_day

MONTH = f"{date.today():%Y-%m}"


def _start(c, url, data=None) -> Job:
    resp = c.post(url, data)
    assert resp.status_code == 303
    token = resp.headers["Location"].rsplit("/", 1)[1]
    return db.session.scalar(select(Job).where(Job.token == token))


def test_a_job_page_shows_progress_then_the_download_to_its_owner_only(tree, login):
    admin = login("admin_d")
    job = _start(admin, f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
    assert job.status == "done" and job.kind == "eppgbm" and job.done == job.total > 0
    page = admin.get(f"/tugas/{job.token}").get_data(as_text=True)
    assert 'value="100"' in page and f"/tugas/{job.token}/unduh" in page and "hx-trigger" not in page
    fragment = admin.get(f"/tugas/{job.token}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "unduh" in fragment.get_data(as_text=True)
    got = admin.get(f"/tugas/{job.token}/unduh")
    assert got.status_code == 200 and got.mimetype == report_exports.XLSX
    assert f'filename=eppgbm-district-kab-{MONTH}.xlsx' in got.headers["Content-Disposition"]
    assert load_workbook(io.BytesIO(got.data), read_only=True).sheetnames == ["Data Dasar", "Pertumbuhan"]
    path = jobs.file_path(job)
    assert path.exists() and path.stat().st_mode & 0o077 == 0  # health data: the app's user only
    # Another user — even an admin of the same district — cannot see the page or the file: 404, nothing leaks.
    for other in (login("clerk_a"), login("admin_e")):
        assert other.get(f"/tugas/{job.token}").status_code == 404
        assert other.get(f"/tugas/{job.token}/unduh").status_code == 404
    assert admin.get("/tugas/not-a-token").status_code == 404


def test_a_running_job_polls_and_works_without_javascript(tree, login):
    admin = login("admin_d")
    job = jobs.create(tree.users["admin_d"], "eppgbm", {}, "e-PPGBM", "x.xlsx", report_exports.XLSX)
    job.status, job.done, job.total = "running", 3, 4
    db.session.commit()
    page = admin.get(f"/tugas/{job.token}").get_data(as_text=True)
    assert 'value="75"' in page and "75%" in page
    assert f'hx-get="/tugas/{job.token}"' in page and 'hx-trigger="every 1s"' in page  # htmx polls the fragment
    assert '<noscript><meta http-equiv="refresh"' in page and "Muat ulang" in page  # without JavaScript
    assert admin.get(f"/tugas/{job.token}/unduh").status_code == 404  # nothing to download yet


def test_expired_jobs_are_gone_with_their_files(tree, login):
    admin = login("admin_d")
    job = _start(admin, f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
    path = jobs.file_path(job)
    assert path.exists()
    job.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert admin.get(f"/tugas/{job.token}/unduh").status_code == 404
    assert jobs.clean_expired() == 1
    db.session.commit()
    assert not path.exists() and db.session.get(Job, job.id) is None


def test_long_work_is_never_done_in_a_request_thread(tree, login):
    admin = login("admin_d")
    # The district's PDF and every e-PPGBM workbook answer a GET with 405: only the job makes them.
    assert admin.get(f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}").status_code == 405
    assert admin.get(f"/laporan/kabupaten/laporan.pdf?bulan={MONTH}").status_code == 405
    kec = tree.posyandu["A1"].kelurahan.kecamatan_id
    assert admin.get(f"/laporan/kecamatan/{kec}/laporan.pdf?bulan={MONTH}").status_code == 405
    assert admin.get(f"/kader/sertifikat/kelurahan/{tree.kelurahan['A'].id}/pdf").status_code == 405
    # A small area's PDF is still made at once.
    assert admin.get(f"/laporan/posyandu/{tree.posyandu['A1'].id}/laporan.pdf?bulan={MONTH}").status_code == 200
    # The area page offers the district's files as buttons that post (CSRF) instead of links.
    page = admin.get(f"/laporan/kabupaten?bulan={MONTH}").get_data(as_text=True)
    for name in ("laporan.pdf", "eppgbm.xlsx"):
        assert re.search(rf'<form method="post" action="/laporan/kabupaten/{name}\?bulan={MONTH}"><input '
                         r'type="hidden" name="csrf_token"', page), name
    pdf = admin.job_file(f"/laporan/kabupaten/laporan.pdf?bulan={MONTH}")
    assert pdf.mimetype == "application/pdf" and "Laporan bulanan" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    job = db.session.scalar(select(Job).where(Job.kind == "report_pdf"))
    assert (job.done, job.total) == (2, 2)
    # Without a CSRF token, no job.
    assert admin.c.post(f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}").status_code == 400


def test_a_job_checks_its_users_scope_again_when_it_runs(tree, login, app):
    """A job runs as its user: if she lost the area between the click and the run, it fails, leaking nothing."""
    clerk = login("clerk_a")
    job = jobs.create(tree.users["clerk_a"], "eppgbm", {"area": {"kind": "kelurahan", "obj_id": tree.kelurahan["B"].id},
                                                        "month": MONTH, "base_url": "http://localhost/"},
                      "e-PPGBM", "x.xlsx", report_exports.XLSX)
    db.session.commit()
    job_queue.run(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == "failed" and job.error == "404" and not jobs.file_path(job).exists()
    page = clerk.get(f"/tugas/{job.token}").get_data(as_text=True)
    assert "File gagal dibuat" in page and "/unduh" not in page


def test_certificates_job_prints_with_the_address_of_the_request(tree, login):
    from . import kader_factories as kf

    cert = kf.certificate_of(tree, "A1")
    c = login("clerk_a")
    pdf = c.job_file(f"/kader/sertifikat/kelurahan/{tree.kelurahan['A'].id}/pdf")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert cert.number in text and f"http://localhost/v/{cert.token}" in text
    job = db.session.scalar(select(Job).where(Job.kind == "certificates"))
    assert job.done == job.total == 2  # one page, then the document


def test_a_meja_2_save_goes_through_while_a_district_export_runs(app, tree, login, tmp_path):
    """The export runs in a consumer thread (as under `flask serve`) and is held in the middle of its read — its
    deferred transaction open, rows streaming — while a kader saves a weighing at meja 2. On SQLite a reader never
    holds the write lock, so the save must complete at once; were the export's transaction IMMEDIATE (as a POST's
    is), the save would wait the 30 s busy timeout and fail with "database is locked". The assertion is not a
    timing race: the save is checked to finish while the export is still running (it cannot go on until the test
    lets it), and the 5 s bound only stands far below that 30 s timeout."""
    app.config.update(JOBS_IMMEDIATE=False)
    job_queue.init_app(app)  # the queue in a SQLite file beside the test's database, as on a laptop
    consumer = job_queue.start_consumer(app, workers=1)
    reading, release = threading.Event(), threading.Event()
    plain_row = report_exports._base_row

    def held_row(r):
        reading.set()
        assert release.wait(60)
        return plain_row(r)

    report_exports._base_row = held_row
    try:
        ketua, kader, admin = login("ketua_a1"), login("kader_a1"), login("admin_d")
        hb = open_day(ketua, tree)
        visit = enqueue(kader, hb, tree.people["child_A1"])
        job = _start(admin, f"/laporan/kabupaten/eppgbm.xlsx?bulan={MONTH}")
        assert reading.wait(30), "the export job did not start"
        t = time.perf_counter()
        saved = kader.post(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2",
                           {"weight_kg": "9.6", "length_cm": "75.5", "position": "l"})
        took = time.perf_counter() - t
        assert saved.status_code == 303 and took < 5, took
        assert db.session.scalar(select(Measurement.weight_kg).where(Measurement.visit_id == visit.id)) == 9.6
        db.session.rollback()
        assert db.session.get(Job, job.id).status == "running"  # the export was still reading
        release.set()
        for _ in range(300):
            db.session.rollback()  # a new read transaction: on SQLite (WAL) each one sees its own snapshot
            if db.session.get(Job, job.id).finished:
                break
            time.sleep(0.1)
        assert db.session.get(Job, job.id).status == "done"
        got = admin.get(f"/tugas/{job.token}/unduh")
        growth = list(load_workbook(io.BytesIO(got.data), read_only=True)["Pertumbuhan"].iter_rows(values_only=True))
        assert len(growth) >= 1
    finally:
        release.set()
        report_exports._base_row = plain_row
        consumer.stop(graceful=True)
