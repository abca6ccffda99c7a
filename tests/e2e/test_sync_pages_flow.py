"""Sync pages in Debian Chromium (issue 14). On the district: a laptop's push leaves a conflict (the phone changed on
both sides); the kelurahan clerk finds it under *Konflik sinkron*, picks the values and saves. On a laptop: the
*Sinkronkan* page, whose button runs a sync in the background; the server cannot be reached, so it says GAGAL."""
import json
import os
import re
import uuid

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from sqlalchemy import select  # noqa: E402

from posyandu.extensions import db  # noqa: E402
from posyandu.models import Job, Person, SyncCase, SyncRow, User  # noqa: E402
from tests.sync_helpers import api  # noqa: E402

from .helpers import log_in  # noqa: E402
from .test_registration_flow import in_app  # noqa: E402


def push_conflict(live_server, skip: int):
    """A laptop of the ketua's Posyandu changes a child's phone and RT; the district changed the phone meanwhile.
    Returns (case id, the child's name)."""
    def go():
        from posyandu.sync import devices

        app = live_server[0].flask_app
        ketua = db.session.scalar(select(User).where(User.username == "ketua"))
        child = db.session.scalar(select(Person).where(Person.posyandu_id == ketua.posyandu_id,
                                                       Person.deleted_at.is_(None), Person.left_on.is_(None),
                                                       Person.mother_id.is_not(None))
                                  .order_by(Person.id).offset(skip).limit(1))
        dev, code = devices.register(None, f"Laptop Posyandu E2E {skip}", ketua.posyandu_id)
        db.session.commit()
        cred = api(app, "POST", "/enrol", {"code": code, "label": "e2e"})[1]["credential"]
        base = db.session.scalar(select(SyncRow.seq).where(SyncRow.entity == "person", SyncRow.uuid == child.uuid))
        old_phone, old_rt = child.phone, child.rt
        child.phone = "0811-1111-222"  # the district's edit
        db.session.commit()
        data = {"posyandu": child.posyandu.uuid, "name": child.name, "sex": child.sex,
                "birth_date": child.birth_date.isoformat(), "mother": child.mother.uuid, "phone": "0822-3333-444",
                "rt": "009"}
        change = {"id": str(uuid.uuid4()), "entity": "person", "uuid": child.uuid, "base": base or 0,
                  "at": "2026-12-02T09:00:00", "data": data, "changed": {"phone": old_phone, "rt": old_rt}}
        answer = api(app, "POST", "/push", {"changes": [change]}, credential=cred)[1]["results"][0]
        assert (answer["status"], answer["code"]) == ("conflict", "edited_on_both"), answer
        case = db.session.scalar(select(SyncCase).where(SyncCase.person_id == child.id, SyncCase.status == "open"))
        return case.id, child.name, child.id
    return in_app(live_server, go)


@pytest.mark.parametrize("js", [True, False])
def test_the_clerk_resolves_a_conflict(live_server, new_page, shot, js):
    case_id, name, child_id = push_conflict(live_server, 0 if js else 1)
    suffix = "js" if js else "nojs"
    page = new_page("phone" if js else "laptop", java_script_enabled=js)
    log_in(page, "kelurahan")
    page.get_by_role("link", name=re.compile(r"Konflik sinkron \(\d+\)")).click()
    expect(page.locator("h1")).to_have_text("Konflik sinkron")
    row = page.locator(f"#case-{case_id}")
    expect(row).to_contain_text(name)
    shot(page, f"sync-cases-{suffix}", "phone" if js else "laptop")
    row.get_by_role("link", name="Putuskan").click()
    expect(page.locator("#field-phone")).to_contain_text("0811-1111-222")
    expect(page.locator("#field-phone")).to_contain_text("0822-3333-444")
    expect(page.locator("#field-rt input[value=laptop]")).to_be_checked()  # only the laptop changed the RT
    shot(page, f"sync-case-{suffix}", "phone" if js else "laptop")
    page.locator("#field-phone input[value=laptop]").check()
    page.get_by_role("button", name="Simpan keputusan").click()
    expect(page).to_have_url(re.compile(r"/konflik-sinkron/$"))
    expect(page.locator(".flash.success")).to_contain_text("Keputusan disimpan")
    expect(page.locator(f"#case-{case_id}")).to_contain_text("satu orang")  # now under "Baru diputuskan"
    assert page.problems == []

    def stored():
        p = db.session.get(Person, child_id)
        return p.phone, p.rt
    assert in_app(live_server, stored) == ("0822-3333-444", "009")


def test_the_laptop_page_tells_a_failed_sync(live_server, new_page, shot, tmp_path):
    app = live_server[0].flask_app
    cred = tmp_path / "sync.json"
    cred.write_text(json.dumps({"url": "http://127.0.0.1:9", "device": "e2e-device", "credential": "e2e:t",
                                "name": "Laptop Posyandu Mawar", "scope": {"kind": "posyandu", "id": 1,
                                                                           "name": "Posyandu Mawar"}}))
    saved = dict(app.config)
    app.config["SYNC_CREDENTIAL_FILE"] = str(cred)
    try:
        for viewport in ("phone", "laptop"):
            page = new_page(viewport)
            log_in(page, "ketua")
            page.goto("/sinkronkan/")
            expect(page.locator("h1")).to_have_text("Sinkronkan")
            def newest():
                return db.session.scalar(select(Job.id).where(Job.kind == "sync_run").order_by(Job.id.desc()).limit(1))
            before = in_app(live_server, newest)
            page.locator("#sync-now").click()
            for _ in range(200):  # the job this click started (an earlier run's failure may be on the page)
                job_id = in_app(live_server, newest)
                if job_id != before:
                    break
                page.wait_for_timeout(100)
            expect(page.locator(f'#sync-status[data-job="{job_id}"]')).to_have_count(1)  # the page follows it …
            expect(page.locator("#sync-running")).to_have_count(0, timeout=20000)  # … until it ends
            expect(page.locator("#sync-failed")).to_contain_text("GAGAL")
            expect(page.locator("#sync-failed")).to_contain_text("tidak ada koneksi")
            expect(page.locator("#sync-ok")).to_have_count(0)
            shot(page, "sync-laptop", viewport)
            assert page.problems == []
    finally:
        app.config["SYNC_CREDENTIAL_FILE"] = saved["SYNC_CREDENTIAL_FILE"]
        app.config["SYNC_LAPTOP"] = saved["SYNC_LAPTOP"]


def push_same_nik(live_server):
    """Two laptops of the ketua's Posyandu register one NIK for two girls born a day apart: (case id, names)."""
    def go():
        from posyandu.sync import devices

        app = live_server[0].flask_app
        ketua = db.session.scalar(select(User).where(User.username == "ketua"))
        mother = db.session.scalar(select(Person).where(Person.posyandu_id == ketua.posyandu_id,
                                                        Person.sex == "P", Person.mother_id.is_(None),
                                                        Person.deleted_at.is_(None)).order_by(Person.id).limit(1))
        creds = []
        for n in (1, 2):
            dev, code = devices.register(None, f"Laptop Meja {n}", ketua.posyandu_id)
            db.session.commit()
            creds.append(api(app, "POST", "/enrol", {"code": code, "label": "e2e"})[1]["credential"])
        posyandu = mother.posyandu.uuid
        answers = []
        for cred, name, born in ((creds[0], "Nur Aisyah", "2025-03-14"), (creds[1], "Nur Azizah", "2025-03-15")):
            change = {"id": str(uuid.uuid4()), "entity": "person", "uuid": str(uuid.uuid4()), "base": 0,
                      "data": {"posyandu": posyandu, "name": name, "sex": "P", "nik": "6474015403250009",
                               "birth_date": born, "mother": mother.uuid}}
            answers.append(api(app, "POST", "/push", {"changes": [change]}, credential=cred)[1]["results"][0])
        assert answers[1]["code"] == "same_nik", answers
        return db.session.scalar(select(SyncCase.id).where(SyncCase.kind == "same_nik", SyncCase.status == "open"))
    return in_app(live_server, go)


def test_the_clerk_keeps_two_people_apart(live_server, new_page, shot):
    case_id = push_same_nik(live_server)
    page = new_page("laptop")
    log_in(page, "kelurahan")
    page.goto(f"/konflik-sinkron/{case_id}")
    expect(page.locator("#side-1")).to_contain_text("Nur Aisyah")
    expect(page.locator("#side-2")).to_contain_text("Nur Azizah")
    expect(page.locator("#side-2")).to_contain_text("Laptop Meja 2")
    shot(page, "sync-case-same-nik", "laptop")
    page.set_viewport_size({"width": 360, "height": 740})
    shot(page, "sync-case-same-nik", "phone")
    page.locator("#apart-form input[value=laptop]").check()
    page.locator("#new-nik").fill("6474015503250001")
    page.get_by_role("button", name="Simpan: dua orang berbeda").click()
    expect(page.locator(".flash.success")).to_contain_text("dua orang")
    assert page.problems == []

    def niks():
        return dict(db.session.execute(select(Person.name, Person.nik).where(Person.name.in_(("Nur Aisyah",
                                                                                              "Nur Azizah")))).all())
    assert in_app(live_server, niks) == {"Nur Aisyah": "6474015403250009", "Nur Azizah": "6474015503250001"}
