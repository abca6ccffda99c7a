"""The district admin's own pages in Debian Chromium (issue 12): the settings with the district's certificate and
commitment texts, the registration-completeness report downloaded as XLSX the way a clerk does it, and an account
invitation opened, a password set and used to log in."""
import os

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from .helpers import log_in  # noqa: E402

SLOW = 20_000  # a login hashes a password: on a busy test machine it can take longer than the 5 s default


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_settings_show_the_certificate_and_commitment_texts(new_page, shot, viewport):
    page = new_page(viewport)
    log_in(page, "admin")
    page.goto("/pengaturan/")
    expect(page.locator("#commitment_body")).to_contain_text("berkomitmen")
    page.locator("summary", has_text="Piagam Penghargaan").click()
    expect(page.locator("#cert_piagam_body")).to_be_visible()
    shot(page, "district-settings", viewport)
    assert not page.problems, page.problems


def _log_out(page) -> None:
    page.get_by_role("button", name="Keluar").click()
    expect(page.locator("h1")).to_have_text("Masuk", timeout=SLOW)
    page.wait_for_load_state()


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_an_invited_kader_sets_her_password_from_the_link_and_logs_in(new_page, shot, viewport):
    username = f"kader-undangan-{viewport}"
    page = new_page(viewport)
    log_in(page, "admin")
    page.goto("/akun/baru")
    page.locator("#username").fill(username)
    page.locator("#display_name").fill("Kader Undangan")
    page.locator("#role").select_option("kader")
    page.locator("#posyandu_id").select_option(index=1)
    page.get_by_role("button", name="Simpan").click()
    link_box = page.locator("#invitation-link")
    expect(link_box).to_be_visible(timeout=SLOW)
    link = link_box.input_value()
    assert "/undangan/" in link
    copy = page.get_by_role("button", name="Salin tautan")
    expect(copy).to_be_visible()  # with JavaScript, a button copies it
    copy.click()
    expect(page.get_by_role("button", name="Tersalin")).to_be_visible()
    shot(page, "invitation-created", viewport)
    _log_out(page)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("Buat kata sandi")
    expect(page.locator("#invited-username")).to_have_text(username)
    assert "/undangan/" not in page.url  # the token left the address bar
    page.locator("#new").fill("pendek")
    page.locator("#confirm").fill("pendek")
    page.get_by_role("button", name="Simpan kata sandi").click()
    expect(page.locator("p.error").first).to_be_visible()
    page.locator("#new").fill("sandi-kader-sendiri")
    page.locator("#confirm").fill("sandi-kader-sendiri")
    shot(page, "invitation-set-password", viewport)
    page.get_by_role("button", name="Simpan kata sandi").click()
    expect(page.locator("h1")).to_have_text("Masuk", timeout=SLOW)
    page.locator("#username").fill(username)
    page.locator("#password").fill("sandi-kader-sendiri")
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("h1")).not_to_have_text("Masuk", timeout=SLOW)
    # The link works once.
    page.goto(link)
    expect(page.locator("#invitation-reason")).to_contain_text("sudah dipakai")
    shot(page, "invitation-used", viewport)
    assert not [p for p in page.problems if "410" not in p], page.problems


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_a_clerk_downloads_the_completeness_report_as_xlsx(new_page, shot, viewport, tmp_path):
    import csv
    import io

    from openpyxl import load_workbook

    page = new_page(viewport)
    log_in(page, "kelurahan")
    page.goto("/lembaga/kelengkapan")
    expect(page.locator("h1")).to_be_visible()
    shot(page, "completeness", viewport)
    with page.expect_download() as info:
        page.get_by_role("link", name="Unduh XLSX").click()
    download = info.value
    assert download.suggested_filename.startswith("registrasi-posyandu-")
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    ws = load_workbook(path).active
    sheet = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(min_row=3, values_only=True)]
    csv_text = page.request.get("/lembaga/kelengkapan?format=csv").body().decode("utf-8-sig")
    assert sheet == list(csv.reader(io.StringIO(csv_text))) and len(sheet) > 1
    assert not page.problems, page.problems


@pytest.mark.parametrize("viewport", ["phone", "laptop"])
def test_the_kit_totals_page(new_page, shot, viewport):
    page = new_page(viewport)
    log_in(page, "admin")
    page.goto("/inventaris/")
    expect(page.locator("h1")).to_have_text("Inventaris Posyandu")
    shot(page, "kit-totals", viewport)
    assert not page.problems, page.problems
