"""Steps every e2e walk takes the way a person does them (imported after the playwright import check)."""
from playwright.sync_api import expect

from posyandu.seed import DEMO_PASSWORD as PASSWORD


def log_in(page, username: str) -> None:
    """Type the username and password on the login page and wait for the welcome page."""
    page.goto("/masuk")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("h1")).to_contain_text("Selamat datang")


def open_today(new_page) -> tuple:
    """The ketua logs in on a phone and opens today's hari buka (the same day comes back if it is open already);
    returns her page and the hari buka's id."""
    import re

    ketua = new_page("phone")
    log_in(ketua, "ketua")
    ketua.goto("/hari-buka/")
    ketua.get_by_role("button", name="Buka hari buka").click()
    expect(ketua).to_have_url(re.compile(r"/hari-buka/\d+$"))
    return ketua, int(ketua.url.rsplit("/", 1)[1])
