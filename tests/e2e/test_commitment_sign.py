"""Commitment signing in Debian Chromium: on the ketua's login a kader draws her signature with pointer events
(mouse down, moves, up) on the canvas pad and types her own PIN; the ketua, whose account is her own, countersigns
the same way without a PIN, and the PDF shows both signatures and the exact text. Without JavaScript the page says
so: the kelurahan sets the kader's PIN, and her typed name (not another) with her PIN signs. Screenshots at laptop
and phone size."""
import os
import re
from io import BytesIO

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import select  # noqa: E402

from posyandu.extensions import db  # noqa: E402
from posyandu.models import Commitment  # noqa: E402
from .helpers import log_in  # noqa: E402

DEMO_PIN = "258036"


def draw(page, canvas_selector, wiggle=0):
    """Sign with the mouse: down, a looping path of moves, up; then a second short stroke."""
    page.locator(canvas_selector).scroll_into_view_if_needed()
    box = page.locator(canvas_selector).bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + w * 0.1, y0 + h * 0.6)
    page.mouse.down()
    for i in range(1, 30):
        t = i / 30
        page.mouse.move(x0 + w * (0.1 + 0.7 * t), y0 + h * (0.5 + 0.3 * ((-1) ** (i // 3)) * (1 - t) + wiggle))
    page.mouse.up()
    page.mouse.move(x0 + w * 0.15, y0 + h * 0.85)
    page.mouse.down()
    page.mouse.move(x0 + w * 0.5, y0 + h * 0.82, steps=8)
    page.mouse.up()


def unsigned_kader_link(page):
    page.goto("/kader/komitmen/")
    link = page.get_by_role("link", name="Belum — tandatangani").first
    expect(link).to_be_visible()
    return link


def test_kader_draws_signature_ketua_countersigns_pdf_shows_both(new_page, live_server, shot):
    page = new_page("phone")
    log_in(page, "ketua")
    unsigned_kader_link(page).click()
    expect(page.locator("h1")).to_contain_text("Komitmen Kinerja Kader")
    expect(page.locator("[data-sigpad-fallback]")).to_be_hidden()  # JavaScript on: the pad, not the typed name
    expect(page.locator("[data-sigpad] canvas")).to_be_visible()
    exact = page.locator(".commitment-text .exact").inner_text()

    page.get_by_role("button", name="Tanda tangani").click()  # nothing drawn yet
    expect(page.locator("#signature-error")).to_contain_text("Tanda tangan belum dibuat")

    page.locator("#agree").check()
    draw(page, "#sign-form canvas")
    assert page.locator("#sign-form [name=signature]").input_value().startswith("[[")
    page.get_by_role("button", name="Tanda tangani").click()  # the ketua's login is not this kader: her PIN first
    expect(page.locator("#pin-error")).to_contain_text("PIN")
    page.locator("#agree").check()
    draw(page, "#sign-form canvas")
    page.locator("#pin").fill("111119")
    page.get_by_role("button", name="Tanda tangani").click()
    expect(page.locator("#pin-error")).to_contain_text("PIN salah")
    page.locator("#agree").check()
    draw(page, "#sign-form canvas")
    page.locator("#pin").fill(DEMO_PIN)
    shot(page, "commitment-sign", "phone")
    page.get_by_role("button", name="Tanda tangani").click()
    expect(page).to_have_url(re.compile(r"/kader/komitmen/\d+$"))
    expect(page.locator("svg.signature")).to_have_count(1)
    expect(page.locator(".signer-method").first).to_contain_text("dengan PIN pribadinya")

    expect(page.locator("#countersigner")).to_contain_text("Ketua Posyandu")  # the ketua herself, by name
    expect(page.locator("#countersign-form [name=pin]")).to_have_count(0)  # her own account: no PIN
    draw(page, "#countersign-form canvas", wiggle=-0.1)
    assert page.locator("#countersign-form [name=signature]").input_value().startswith("[[")
    page.get_by_role("button", name="Tanda tangani sebagai yang mengetahui").click()
    expect(page.locator(".flash.success")).to_contain_text("oleh")
    expect(page.locator("svg.signature")).to_have_count(2)
    assert not page.problems, page.problems
    shot(page, "commitment-signed", "phone")
    page.set_viewport_size({"width": 1366, "height": 768})
    shot(page, "commitment-signed", "laptop")

    commitment_id = int(page.url.rsplit("/", 1)[1])
    pdf = page.request.get(f"/kader/komitmen/{commitment_id}/pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(BytesIO(pdf.body()))
    forms = [k for k, v in reader.pages[0]["/Resources"]["/XObject"].items()
             if v.get_object()["/Subtype"] == "/Form"]
    assert sorted(forms) == ["/FormXob.sig_countersign", "/FormXob.sig_kader"]
    text = " ".join("".join(p.extract_text() for p in reader.pages).split())
    assert " ".join(exact.split()) in text  # the whole signed text, word for word and in order (PDF lines wrap)
    from tests.e2e.conftest import SHOTS

    (SHOTS / "commitment.pdf").write_bytes(pdf.body())

    app = live_server[0].flask_app
    with app.app_context():
        c = db.session.get(Commitment, commitment_id)
        assert c.signature_kind == "drawn" and c.countersignature_kind == "drawn"
        assert c.signer_method == "pin" and c.countersigner_method == "account"
        assert c.countersigner_name in page.locator("body").inner_text()
        assert c.text.replace("\n", "") == exact.replace("\n", "")
        db.session.remove()


def other_unsigned_kader(live_server) -> tuple[int, str]:
    """A kader of the clerk's kelurahan outside the ketua's Posyandu who has not signed (the JS test uses those)."""
    from datetime import date

    from posyandu.models import Kader, KaderRole, User

    app = live_server[0].flask_app
    with app.app_context():
        clerk = db.session.scalar(select(User).where(User.username == "kelurahan"))
        ketua = db.session.scalar(select(User).where(User.username == "ketua"))
        signed = select(Commitment.kader_id).where(Commitment.year == date.today().year)
        from posyandu.services.scope import posyandu_ids

        kid, name = db.session.execute(select(Kader.id, Kader.name).join(KaderRole).where(
            KaderRole.posyandu_id.in_(posyandu_ids(clerk)), KaderRole.posyandu_id != ketua.posyandu_id,
            Kader.id.not_in(signed)).order_by(Kader.id.desc()).limit(1)).one()
        db.session.remove()
        return kid, name


def test_without_javascript_the_page_says_so_and_a_typed_name_signs(new_page, live_server, shot):
    page = new_page("laptop", java_script_enabled=False)
    log_in(page, "kelurahan")
    kid, name = other_unsigned_kader(live_server)
    page.goto(f"/kader/{kid}/komitmen")
    expect(page.locator("#no-pin")).to_contain_text("belum punya PIN")  # nobody can sign for her yet
    page.goto(f"/kader/{kid}#tanda-tangan")
    page.locator("#pin-form #pin").fill("731946")
    page.locator("#pin-form #confirm").fill("731946")
    page.get_by_role("button", name="Simpan PIN").click()
    expect(page.locator(".flash.success")).to_contain_text("disimpan")
    shot(page, "kader-signer-identity", "laptop")
    page.goto(f"/kader/{kid}/komitmen")
    expect(page.locator("[data-sigpad-fallback]")).to_contain_text("memerlukan JavaScript")
    expect(page.locator("[data-sigpad]")).to_be_hidden()
    page.locator("#agree").check()
    page.locator("#typed_name").fill("Nama Diketik")  # not her name
    page.locator("#pin").fill("731946")
    page.get_by_role("button", name="Tanda tangani").click()
    expect(page.locator("#signature-error")).to_contain_text(name)
    shot(page, "commitment-sign-nojs", "laptop")
    page.locator("#agree").check()
    page.locator("#typed_name").fill(name)
    page.locator("#pin").fill("731946")
    page.get_by_role("button", name="Tanda tangani").click()
    expect(page).to_have_url(re.compile(r"/kader/komitmen/\d+$"))
    expect(page.locator(".signature.typed")).to_contain_text(name)
    expect(page.locator(".signer-method").first).to_contain_text("dengan PIN pribadinya")
    expect(page.locator("#countersign-form [name=name]")).to_have_value("")  # the lurah's name, not the account's
    assert not page.problems, page.problems
