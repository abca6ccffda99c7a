"""A session day in Debian Chromium with two phones: the kader at meja 1 queues a balita and an ibu hamil by
active search; the bidan's phone, left open on meja 2, sees them arrive through polling (no reload), then takes
both through meja 2–5. Also: an implausible weight must be confirmed before it is kept. Screenshots of every
meja at phone size, meja 3 also at laptop size."""
import os
import re
from datetime import date

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect
from sqlalchemy import func, select

from posyandu.domain import immunisation
from posyandu.extensions import db
from posyandu.models import HariBuka, Measurement, Person, ServiceRecord, User, Visit
from posyandu.services import people

from .conftest import VIEWPORTS
from .helpers import log_in, open_today
from .test_registration_flow import in_app

POLL_WAIT = 8000  # the queue polls every 5 s


@pytest.fixture(scope="module")
def cast(live_server):
    """Who comes today at the demo Posyandu: a balita with an immunisation due today (the demo's children have
    their doses, so one whose age just reached a dose) and another balita, both measured before (one for the full
    flow, one for the implausible weight), and an ibu hamil; none queued yet."""
    def pick():
        kader = db.session.scalar(select(User).where(User.username == "kader"))
        today = date.today()
        queued = select(Visit.person_id).join(HariBuka).where(HariBuka.held_on == today)
        persons = db.session.scalars(select(Person).where(Person.posyandu_id == kader.posyandu_id,
                                                          Person.deleted_at.is_(None), Person.id.not_in(queued))
                                     .order_by(Person.name)).all()
        schedule = immunisation.load_schedule()
        balita, ibu = [], None
        for p in persons:
            group = people.group_of(p, today)
            if group == "ibu_hamil" and ibu is None:
                ibu = {"id": p.id, "name": p.name}
            if group != "balita" or (today - p.birth_date).days < 200:
                continue
            given = {r.code: r.given_on for r in db.session.scalars(
                select(ServiceRecord).where(ServiceRecord.person_id == p.id, ServiceRecord.kind == "imunisasi",
                                            ServiceRecord.deleted_at.is_(None)))}
            doses = immunisation.due_doses(schedule, p.birth_date, today, given)
            last = db.session.scalar(select(Measurement).where(Measurement.person_id == p.id,
                                                               Measurement.weight_kg.is_not(None),
                                                               Measurement.length_cm.is_not(None))
                                     .order_by(Measurement.measured_on.desc()).limit(1))
            if last is not None:
                balita.append({"id": p.id, "name": p.name, "weight": last.weight_kg, "length": last.length_cm,
                               "position": last.position or ("l" if (today - p.birth_date).days < 731 else "h"),
                               "due": any(d.status in ("due", "overdue") for d in doses)})
        due = [b for b in balita if b["due"]]
        assert due and len(balita) >= 2 and ibu, "the demo Posyandu needs a balita with a dose due, another and an ibu hamil"
        return {"balita": due[0], "other": next(b for b in balita if b is not due[0]), "ibu": ibu}
    return in_app(live_server, pick)


def search_and_queue(page, name):
    """Meja 1: type part of the name (no Enter), wait for the htmx results, press Antri on the row."""
    box = page.locator("#meja1-q")
    box.fill("")
    box.press_sequentially(name[2:14], delay=15)
    row = page.locator("#meja1-found form.row-item", has_text=name)
    expect(row).to_have_count(1)
    return row


def open_from_queue(page, hb_id, meja, name):
    """Go to a meja through its navigation (unless already there: clicking the old page's queue while the
    navigation is in flight races two boosted requests) and open the person from the queue."""
    if not page.url.endswith(f"/hari-buka/{hb_id}/meja/{meja}"):
        page.locator(".meja-nav").get_by_role("link", name=str(meja), exact=True).click()
        expect(page).to_have_url(re.compile(rf"/hari-buka/{hb_id}/meja/{meja}$"))
    page.locator(f"#queue-meja-{meja}").get_by_role("link", name=re.compile(re.escape(name))).click()
    expect(page).to_have_url(re.compile(rf"/hari-buka/{hb_id}/kunjungan/\d+/meja/{meja}$"))
    expect(page.locator(".person-head")).to_contain_text(name)


def test_session_day_two_phones(live_server, new_page, shot, cast):
    balita, other, ibu = cast["balita"], cast["other"], cast["ibu"]

    # The ketua opens today's hari buka (the demo already opened it: the same day comes back, not a second).
    ketua, hb_id = open_today(new_page)

    def days_today():
        posyandu_id = db.session.get(HariBuka, hb_id).posyandu_id
        return db.session.scalar(select(func.count()).select_from(HariBuka)
                                 .where(HariBuka.held_on == date.today(), HariBuka.posyandu_id == posyandu_id))
    assert in_app(live_server, days_today) == 1

    # Phone B (the bidan) opens meja 2 and leaves it open.
    b = new_page("phone")
    log_in(b, "bidan")
    b.goto(f"/hari-buka/{hb_id}/meja/2")
    expect(b.locator("h1")).to_contain_text("Meja 2")
    b.evaluate("window.__samePage = true")

    # Phone A (the kader) at meja 1: active search, Antri; twice; and one from the "Belum datang" list.
    a = new_page("phone")
    log_in(a, "kader")
    a.goto(f"/hari-buka/{hb_id}/meja/1")
    expect(a.locator("h2", has_text="Belum datang")).to_be_visible()
    search_and_queue(a, balita["name"]).get_by_role("button", name="Antri").click()
    expect(a.locator(".flash.success")).to_contain_text(f"{balita['name']}: nomor antrian")
    expect(a.locator("#queue-meja-1")).to_contain_text(balita["name"])
    row = search_and_queue(a, ibu["name"])
    expect(a.locator("#meja1-found")).to_contain_text(ibu["name"])
    shot(a, "meja1-search", "phone")
    row.get_by_role("button", name="Antri").click()
    expect(a.locator(".flash.success")).to_contain_text(f"{ibu['name']}: nomor antrian")
    a.locator("section li", has_text=other["name"]).get_by_role("button", name="Antri").click()
    expect(a.locator(".flash.success")).to_contain_text(f"{other['name']}: nomor antrian")
    expect(a.locator("#queue-meja-1 li")).to_have_count(3)
    assert a.problems == []

    # B sees all three without reloading: the poll swapped the queue in place.
    queue2 = b.locator("#queue-meja-2")
    for person in (balita, ibu, other):
        expect(queue2).to_contain_text(person["name"], timeout=POLL_WAIT)
    assert b.evaluate("window.__samePage") is True

    # Meja 2: the balita.
    queue2.get_by_role("link", name=re.compile(re.escape(balita["name"]))).click()
    form = b.locator("#meja2-form")
    expect(form).to_be_visible()
    expect(form.locator("#weight_kg")).to_be_visible()
    form.locator("#weight_kg").fill(f"{balita['weight'] + 0.2:.1f}")
    form.locator("#length_cm").fill(f"{balita['length'] + 0.4:.1f}")
    form.locator(f"input[name=position][value={balita['position']}]").check()
    form.locator("#head_cm").fill("46.5")
    form.locator("#muac_cm").fill("14.5")
    shot(b, "meja2-balita", "phone")
    form.get_by_role("button", name="Simpan dan lanjut").click()
    expect(b.locator(".flash.success")).to_contain_text(f"Pengukuran {balita['name']} disimpan")
    expect(b).to_have_url(re.compile(rf"/hari-buka/{hb_id}/meja/2\?lanjut=\d+$"))

    # Meja 2: the ibu hamil (no length, head or position; LILA and blood pressure).
    b.locator("#queue-meja-2").get_by_role("link", name=re.compile(re.escape(ibu["name"]))).click()
    form = b.locator("#meja2-form")
    expect(form.locator("#systolic")).to_be_visible()
    expect(form.locator("#length_cm")).to_have_count(0)
    form.locator("#weight_kg").fill("56.3")
    form.locator("#muac_cm").fill("25.5")
    form.locator("#systolic").fill("112")
    form.locator("#diastolic").fill("74")
    shot(b, "meja2-ibu-hamil", "phone")
    form.get_by_role("button", name="Simpan dan lanjut").click()
    expect(b.locator(".flash.success")).to_contain_text(f"Pengukuran {ibu['name']} disimpan")

    # Meja 2: an absurd weight comes back (422, swapped into the form) with "Periksa lagi"; confirmed, it is kept.
    b.locator("#queue-meja-2").get_by_role("link", name=re.compile(re.escape(other["name"]))).click()
    form = b.locator("#meja2-form")
    form.locator("#weight_kg").fill("45")
    form.locator("#length_cm").fill(f"{other['length']:.1f}")
    form.locator(f"input[name=position][value={other['position']}]").check()
    with b.expect_response(lambda r: r.request.method == "POST" and "/meja/2" in r.url) as resp:
        form.get_by_role("button", name="Simpan dan lanjut").click()
    assert resp.value.status == 422
    warning = b.locator("#meja2-form .banner.warn")
    expect(warning).to_contain_text("Periksa lagi")
    expect(b.locator("header")).to_have_count(1)  # the form was swapped, not a page inside the page
    confirm = b.locator("#meja2-form input[name=confirm]")
    expect(confirm).to_be_visible()
    expect(b.locator("#weight_kg")).to_have_value("45")
    shot(b, "meja2-warning", "phone")
    confirm.check()
    b.locator("#meja2-form").get_by_role("button", name="Simpan dan lanjut").click()
    expect(b.locator(".flash.success")).to_contain_text(f"Pengukuran {other['name']} disimpan")
    expect(b.locator("#queue-meja-2")).to_contain_text("Belum ada antrian")

    # Meja 3: results and the KMS charts; then on to meja 4.
    open_from_queue(b, hb_id, 3, balita["name"])
    expect(b.locator("figure.chart svg")).to_have_count(2)
    expect(b.locator("table.results")).to_contain_text("BB/U")
    shot(b, "meja3-balita", "phone")
    b.set_viewport_size(VIEWPORTS["laptop"])
    shot(b, "meja3-balita", "laptop")
    b.set_viewport_size(VIEWPORTS["phone"])
    b.get_by_role("button", name="Lanjut ke meja berikutnya").click()
    expect(b).to_have_url(re.compile(rf"/hari-buka/{hb_id}/meja/3\?lanjut=\d+$"))
    b.locator("#queue-meja-3").get_by_role("link", name=re.compile(re.escape(ibu["name"]))).click()
    expect(b.locator("table.results tr", has_text="LILA")).to_contain_text("Normal")
    expect(b.locator("table.results tr", has_text="Tekanan darah")).to_contain_text("Normal")
    expect(b.locator("figure.chart")).to_have_count(0)
    b.get_by_role("button", name="Lanjut ke meja berikutnya").click()
    expect(b).to_have_url(re.compile(rf"/hari-buka/{hb_id}/meja/3\?lanjut=\d+$"))

    # Meja 4: a topic and a note for each.
    for person in (balita, ibu):
        open_from_queue(b, hb_id, 4, person["name"])
        topics = b.locator("input[name=topic]")
        expect(topics.first).to_be_visible()
        unticked = b.locator("input[name=topic]:not(:checked)")
        (unticked.first if unticked.count() else topics.first).check()
        b.locator("#notes").fill("Sudah dijelaskan; ibu mengerti.")
        if person is balita:
            shot(b, "meja4-balita", "phone")
        b.get_by_role("button", name="Simpan dan lanjut").click()
        expect(b.locator(".flash.success")).to_contain_text(f"Penyuluhan {person['name']} dicatat")

    # Meja 5: the immunisation due for the balita; TTD for the ibu hamil.
    open_from_queue(b, hb_id, 5, balita["name"])
    doses = b.locator("input[name^=imunisasi-]")
    expect(doses.first).to_be_visible()
    mr1 = b.locator("input[name=imunisasi-MR1]")  # a catch-up dose that suits a child past infancy
    dose = mr1 if mr1.count() else doses.first
    expect(dose).to_be_visible()
    dose_code = dose.get_attribute("name").removeprefix("imunisasi-")
    dose.check()
    shot(b, "meja5-balita", "phone")
    b.get_by_role("button", name="Simpan, selesai").click()
    expect(b.locator(".flash.success")).to_contain_text(f"Pelayanan {balita['name']} dicatat")
    open_from_queue(b, hb_id, 5, ibu["name"])
    expect(b.locator("input[name^=imunisasi-]")).to_have_count(0)
    b.locator("input[name=ttd]").check()
    b.get_by_role("button", name="Simpan, selesai").dblclick()  # an impatient double tap: recorded once
    expect(b.locator(".flash.success")).to_contain_text(f"Pelayanan {ibu['name']} dicatat")
    expect(b.locator("#queue-meja-5")).to_contain_text("Belum ada antrian")
    assert b.problems == []

    # The day at a glance, for the ketua: two done, one waiting at meja 3, the summary.
    ketua.goto(f"/hari-buka/{hb_id}")
    expect(ketua.locator(".meja-list")).to_contain_text("Selesai: 2")
    summary = ketua.locator("dl.facts")
    expect(summary).to_contain_text("Bayi & balita: 2")
    expect(summary).to_contain_text("Ibu hamil: 1")
    expect(summary).to_contain_text("nilai ditandai 1")
    expect(summary).to_contain_text("Imunisasi: 1")
    shot(ketua, "hari-buka", "phone")
    assert ketua.problems == []

    # The balita's card.
    b.goto(f"/sasaran/{balita['id']}")
    expect(b.locator("main h1")).to_have_text(balita["name"])
    shot(b, "person-card-balita", "phone")

    def stored():
        out = {}
        for key, person in cast.items():
            visit = db.session.scalar(select(Visit).where(Visit.hari_buka_id == hb_id,
                                                          Visit.person_id == person["id"]))
            m = db.session.scalar(select(Measurement).where(Measurement.visit_id == visit.id))
            services = db.session.execute(select(ServiceRecord.kind, ServiceRecord.code)
                                          .where(ServiceRecord.visit_id == visit.id)).all()
            out[key] = {"step": visit.step, "finished": visit.finished_at is not None, "topics": visit.topics,
                        "notes": visit.counselling_notes, "services": sorted(services),
                        "m": {k: getattr(m, k) for k in ("weight_kg", "length_cm", "position", "head_cm", "muac_cm",
                                                         "systolic", "diastolic", "waz", "lhaz", "whz", "hcz", "acz",
                                                         "ntob", "age_days", "flagged", "check_note")}}
        return out

    rows = in_app(live_server, stored)
    kid, mum, odd = rows["balita"], rows["ibu"], rows["other"]
    assert kid["step"] == 0 and kid["finished"] and kid["topics"] and kid["notes"]
    assert kid["m"]["weight_kg"] == pytest.approx(balita["weight"] + 0.2)
    assert kid["m"]["head_cm"] == 46.5 and kid["m"]["muac_cm"] == 14.5
    assert all(kid["m"][k] is not None for k in ("waz", "lhaz", "whz", "hcz", "acz", "ntob", "age_days"))
    assert not kid["m"]["flagged"]
    assert ("imunisasi", dose_code) in kid["services"]
    assert len(kid["services"]) == len(set(kid["services"]))  # each once
    assert {kind for kind, _ in kid["services"]} <= {"imunisasi", "rujukan"}

    assert mum["step"] == 0 and mum["finished"] and mum["topics"]
    assert [mum["m"][k] for k in ("weight_kg", "muac_cm", "systolic", "diastolic")] == [56.3, 25.5, 112, 74]
    assert mum["services"] == [("ttd", "")]

    assert odd["step"] == 3 and odd["m"]["weight_kg"] == 45
    assert odd["m"]["flagged"] and "waz_flag" in odd["m"]["check_note"]
    assert a.problems == [] and b.problems == []
