"""Every download of every role, clicked in Chromium with JavaScript on (boosted pages), and once with it off.

A click on a file link must give the browser a download of the right type — not an htmx swap of the PDF's bytes
into the page (issue 11). tests/test_downloads.py makes sure every file link is drawn the same way; this test
clicks them all, page by page, the way each role reaches them."""
import os
import re
from pathlib import Path

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from .test_reports_flow import log_in  # noqa: E402

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def check_file(download) -> str:
    """The download's name, after checking its bytes are what its name says."""
    name = download.suggested_filename
    body = Path(download.path()).read_bytes()
    ext = Path(name).suffix
    if ext == ".pdf":
        assert body.startswith(b"%PDF-"), name
    elif ext == ".xlsx":
        assert body.startswith(b"PK\x03\x04") and b"xl/workbook.xml" in body, name
    elif ext == ".csv":
        head = body[:2000].decode("utf-8-sig")
        assert "<html" not in head.lower() and ("," in head or ";" in head), name
    else:
        raise AssertionError(f"unexpected download {name}")
    return name


def click_download(page, target, got: list, what: str) -> None:
    """Click one link or button and require a file download; the page itself stays as it was."""
    url = page.url
    with page.expect_download(timeout=30_000) as info:
        target.click()
    name = check_file(info.value)
    got.append((what, name, info.value.url))
    assert page.url == url
    assert "%PDF" not in page.locator("main").inner_text()[:2000]  # no bytes swapped into the page


def click_job(page, button, got: list, what: str) -> None:
    """Click a button that starts a background job (a district's file, bulk certificates): the job's page shows
    the progress (htmx polls; without JavaScript the page reloads itself), then a download link to click."""
    back = page.url
    button.click()
    expect(page).to_have_url(re.compile(r"/tugas/[\w-]+$"))
    link = page.locator("main a[href$='/unduh']")
    expect(link).to_be_visible(timeout=60_000)
    click_download(page, link, got, what)
    page.goto(back)


def click_all_jobs(page, got: list, where: str) -> int:
    """Every job button of a report page's downloads bar, one after the other."""
    n = page.locator(".downloads form button").count()
    for i in range(n):
        button = page.locator(".downloads form button").nth(i)
        click_job(page, button, got, f"{where}: {button.inner_text().strip()}")
    return n


# Links found by where they point (not by the `download` attribute the convention adds, so that a link drawn
# without it is clicked too, and fails).
FILE_LINKS = ", ".join(f"main a[href{op}'{s}']" for op, s in (
    ("$=", ".pdf"), ("*=", ".pdf?"), ("$=", "/pdf"), ("*=", "/pdf?"), ("*=", ".xlsx"), ("*=", ".csv"),
    ("*=", "format=csv")))


def click_all_links(page, got: list, where: str) -> int:
    links = page.locator(FILE_LINKS)
    n = links.count()
    for i in range(n):
        link = links.nth(i)
        click_download(page, link, got, f"{where}: {link.inner_text().strip()}")
    return n


def reports(page, got):
    page.goto("/laporan/")
    expect(page.locator("table.skdn")).to_be_visible()
    links = click_all_links(page, got, "laporan")
    assert links + click_all_jobs(page, got, "laporan") >= 2  # the district's PDF and every e-PPGBM are jobs
    page.locator("table.skdn tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/daftar/"))
    assert click_all_links(page, got, "daftar") == 1


def certificates(page, got):
    page.goto("/kader/sertifikat/")
    expect(page.locator("h1")).to_contain_text("Sertifikat")
    assert click_all_links(page, got, "sertifikat") >= 2  # each number
    click_job(page, page.get_by_role("button", name="Cetak semua (PDF)"), got, "sertifikat: Cetak semua")
    boxes = page.locator("input[name=id][form=cetak-pilihan]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    click_job(page, page.get_by_role("button", name="Cetak pilihan (PDF)"), got, "sertifikat: Cetak pilihan")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_role("button", name="Pratinjau pilihan").click()
    expect(page).to_have_url(re.compile(r"/pratinjau$"))
    expect(page.locator("article.cert-preview")).to_have_count(2)
    click_job(page, page.get_by_role("button", name="Cetak 2 sertifikat (PDF)"), got, "pratinjau: Cetak")


def kader_certificate(page, got, server):
    from posyandu.extensions import db
    from posyandu.models import Certificate

    with server.flask_app.app_context():
        kader_id = db.session.scalar(select(Certificate.kader_id).where(Certificate.kader_id.is_not(None)).limit(1))
        db.session.remove()
    page.goto(f"/kader/{kader_id}")
    assert click_all_links(page, got, "halaman kader") >= 1


def commitment(page, got):
    page.goto("/kader/komitmen/")
    page.get_by_role("link", name="Sudah").first.click()
    expect(page).to_have_url(re.compile(r"/kader/komitmen/\d+$"))
    assert click_all_links(page, got, "komitmen") == 1


def incentives(page, got):
    page.goto("/insentif/")
    batch = page.locator("table.list tbody a")
    if batch.count():
        batch.first.click()
    else:
        page.get_by_role("button", name="Hitung").click()
    expect(page).to_have_url(re.compile(r"/insentif/\d+$"))
    assert click_all_links(page, got, "insentif") == 8  # four slip layouts, daftar, kuitansi, XLSX, CSV


def home_visits(page, got):
    page.goto("/kunjungan-rumah/")
    click_download(page, page.get_by_role("button", name="Unduh CSV"), got, "kunjungan rumah: Unduh CSV")


WALKS = {
    "kelurahan": ["incentives", "certificates", "kader_certificate", "commitment", "reports"],
    "admin": ["incentives", "certificates", "kader_certificate", "commitment", "reports"],
    "ketua": ["kader_certificate", "commitment", "home_visits", "reports"],
    "kader": ["commitment", "home_visits", "reports"],
    "bidan": ["reports"],
}


@pytest.mark.parametrize("username,js", [(u, True) for u in WALKS] + [("kelurahan", False)])
def test_every_download_of_every_role_is_a_file(new_page, live_server, username, js):
    page = new_page("laptop", java_script_enabled=js, accept_downloads=True)
    log_in(page, username)
    got = []
    for step in WALKS[username]:
        fn = globals()[step]
        fn(page, got, live_server[0]) if step == "kader_certificate" else fn(page, got)
    print(f"\n{username} ({'JS' if js else 'no JS'}): {len(got)} downloads clicked")
    for what, name, _ in got:
        print(f"  {what} -> {name}")
    kinds = {Path(name).suffix for _, name, _ in got}
    assert ".pdf" in kinds and ".xlsx" in kinds and ".csv" in kinds
    # A form submitted to a file is a navigation that Chromium turns into a download and reports as aborted.
    downloaded = {url for _, _, url in got}
    problems = [p for p in page.problems if not (p.startswith("requestfailed: ") and "ERR_ABORTED" in p
                                                 and p.split()[1] in downloaded)]
    assert not problems, problems


def test_clerk_certificate_and_incentive_pages_at_laptop_size(new_page, shot):
    """Screenshots of what the clerk prints from: the certificate list (QR warning, ticks), the preview and a
    batch's documents."""
    page = new_page("laptop")
    log_in(page, "kelurahan")
    page.goto("/kader/sertifikat/")
    expect(page.locator(".qr-warning")).to_contain_text("PUBLIC_BASE_URL")  # the demo runs on 127.0.0.1
    shot(page, "clerk-certificates", "laptop")
    boxes = page.locator("input[name=id][form=cetak-pilihan]")
    boxes.nth(0).check()
    boxes.nth(2).check()
    page.get_by_role("button", name="Pratinjau pilihan").click()
    expect(page.locator("article.cert-preview")).to_have_count(2)
    shot(page, "clerk-certificates-preview", "laptop")
    page.goto("/insentif/")
    shot(page, "clerk-incentives", "laptop")
    page.locator("table.list tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/insentif/\d+$"))
    shot(page, "clerk-incentive-batch", "laptop")
    assert not page.problems, page.problems


def test_tap_targets_are_44px_on_a_phone(new_page, live_server):
    """Issue 11: meja-5 vaccine rows were 25 px tall, report number links 16-19 px, the language switch 19 px."""
    from datetime import date, timedelta

    from posyandu.extensions import db
    from posyandu.models import Person, Posyandu, User
    from posyandu.services import session_day
    from posyandu.services.accounts import hash_password

    from .test_reports_flow import PASSWORD

    def queue_a_baby():
        # at a Posyandu of its own (the last one), so the session-day tests keep the demo Posyandu's queue
        demo = db.session.scalar(select(User).where(User.username == "kader"))
        pos = db.session.scalar(select(Posyandu).order_by(Posyandu.id.desc()).limit(1))
        kader = User(username="kader-sentuh", display_name=f"Kader {pos.name}", role="kader",
                     password_hash=hash_password(PASSWORD), district_id=demo.district_id, posyandu_id=pos.id)
        baby = Person(posyandu_id=pos.id, name="Bayi Uji Sentuh", sex="L", birth_date=date.today() - timedelta(days=300))
        db.session.add_all([kader, baby])
        db.session.commit()
        hb = session_day.open_session(kader, pos, date.today())
        visit = session_day.add_to_queue(kader, hb, baby)
        db.session.commit()
        return hb.id, visit.id

    app = live_server[0].flask_app
    with app.app_context():
        hb_id, visit_id = queue_a_baby()
        db.session.remove()
    page = new_page("phone")
    log_in(page, "kader-sentuh")
    small = "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect())" \
            ".filter(r => r.height < 44 || r.width < 44).length"
    page.goto(f"/hari-buka/{hb_id}/kunjungan/{visit_id}/meja/5")
    rows = page.locator("main label.check")
    assert rows.count() >= 3  # doses due, PMT, rujuk
    assert rows.evaluate_all(small) == 0
    assert page.locator("footer button").evaluate_all(small) == 0  # the language switch
    assert not page.problems, page.problems
    page = new_page("phone")
    log_in(page, "admin")
    page.goto("/laporan/")
    numbers = page.locator("ul.stats a, table.skdn td a")
    assert numbers.count() >= 10
    assert numbers.evaluate_all(small) == 0
    assert not page.problems, page.problems


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_opening_the_report_costs_three_requests(new_page, viewport):
    """Issue 11: the report page made 4 requests (the trend chart, as costly as the page, below the fold)."""
    page = new_page(viewport)
    log_in(page, "admin")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.clearBrowserCache")  # a first visit: the CSS and JS are fetched again
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto("/laporan/", wait_until="networkidle")
    expect(page.locator("table.skdn")).to_be_visible()
    assert len(seen) <= 3, seen
    with page.expect_response(lambda r: "/tren.svg" in r.url, timeout=20_000) as chart:
        page.locator("details.trend summary").click()  # the chart comes when it is asked for
    assert chart.value.ok
    img = page.locator("figure.chart img")
    expect(img).to_have_js_property("complete", True, timeout=20_000)
    assert img.evaluate("i => i.naturalWidth") > 0
    assert any("/tren.svg" in u for u in seen)
    assert not page.problems, page.problems
