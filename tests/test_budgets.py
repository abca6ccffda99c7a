"""DESIGN §5 budgets on the demo district: page weight, requests, caching and security headers."""
import re

import pytest
from flask_migrate import upgrade

from posyandu import create_app
from posyandu.extensions import db
from posyandu.seed import seed_demo

from .conftest import ROOT, Client, base_config

LIMIT = 14 * 1024


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The default demo district (4 000 children, a year of weighings) on SQLite."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo(children=4000, months=12)
        db.session.remove()
    return app


def pages_for(app, c):
    """Every GET page reachable from the home page and the lists, for this user."""
    seen, todo = set(), ["/", "/sasaran/", "/sasaran/baru", "/hari-buka/", "/sasaran/?page=3"]
    while todo:
        url = todo.pop()
        if url in seen or len(seen) > 60:
            continue
        seen.add(url)
        resp = c.get(url, headers={"Accept-Encoding": "gzip, br"})
        yield url, resp
        if resp.status_code == 200 and resp.mimetype == "text/html":
            with app.test_request_context():
                html = c.get(url).get_data(as_text=True)
            for href in re.findall(r'href="(/[^"#]*)"', html):
                href = href.replace("&amp;", "&")
                if not href.startswith(("/a/", "/static/")) and href not in seen:
                    todo.append(href)


@pytest.mark.parametrize("username", ["kader", "admin", "kelurahan", "bidan", "ketua"])
def test_every_page_is_at_most_14kb_compressed(demo, username):
    c = Client(demo.test_client())
    with demo.app_context():
        assert c.login(username, "posyandu-demo").status_code == 303
        sizes = {}
        for url, resp in pages_for(demo, c):
            assert resp.status_code == 200, url
            if resp.headers.get("Content-Disposition", "").startswith("attachment"):
                continue  # a file (PDF, XLSX, CSV) a page links to, not a page: its own format compresses it
            sizes[url] = len(resp.data)
            assert resp.headers.get("Content-Encoding") in ("br", "gzip"), url
        print(username, max(sizes.values()), max(sizes, key=sizes.get))
        too_big = {u: s for u, s in sizes.items() if s > LIMIT}
        assert not too_big, too_big
        assert len(sizes) >= 5
        search = c.post("/sasaran/", {"q": "a"}, headers={"Accept-Encoding": "br"})
        assert search.status_code == 200 and len(search.data) <= LIMIT


def test_first_visit_needs_three_requests_and_return_visit_one(demo):
    c = demo.test_client()
    html = c.get("/masuk").get_data(as_text=True)
    assets = re.findall(r'<(?:link rel="stylesheet"|script) [^>]*(?:href|src)="([^"]+)"', html)
    assert len(assets) == 2  # + the HTML itself = 3 requests
    assert 'rel="icon" href="data:,"' in html  # no favicon request
    total = len(c.get("/masuk", headers={"Accept-Encoding": "br"}).data)
    for url in assets:
        resp = c.get(url, headers={"Accept-Encoding": "br"})
        assert resp.status_code == 200 and "immutable" in resp.headers["Cache-Control"]
        assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", url)  # hashed name: a return visit asks for nothing
        total += len(resp.data)
    assert total <= 35 * 1024, total


def test_security_headers_on_pages(demo):
    resp = demo.test_client().get("/masuk")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in resp.headers["Vary"]
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html  # nothing inline that the CSP would block
    assert '"allowEval":false' in html


def test_error_pages_full_and_fragment(demo):
    c = Client(demo.test_client())
    with demo.app_context():
        c.login("kader", "posyandu-demo")
        full = c.get("/sasaran/999999999")
        frag = c.get("/sasaran/999999999", headers={"HX-Request": "true"})
        assert c.get("/akun/").status_code == 403
    assert full.status_code == frag.status_code == 404
    assert "<html" in full.get_data(as_text=True) and "<html" not in frag.get_data(as_text=True)
    assert "tidak ditemukan" in frag.get_data(as_text=True)
