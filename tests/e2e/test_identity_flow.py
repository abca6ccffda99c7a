"""One person, one record in Debian Chromium: a kader types the NIK of a child registered at another Posyandu,
sees only the initial and "terdaftar di Posyandu lain", asks for the transfer; the kelurahan approves it.
With and without JavaScript."""
import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from posyandu.extensions import db  # noqa: E402
from posyandu.models import Person, PersonTransfer, Posyandu, User  # noqa: E402

from .test_registration_flow import in_app  # noqa: E402
from .helpers import log_in  # noqa: E402


def child_next_door(live_server, skip: int):
    """A balita with a NIK at another Posyandu of the kader's kelurahan: (id, nik, name, birth, sex)."""
    def pick():
        kader = db.session.scalar(select(User).where(User.username == "kader"))
        own = db.session.get(Posyandu, kader.posyandu_id)
        q = (select(Person).join(Posyandu).where(Posyandu.kelurahan_id == own.kelurahan_id, Person.posyandu_id != own.id,
                                                 Person.nik.is_not(None), Person.mother_id.is_not(None),
                                                 Person.deleted_at.is_(None), Person.left_on.is_(None))
             .order_by(Person.id).offset(skip).limit(1))
        p = db.session.scalar(q)
        return p.id, p.nik, p.name, p.birth_date, p.sex
    return in_app(live_server, pick)


@pytest.mark.parametrize("js", [True, False])
def test_a_nik_registered_next_door_becomes_a_transfer(live_server, new_page, shot, js):
    pid, nik, name, birth, sex = child_next_door(live_server, 0 if js else 1)
    suffix = "js" if js else "nojs"
    page = new_page("phone", java_script_enabled=js)
    log_in(page, "kader")
    page.goto("/sasaran/baru")
    page.locator("#nik").fill(nik)
    page.locator("#name").fill(name)
    page.locator("#birth_date").fill(birth.strftime("%d-%m-%Y"))
    page.locator(f"input[name=sex][value={sex}]").check()
    page.locator("#register-form button[type=submit].primary").click()
    banner = page.locator("#register-form .banner.warn")
    expect(banner).to_contain_text("terdaftar di Posyandu lain")
    expect(banner).not_to_contain_text(name)  # only the initial
    expect(page.locator("#nik-error").first).to_contain_text("NIK ini sudah terdaftar")
    shot(page, f"identity-duplicate-{suffix}", "phone")

    banner.get_by_role("button", name="minta pindah ke sini").click()
    expect(page.locator("#transfer-form")).to_be_visible()
    page.locator("#moved_on").fill("20-11-2026")
    page.locator("#transfer-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/pindah/$"))
    expect(page.locator("main table")).to_contain_text("menunggu persetujuan")
    shot(page, f"identity-transfers-{suffix}", "phone")

    clerk = new_page("laptop", java_script_enabled=js)
    log_in(clerk, "kelurahan")
    clerk.goto("/pindah/")
    row = clerk.locator("main tr", has_text=name)
    row.get_by_role("button", name="Setujui").click()
    expect(clerk.locator(".flash.success")).to_contain_text("Pindah disetujui")
    shot(clerk, f"identity-approved-{suffix}", "laptop")

    def state():
        t = db.session.scalar(select(PersonTransfer).where(PersonTransfer.person_id == pid))
        live = db.session.scalar(select(func.count()).where(Person.nik == nik, Person.deleted_at.is_(None),
                                                            Person.left_on.is_(None)))
        kader = db.session.scalar(select(User).where(User.username == "kader"))
        return t.status, db.session.get(Person, pid).posyandu_id == kader.posyandu_id, live
    assert in_app(live_server, state) == ("approved", True, 1)
    page.goto(f"/sasaran/{pid}")
    expect(page.locator("main h1")).to_have_text(name)
    assert page.problems == [] and clerk.problems == []
