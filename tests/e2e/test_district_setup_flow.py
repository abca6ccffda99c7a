"""Issue 12's Done-when in Debian Chromium: starting from an installation with one district (the Bontang demo),
the installation admin creates a second district and its first admin; that admin builds kecamatan → desa →
Puskesmas → Posyandu (with its SK) in the browser, each appearing where the next step needs it; and nothing of
district one changed (its report numbers are the same before and after)."""
import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from .helpers import PASSWORD  # noqa: E402

NEW_PASSWORD = "tenggarong-2026"
SLOW = 20_000  # a login hashes a password: on a busy test machine it can take longer than the 5 s default


def _district_one_numbers(page) -> str:
    """The SKDN table of district one's report page, fetched with the browser's session (not rendered: the page's
    lazy chart would still be loading when the walk moves on)."""
    resp = page.request.get("/laporan/")
    assert resp.status == 200
    html = resp.text()
    assert "Kota Bontang" in html
    table = re.search(r'<table class="[^"]*skdn.*?</table>', html, re.S)
    assert table is not None and "<td" in table.group(0)
    return table.group(0)


def _log_out(page) -> None:
    page.get_by_role("button", name="Keluar").click()
    # The login page itself (the account form before it has a #username too): a login posted while the logout's
    # redirect still loads would carry the CSRF token of a session that is being replaced.
    expect(page.locator("h1")).to_have_text("Masuk", timeout=SLOW)
    page.wait_for_load_state()


def _log_in(page, username: str, password: str = PASSWORD, heading: str = "Selamat datang") -> None:
    """helpers.log_in with room for a busy machine (each login hashes a password)."""
    page.goto("/masuk")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("h1")).to_contain_text(heading, timeout=SLOW)


def _select(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).select_option(label=option)


def test_a_second_district_from_nothing_in_the_browser(new_page):
    page = new_page("laptop")
    _log_in(page, "admin")
    before = _district_one_numbers(page)
    _log_out(page)

    # The installation admin: her home is the list of districts.
    _log_in(page, "provinsi", heading="Kabupaten/kota di server ini")
    expect(page.locator("table.list")).to_contain_text("Kota Bontang")
    page.get_by_role("link", name="+ Kabupaten/kota baru").click()
    page.get_by_label("Nama kabupaten/kota").fill("Kabupaten Kutai Kartanegara")
    page.get_by_label("Kabupaten", exact=True).check()
    page.get_by_label("Kode wilayah").fill("64.02")
    page.get_by_label("Nama pengguna admin").fill("dpmd_kukar")
    page.get_by_label("Nama lengkap admin").fill("Admin DPMD Kukar")
    page.get_by_label("Kata sandi awal").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Buat kabupaten/kota dan admin").click()  # hashes the initial password
    expect(page.locator("h1")).to_have_text("Kabupaten Kutai Kartanegara", timeout=SLOW)
    expect(page.locator("main")).to_contain_text("dpmd_kukar")
    # She sees no district's data.
    assert page.request.get("/sasaran/").status == 403  # with her session cookie, outside the page's console
    _log_out(page)

    # The new district admin builds her tree.
    _log_in(page, "dpmd_kukar", NEW_PASSWORD)
    page.locator("header nav").get_by_role("link", name="Wilayah").click()
    expect(page.locator("main")).not_to_contain_text("Bontang")
    page.get_by_role("link", name="+ Kecamatan").click()
    page.get_by_label("Nama kecamatan").fill("Tenggarong")
    page.get_by_label("Kode wilayah").fill("640206")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("main h2", has_text="Kecamatan Tenggarong")).to_be_visible()  # it shows up at once

    page.get_by_role("link", name="+ Kelurahan/desa").click()
    # The new kecamatan is in the desa form, already chosen from its card.
    expect(page.get_by_label("Kecamatan", exact=True).locator("option:checked")).to_have_text("Tenggarong")
    page.get_by_label("Nama kelurahan/desa").fill("Bukit Pariaman")
    page.get_by_label("Desa", exact=True).check()
    page.get_by_label("Kode desa/kelurahan").fill("6402062011")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("main table.list")).to_contain_text("Bukit Pariaman")

    page.get_by_role("link", name="+ Puskesmas").click()
    _select(page, "Kecamatan", "Tenggarong")
    page.get_by_label("Nama Puskesmas").fill("Puskesmas Tenggarong")
    page.get_by_role("button", name="Simpan").click()
    # The new Puskesmas serves the desa: chosen in the desa's form.
    page.locator("main table.list").get_by_role("link", name="ubah").first.click()
    _select(page, "Puskesmas yang melayani", "Puskesmas Tenggarong")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("main table.list")).to_contain_text("Puskesmas Tenggarong")

    page.get_by_role("link", name="Bukit Pariaman").click()
    page.get_by_role("link", name="+ Posyandu").click()
    page.get_by_label("Nama Posyandu").fill("Mawar Bukit Pariaman")
    expect(page.get_by_label("Kelurahan/desa", exact=True).locator("option:checked")).to_have_text("Bukit Pariaman")
    page.get_by_label("Nomor registrasi").fill("P.6402.06.2011.01")
    page.get_by_label("Nomor SK pembentukan").fill("141/SK-KADES/BP/2024")
    page.get_by_label("Tanggal SK pembentukan").fill("2024-03-04")
    page.get_by_label("Tanggal", exact=True).fill("12")
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator("h1")).to_contain_text("Mawar Bukit Pariaman")
    expect(page.locator("main")).to_contain_text("141/SK-KADES/BP/2024")
    # The new desa is offered to the account form (its clerk is the next account to invite).
    page.goto("/akun/baru")
    expect(page.get_by_label("Kelurahan/desa (untuk petugas kelurahan)")).to_contain_text("Bukit Pariaman")
    _log_out(page)

    # Nothing of district one changed.
    _log_in(page, "admin")
    assert _district_one_numbers(page) == before
    expect(page.locator("main")).not_to_contain_text("Tenggarong")
    assert page.problems == []
