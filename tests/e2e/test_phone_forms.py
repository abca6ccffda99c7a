"""Forms on a 360 px phone in Debian Chromium: a slim header; registration that asks the person's group's fields,
fills the birth date and sex from the NIK and puts the errors where the kader looks; a loading cue on a slow
link and a failed save said beside its button; the home-visit list with where to go. Without JavaScript every
field is there. Screenshots under /work/wt/screens/h5-meja-ux/ for a person to look at."""
import os
import re
import uuid

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from .test_meja_phone import SCREENS  # noqa: E402
from .test_registration_flow import count_named  # noqa: E402
from .helpers import log_in  # noqa: E402

NIK_GIRL_2024 = "6474015705240001"  # born 17-05-2024, a girl (day + 40)


def test_registration_on_a_phone(live_server, new_page):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = new_page("phone")
    log_in(page, "kader")
    header = page.locator("header.top").bounding_box()
    assert header["height"] <= 60, header  # a slim header: it took a quarter of the screen (185 px)
    page.goto("/sasaran/baru")
    form = page.locator("#register-form")
    child, pregnancy = form.locator("fieldset[data-show=child]"), form.locator("fieldset[data-show=pregnancy]")
    expect(child).to_be_hidden()  # no birth date yet: only what everyone needs
    expect(pregnancy).to_be_hidden()

    # An empty save: the error summary at the top of the form takes the focus and is on screen.
    form.locator("button[type=submit]").click()
    summary = page.locator("#register-form .error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("link", name="Nama lengkap")).to_be_visible()
    page.screenshot(path=str(SCREENS / "register-errors-360.png"), caret="initial")  # what the kader sees
    page.screenshot(path=str(SCREENS / "register-errors-360-full.png"), full_page=True, caret="initial")

    # NIK first: the birth date and sex fill themselves, and the child's fields appear (not the pregnancy's).
    form = page.locator("#register-form")
    form.locator("#nik").fill(NIK_GIRL_2024)
    expect(form.locator("#birth_date")).to_have_value("17-05-2024")
    expect(form.locator("input[name=sex][value=P]")).to_be_checked()
    expect(form.locator("fieldset[data-show=child]")).to_be_visible()
    expect(form.locator("fieldset[data-show=pregnancy]")).to_be_hidden()
    name = f"Bayi NIK {uuid.uuid4().hex[:6]}"
    form.locator("#name").fill(name)
    form.locator("#birth_weight_kg").fill("3,1")
    form.locator("#consent").check()
    form.locator("#consent_by").fill("Ibu Uji")
    form.locator("button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text(name)
    assert count_named(live_server, name) == 1

    # A woman of 30: the pregnancy's fields, not the child's.
    page.goto("/sasaran/baru")
    form = page.locator("#register-form")
    form.locator("#birth_date").fill("05-01-1996")
    form.locator("input[name=sex][value=P]").check()
    expect(form.locator("fieldset[data-show=pregnancy]")).to_be_visible()
    expect(form.locator("fieldset[data-show=child]")).to_be_hidden()
    assert page.problems == []


def test_slow_link_shows_a_cue_and_a_failed_save_is_said_beside_the_button(new_page):
    page = new_page("phone")
    log_in(page, "kader")
    page.goto("/sasaran/baru")
    held = []
    page.route(re.compile(r".*/sasaran/baru$"), lambda route: held.append(route) if route.request.method == "POST"
               else route.continue_())
    page.locator("#register-form #name").fill("Uji Sinyal")
    page.locator("#register-form button[type=submit]").click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bbusy\b"))
    expect(page.locator("#loading")).to_be_visible()
    assert len(held) == 1
    held[0].abort("internetdisconnected")
    failed = page.locator("#register-form .save-failed")
    expect(failed).to_contain_text("Belum tersimpan")
    expect(failed).to_be_in_viewport()
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bbusy\b"))
    page.screenshot(path=str(SCREENS / "register-save-failed-360.png"), caret="initial")
    page.unroute(re.compile(r".*/sasaran/baru$"))


def test_without_javascript_every_field_is_there_and_the_nik_fills_the_rest(live_server, new_page):
    page = new_page("phone", java_script_enabled=False)
    log_in(page, "kader")
    page.goto("/sasaran/baru")
    form = page.locator("#register-form")
    expect(form.locator("fieldset[data-show=child]")).to_be_visible()
    expect(form.locator("fieldset[data-show=pregnancy]")).to_be_visible()
    name = f"Bayi NIK Tanpa JS {uuid.uuid4().hex[:6]}"
    form.locator("#nik").fill("6474015805240002")  # another girl, born 18-05-2024
    form.locator("#name").fill(name)
    form.locator("#consent").check()
    form.locator("#consent_by").fill("Ibu Uji")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("main h1")).to_have_text(name)
    expect(page.locator("main")).to_contain_text("18 Mei 2024")


def test_home_visit_list_for_the_bidans_whole_area(new_page):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page = new_page("phone")
    log_in(page, "bidan")
    page.goto("/kunjungan-rumah/")
    expect(page.locator("h1")).to_contain_text("semua Posyandu")
    first = page.locator("ol.tasks li.task").first
    expect(first).to_be_visible()
    expect(first.locator(".where")).to_be_visible()
    expect(first.get_by_role("link", name="Catat kunjungan")).to_be_visible()
    page.screenshot(path=str(SCREENS / "home-visits-bidan-360.png"), caret="initial")
    page.screenshot(path=str(SCREENS / "home-visits-bidan-360-full.png"), full_page=True, caret="initial")
    first.get_by_role("link", name="Catat kunjungan").click()
    expect(page.locator("h1")).to_have_text("Catat kunjungan rumah")
    expect(page.locator(".visit-who .where")).to_be_visible()
    page.screenshot(path=str(SCREENS / "home-visit-record-360.png"), caret="initial")
    assert page.problems == []
