"""Background jobs in Debian Chromium: the district admin clicks the district's e-PPGBM button, sees the job's
page fill its progress bar and clicks the download; the kelurahan clerk does the same with JavaScript off (the
page reloads itself). Screenshots of a running and a finished job at phone and laptop size."""
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from openpyxl import load_workbook  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from .helpers import log_in  # noqa: E402


def _open_report(page):
    page.goto("/laporan/")
    expect(page.locator("table.skdn")).to_be_visible()


@pytest.mark.parametrize("username,js", [("admin", True), ("kelurahan", False)])
def test_the_e_ppgbm_button_gives_the_workbook_after_a_progress_page(new_page, username, js):
    page = new_page("laptop", java_script_enabled=js, accept_downloads=True)
    log_in(page, username)
    _open_report(page)
    page.locator(".downloads").get_by_role("button", name="e-PPGBM").click()
    expect(page).to_have_url(re.compile(r"/tugas/[\w-]+$"))
    expect(page.locator("h1")).to_contain_text("e-PPGBM")
    expect(page.locator(".job progress")).to_be_visible()
    link = page.locator("main a[href$='/unduh']")
    expect(link).to_be_visible(timeout=60_000)  # polled by htmx, or the page's own reload without JavaScript
    expect(page.locator(".job progress")).to_have_attribute("value", "100")
    with page.expect_download(timeout=30_000) as info:
        link.click()
    download = info.value
    assert re.fullmatch(r"eppgbm-(district-kab|kelurahan-\d+)-\d{4}-\d{2}\.xlsx", download.suggested_filename)
    wb = load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True)
    assert wb.sheetnames == ["Data Dasar", "Pertumbuhan"]
    assert len(list(wb["Data Dasar"].iter_rows(values_only=True))) > 1
    problems = [p for p in page.problems if not ("ERR_ABORTED" in p and "/unduh" in p)]
    assert not problems, problems


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_job_page_screenshots(new_page, shot, live_server, viewport):
    """A job still running (40 %) and one finished, as the district admin sees them."""
    from posyandu.extensions import db
    from posyandu.models import Job, User
    from posyandu.models.base import utcnow

    app = live_server[0].flask_app
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        running = Job(token=f"shot-running-{viewport}", kind="eppgbm", user_id=admin.id, params={},
                      title="e-PPGBM Kota Bontang, November 2026 (XLSX)", status="running", done=2, total=5,
                      file_name="eppgbm-district-kab-2026-11.xlsx", mimetype="application/octet-stream",
                      expires_at=utcnow() + timedelta(hours=24))
        db.session.add(running)
        db.session.commit()
        db.session.remove()
    page = new_page(viewport)
    log_in(page, "admin")
    page.goto(f"/tugas/shot-running-{viewport}")
    expect(page.locator(".job progress")).to_have_attribute("value", "40")
    expect(page.locator(".job-state")).to_contain_text("40%")
    shot(page, "job-running", viewport)
    _open_report(page)
    page.locator(".downloads").get_by_role("button", name="e-PPGBM").click()
    expect(page.locator("main a[href$='/unduh']")).to_be_visible(timeout=60_000)
    shot(page, "job-done", viewport)
    assert not page.problems, page.problems
