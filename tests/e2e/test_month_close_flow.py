"""A ketua on a 360 px phone sends last month's report: from her home page one tap to the month's review page
(what is missing, the deadline), then *Kirim laporan*. The district admin looks at the overview. Screenshots of
the review page and the overview at phone and laptop size for a person to look at."""
import os
import re
from pathlib import Path

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from posyandu.domain.reports import shift_month  # noqa: E402
from posyandu.extensions import db  # noqa: E402
from posyandu.models import Person, Posyandu, User  # noqa: E402
from posyandu.seed import DEMO_PASSWORD  # noqa: E402

from .helpers import log_in  # noqa: E402
from .test_registration_flow import in_app  # noqa: E402

SHOTS = Path(os.environ.get("POSYANDU_MONTH_SHOTS", "/tmp/close-ui-shots"))


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, caret="initial")


@pytest.fixture(scope="module")
def ketua_with_month_due(live_server):
    """A ketua of a Posyandu of her own (not the demo one, which other walks use), whose months before the one due
    now are sent (as the seed may or may not have closed them) and the month due is open."""
    def arrange():
        from posyandu.services import month_views, months
        from posyandu.services.accounts import hash_password

        admin = db.session.scalar(select(User).where(User.username == "admin"))
        demo = db.session.scalar(select(User).where(User.username == "ketua"))
        # The Posyandu with the most people after the demo one: its review page has something to show.
        pos = db.session.scalar(select(Posyandu).outerjoin(Person, Person.posyandu_id == Posyandu.id)
                                .where(Posyandu.id != demo.posyandu_id, Posyandu.active.is_(True))
                                .group_by(Posyandu.id).order_by(func.count(Person.id).desc(), Posyandu.id).limit(1))
        due = month_views.due_month(months.local_date(months.utcnow()))
        first = months.first_month(pos.id) or due
        m = first
        while m < due:
            if months.state_of(pos.id, m) == "open":
                months.submit(admin, pos, m)
            m = shift_month(m, 1)
        if months.state_of(pos.id, due) != "open":
            months.reopen(admin, pos, due, "Uji e2e: kirim ulang")
        user = User(username="ketua-bulan", display_name="Ketua Bulan", role="ketua",
                    password_hash=hash_password(DEMO_PASSWORD), district_id=admin.district_id, posyandu_id=pos.id)
        db.session.add(user)
        db.session.commit()
        return {"posyandu_id": pos.id, "name": pos.name, "due": f"{due.year:04d}-{due.month:02d}"}
    return in_app(live_server, arrange)


def test_ketua_sends_the_month_from_her_home_page_on_a_phone(new_page, ketua_with_month_due):
    info = ketua_with_month_due
    page = new_page("phone")
    log_in(page, "ketua-bulan")
    due_link = page.locator("p.month-due a")
    expect(due_link).to_contain_text("belum dikirim")
    due_link.click()  # one tap from the home page
    expect(page).to_have_url(re.compile(rf"/bulan/{info['posyandu_id']}/{info['due']}$"))
    expect(page.locator("h1")).to_contain_text("Laporan bulan")
    expect(page.locator(".month-missing h2")).to_contain_text("Yang masih kurang")
    expect(page.locator(".facts")).to_contain_text("Batas tepat waktu")
    assert _wide(page) <= 0, "the review page is wider than the phone"
    _shot(page, "review-before-360")
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.locator("p.flash.success")).to_contain_text("Laporan dikirim.")
    expect(page.locator(".facts")).to_contain_text("dikirim")
    expect(page.locator(".month-timeline")).to_contain_text("Ketua Bulan")
    expect(page.get_by_role("button", name="Kirim laporan")).to_have_count(0)
    _shot(page, "review-360")
    assert not page.problems, page.problems


def test_review_and_overview_at_laptop_and_phone_size(new_page, ketua_with_month_due):
    info = ketua_with_month_due
    for viewport, width in (("laptop", 1366), ("phone", 360)):
        page = new_page(viewport)
        log_in(page, "admin")
        page.locator("header nav").get_by_role("link", name="Tutup bulan").click()
        expect(page.locator("h1")).to_contain_text("Status laporan bulanan")
        expect(page.locator("ul.stats")).to_contain_text("mengirim laporan")
        assert _wide(page) <= 0, f"the overview is wider than the screen at {width}"
        _shot(page, f"overview-{width}")
        page.goto(f"/bulan/{info['posyandu_id']}/{info['due']}")
        expect(page.locator("h1")).to_contain_text("Laporan bulan")
        assert _wide(page) <= 0, f"the review page is wider than the screen at {width}"
        if width == 1366:
            _shot(page, "review-1366")
        assert not page.problems, page.problems
