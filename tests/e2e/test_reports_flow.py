"""The district admin in Debian Chromium: from the district dashboard down to a kecamatan, a kelurahan, a
Posyandu and into the list of children behind a number of its SKDN table. With and without JavaScript;
screenshots at laptop and phone size."""
import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from .helpers import log_in, open_today  # noqa: E402

PASSWORD = "posyandu-demo"


@pytest.mark.parametrize("viewport,js", [("laptop", True), ("phone", True), ("laptop", False)])
def test_district_dashboard_to_the_children_behind_a_number(new_page, shot, viewport, js):
    page = new_page(viewport, java_script_enabled=js)
    log_in(page, "admin")
    page.locator("header nav").get_by_role("link", name="Laporan", exact=True).click()  # not "Status laporan"
    expect(page.locator("h1")).to_contain_text("Laporan bulanan: Kota Bontang")
    expect(page.locator("table.skdn")).to_be_visible()
    page.locator("details.trend summary").click()  # the chart is fetched when opened (request budget)
    trend = page.locator("figure.chart img")
    expect(trend).to_be_visible()
    # The chart is its own request (lazy below the fold on a phone, and slow to compute on a busy machine):
    # scroll to it and wait until the SVG has loaded rather than asserting at once.
    trend.scroll_into_view_if_needed()
    # (Not wait_for_function: when its first check fails it polls by eval, which the page's CSP rightly refuses.)
    expect(trend).to_have_js_property("complete", True, timeout=20_000)
    assert trend.evaluate("img => img.naturalWidth") > 0
    suffix = "" if js else "-nojs"
    shot(page, f"report-district{suffix}", viewport)

    page.get_by_role("link", name="Bontang Utara").first.click()
    expect(page.locator("h1")).to_contain_text("Bontang Utara")
    page.get_by_role("link", name="Api-Api").first.click()
    expect(page.locator("h1")).to_contain_text("Api-Api")
    posyandu = page.locator("table.list").last.locator("tbody a").first
    name = posyandu.inner_text()
    posyandu.click()
    expect(page.locator("h1")).to_contain_text(name)
    shot(page, f"report-posyandu{suffix}", viewport)

    # the D total of the SKDN table, then its list of children
    d_row = page.locator("table.skdn tbody tr").nth(2)
    total = d_row.locator("td").last.inner_text().strip()
    d_row.locator("td").last.locator("a").click()
    expect(page.locator("h1")).to_contain_text("D · ditimbang")
    expect(page.locator("p.muted strong")).to_have_text(total)
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    assert re.search(r"/laporan/posyandu/\d+/daftar/D\?bulan=", page.url)
    shot(page, f"report-list{suffix}", viewport)
    assert page.problems == []


def test_a_baby_registered_and_weighed_shows_in_the_district_report_and_its_lists_at_once(live_server, new_page,
                                                                                          shot):
    """The district report of the open month and its lists are kept per Posyandu between views (issue 15): a
    kader registering a baby, then weighing her at meja 2, must show in both at the admin's next view."""
    from .test_registration_flow import fill_baby, in_app
    from .test_session_day_flow import open_from_queue, search_and_queue

    admin = new_page("laptop")
    log_in(admin, "admin")

    def report_and_list(row: int) -> tuple[int, int]:
        """The district's total in one row of the SKDN table (0: S, 2: D) and the total of its list."""
        admin.locator("header nav").get_by_role("link", name="Laporan", exact=True).click()
        expect(admin.locator("table.skdn")).to_be_visible()
        cell = admin.locator("table.skdn tbody tr").nth(row).locator("td").last
        total = int(re.sub(r"\D", "", cell.inner_text()))
        cell.locator("a").click()
        expect(admin).to_have_url(re.compile(r"/laporan/kabupaten/daftar/(S|D)\?"))
        return total, int(re.sub(r"\D", "", admin.locator("p.muted strong").inner_text()))

    s0, d0 = report_and_list(0), report_and_list(2)
    assert s0[0] == s0[1] and d0[0] == d0[1]

    name = "Bayi Laporan Kabupaten"
    kader = new_page("phone")
    log_in(kader, "kader")
    kader.locator("header nav").get_by_role("link", name="Sasaran").click()
    kader.locator(".head-row").get_by_role("link", name="Daftar baru").click()
    fill_baby(kader, name)
    kader.locator("#register-form button[type=submit]").click()
    expect(kader.locator("h1")).to_have_text(name)
    assert report_and_list(0) == (s0[0] + 1, s0[1] + 1)
    assert report_and_list(2) == d0

    ketua, hb_id = open_today(new_page)
    kader.goto(f"/hari-buka/{hb_id}/meja/1")
    search_and_queue(kader, name).get_by_role("button", name="Antri").click()
    expect(kader.locator(".flash.success")).to_contain_text(f"{name}: nomor antrian")
    open_from_queue(kader, hb_id, 2, name)
    form = kader.locator("#meja2-form")
    form.locator("#weight_kg").fill("3.3")
    form.locator("#length_cm").fill("50.5")
    form.locator("input[name=position][value=l]").check()
    form.get_by_role("button", name="Simpan dan lanjut").click()
    expect(kader.locator(".flash.success")).to_contain_text(f"Pengukuran {name} disimpan")

    try:
        assert report_and_list(2) == (d0[0] + 1, d0[1] + 1)
        shot(admin, "report-list-after-meja2", "laptop")
        assert admin.problems == [] and kader.problems == [] and ketua.problems == []
    finally:
        in_app(live_server, lambda: _remove(name))  # today's queue as the session-day test expects it


def _remove(name: str) -> None:
    """Take a person made by a test out of the shared demo again: her weighings, her visits, herself."""
    from sqlalchemy import select

    from posyandu.extensions import db
    from posyandu.models import Measurement, Person, Visit

    person = db.session.scalar(select(Person).where(Person.name == name))
    for model in (Measurement, Visit):
        for row in db.session.scalars(select(model).where(model.person_id == person.id)):
            db.session.delete(row)
    db.session.flush()
    db.session.delete(person)
    db.session.commit()
