"""The district admin in Debian Chromium: from the district dashboard down to a kecamatan, a kelurahan, a
Posyandu and into the list of children behind a number of its SKDN table. With and without JavaScript;
screenshots at laptop and phone size."""
import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from .helpers import log_in  # noqa: E402

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
