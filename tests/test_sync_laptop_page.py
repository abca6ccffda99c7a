"""The laptop's *Sinkronkan* page (issue 14): server, device, last success, changes waiting per kind, what the
district refused and why; the button runs push then pull as a background job, and a run that was cut or timed
out shows as failed with what was and was not sent — never as a success."""
import json

import pytest
from sqlalchemy import select

from posyandu.extensions import db
from posyandu.models import Job, SyncState
from posyandu.sync import runs


@pytest.fixture
def laptop_app(app, tree, tmp_path):
    """The test app as an enrolled laptop (a credential in its instance folder)."""
    path = tmp_path / "sync.json"
    path.write_text(json.dumps({"url": "http://127.0.0.1:9", "device": "d-1", "credential": "d-1:t",
                                "name": "Laptop Mawar", "scope": {"kind": "posyandu", "id": 1,
                                                                  "name": "Posyandu A1"}, "protocol": 1}))
    app.config.update(SYNC_CREDENTIAL_FILE=str(path), SYNC_LAPTOP=True)
    return app


def _local_edits(tree):
    """Two people edited here (pending) and one visit the district refused for a closed month."""
    tree.people["child_A1"].phone = "0811"
    tree.people["mother_A1"].phone = "0812"
    db.session.commit()
    db.session.add(SyncState(entity="visit", uuid=tree.sessions["A1"].visits[0].uuid, state="refused",
                             change_id="c-1", code="month_closed",
                             message="the report of 2026-10 is approved and its data locked; the kelurahan/desa "
                                     "must reopen the month to correct it"))
    db.session.add(SyncState(entity="commitment", uuid="c0ffee00-0000-4000-8000-000000000001", state="conflict",
                             change_id="c-2", code="already_signed", message="signed elsewhere first"))
    db.session.commit()


def test_without_a_credential_the_page_explains_enrolment_and_the_menu_hides_it(app, tree, login, tmp_path):
    app.config["SYNC_CREDENTIAL_FILE"] = str(tmp_path / "none.json")
    c = login("ketua_a1")
    page = c.get("/sinkronkan/").get_data(as_text=True)
    assert "flask --app app sync enrol URL KODE" in page and 'id="sync-now"' not in page
    assert 'href="/sinkronkan/"' not in c.get("/").get_data(as_text=True)
    assert c.post("/sinkronkan/").status_code == 404


def test_the_page_counts_what_waits_and_says_why_a_record_was_refused(laptop_app, tree, login):
    _local_edits(tree)
    c = login("kader_a1")
    assert 'href="/sinkronkan/"' in c.get("/").get_data(as_text=True)
    page = c.get("/sinkronkan/").get_data(as_text=True)
    assert "http://127.0.0.1:9" in page and "Laptop Mawar" in page
    assert "belum pernah" in page  # never synced
    assert '<dd id="pending">2: Sasaran 2</dd>' in page
    assert '<dd id="problems-count">1 / 1</dd>' in page
    assert "already_signed" in page and "sudah ditandatangani di tempat lain lebih dulu" in page
    assert "month_closed" in page and "Laporan bulan 2026-10 sudah disetujui" in page
    assert "Minta kelurahan/desa membuka kembali" in page and "Anak A1" in page


def test_a_run_that_cannot_reach_the_server_is_shown_as_failed(laptop_app, tree, login):
    _local_edits(tree)
    c = login("ketua_a1")
    assert c.post("/sinkronkan/").status_code == 303  # the job ran at once (JOBS_IMMEDIATE)
    job = db.session.scalar(select(Job).where(Job.kind == runs.JOB_KIND))
    assert job.status == "failed"
    page = c.get("/sinkronkan/").get_data(as_text=True)
    assert "Sinkronisasi terakhir GAGAL" in page and "tidak ada koneksi ke server" in page
    assert "Belum terkirim: 2 perubahan menunggu" in page
    assert 'id="sync-ok"' not in page and "belum pernah" in page


class District:
    """A district that answers the push (every change applied) and then, if `cut`, drops the line on the pull."""

    def __init__(self, cut=False):
        self.cut, self.sent = cut, 0

    def call(self, method, path, payload=None):
        if method == "POST":
            self.sent += len(payload["changes"])
            return {"results": [{"id": ch["id"], "status": "applied", "seq": 100 + i, "uuid": ch["uuid"]}
                                for i, ch in enumerate(payload["changes"])], "seq": 200}
        if self.cut:
            raise TimeoutError("timed out")
        return {"records": [], "seq": 200, "more": False}


def test_a_run_cut_after_the_push_is_a_failure_that_says_what_was_sent(laptop_app, tree, login, monkeypatch):
    _local_edits(tree)
    district = District(cut=True)
    monkeypatch.setattr(runs, "transport", lambda cred: district)
    c = login("ketua_a1")
    c.post("/sinkronkan/")
    assert db.session.scalar(select(Job.status).where(Job.kind == runs.JOB_KIND)) == "failed"
    page = c.get("/sinkronkan/").get_data(as_text=True)
    assert "GAGAL" in page and "server tidak menjawab tepat waktu" in page
    assert "Pengiriman selesai (2 perubahan dijawab server)" in page and "pengambilan data dari server terputus" in page
    assert "Belum terkirim: 0 perubahan menunggu" in page and "belum pernah" in page


def test_a_finished_run_is_a_success(laptop_app, tree, login, monkeypatch):
    _local_edits(tree)
    monkeypatch.setattr(runs, "transport", lambda cred: District())
    c = login("ketua_a1")
    c.post("/sinkronkan/")
    assert db.session.scalar(select(Job.status).where(Job.kind == runs.JOB_KIND)) == "done"
    page = c.get("/sinkronkan/").get_data(as_text=True)
    assert 'id="sync-ok"' in page and "2 perubahan diterima server" in page and "GAGAL" not in page
    assert '<dd id="pending">0</dd>' in page and "belum pernah" not in page


def test_the_status_part_alone_for_htmx_polls_while_a_run_goes(laptop_app, tree, login):
    c = login("ketua_a1")
    job_user = tree.users["ketua_a1"]
    from posyandu.services import jobs

    jobs.create(job_user, runs.JOB_KIND, {}, "Sinkronkan", "sinkron.json", "application/json")
    db.session.commit()
    part = c.get("/sinkronkan/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert part.startswith('\n<section id="sync-status"') or part.lstrip().startswith('<section id="sync-status"')
    assert 'hx-trigger="every 2s"' in part and "Menunggu giliran" in part and " disabled" in part
    full = c.get("/sinkronkan/").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in full


def test_a_failed_sync_run_from_the_command_line_shows_on_the_page_too(laptop_app, tree, login):
    _local_edits(tree)
    result = laptop_app.test_cli_runner().invoke(args=["sync", "run"])
    assert result.exit_code != 0 and "sync NOT finished" in result.output
    page = login("ketua_a1").get("/sinkronkan/").get_data(as_text=True)
    assert "Sinkronisasi terakhir GAGAL" in page and "Belum terkirim: 2 perubahan menunggu" in page
