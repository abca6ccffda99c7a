"""End-to-end fixtures: the app on a seeded SQLite file served by waitress, and Debian's Chromium.

SQLite only: the browser tests check the pages and htmx wiring, not the database backend."""
import os
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, base_config

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "screenshots"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}
# Generous waits: CI and sessions share 2 cores with other work; a slow machine must not fail a correct page.
TIMEOUT_MS = 15_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def _need_chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The demo district (300 children, 6 months) served on a free local port; yields its base URL."""
    _need_chromium()
    from flask_migrate import upgrade
    from waitress import create_server

    from posyandu import create_app
    from posyandu.extensions import db
    from posyandu.seed import seed_demo

    path = tmp_path_factory.mktemp("e2e") / "e2e.sqlite"
    # Background jobs as `flask serve` runs them: a Huey consumer's threads in this process, the queue in SQLite.
    app = create_app(base_config(f"sqlite:///{path}", JOBS_IMMEDIATE=False, JOBS_DIR=str(path.parent / "jobs")))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo(children=300, months=6)
        db.session.remove()
    from posyandu.jobs import start_consumer

    consumer = start_consumer(app)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="e2e-waitress", daemon=True)
    thread.start()
    server.flask_app = app
    yield server, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)
    consumer.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server[1]


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session (never `playwright install`)."""
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _expected(text: str) -> bool:
    # Chromium logs every 4xx response; a 422 is how an invalid form comes back, by design.
    return text.startswith("Failed to load resource: the server responded with a status of 422")


@pytest.fixture
def new_page(browser, base_url):
    """new_page('phone', java_script_enabled=False) → a page in a fresh context; console errors, page
    errors and failed requests are collected in page.problems and must stay empty."""
    contexts = []

    def make(viewport="laptop", **kw):
        ctx = browser.new_context(base_url=base_url, viewport=VIEWPORTS[viewport], locale="id-ID", **kw)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.problems = []
        page.on("console", lambda m: m.type == "error" and not _expected(m.text)
                and page.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: page.problems.append(f"requestfailed: {r.url} {r.failure}"))
        return page

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot():
    """shot(page, 'people-list', 'phone') saves screenshots/<name>-<viewport>.png (whole page)."""
    SHOTS.mkdir(exist_ok=True)

    def take(page, name, viewport):
        wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{name} at {viewport}: the page is {wide}px wider than the screen"
        page.screenshot(path=str(SHOTS / f"{name}-{viewport}.png"), full_page=True,
                        caret="initial")  # hiding the caret injects a <style> that our CSP (rightly) refuses

    return take
