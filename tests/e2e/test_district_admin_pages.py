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
