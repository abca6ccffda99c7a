"""Every link to a file follows one convention, for every role: walked, not listed by hand.

A boosted page (`<body hx-boost="true">`) turns a plain link into an XHR whose response htmx swaps into the page —
for a PDF that is "%PDF-1.4 …" as text. So every link whose response is a file (Content-Disposition, or not
HTML) must carry `download` and `hx-boost="false"` (the `file_link` macro), and every GET form that fetches a file
`hx-boost="false"`. The crawl starts at the home page and follows every link and GET form of each role; a new
download page anywhere in the menus is caught without this test knowing its name. The same crawl checks that
no link a role is shown leads to a 403 (a menu entry the role may not open)."""
import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from posyandu import create_app
from posyandu.extensions import db
from posyandu.models import Kelurahan, User
from posyandu.seed import seed_demo
from posyandu.services import incentives

from .conftest import ROOT, Client, base_config

ROLES = ["admin", "kelurahan", "bidan", "ketua", "kader"]
PER_SHAPE = 3  # links of the same kind (endpoint and query keys) followed per role: each template is seen
MAX_PAGES = 400


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo district with last month's incentive batch computed (so its documents are linked)."""
    path = tmp_path_factory.mktemp("downloads") / "demo.sqlite"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo(children=120, months=3)
        clerk = db.session.scalar(select(User).where(User.username == "kelurahan"))
        kel = db.session.get(Kelurahan, clerk.kelurahan_id)
        first = date.today().replace(day=1)
        incentives.compute(clerk, kel, date.fromordinal(first.toordinal() - 1).replace(day=1))
        db.session.remove()
    return app


class Targets(HTMLParser):
    """The links and GET forms of a page: (kind, url, attributes) — for a form, the url carries its fields."""

    def __init__(self):
        super().__init__()
        self.found, self.form = [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.found.append(("a", a["href"], a))
        elif tag == "form" and (a.get("method") or "get").lower() == "get":
            self.form = {"action": a.get("action") or "", "attrs": a, "fields": [], "also": []}
        elif self.form is not None and tag == "button" and a.get("formaction"):
            self.form["also"].append(a["formaction"])
        elif self.form is not None and tag in ("input", "select") and a.get("name"):
            if tag == "select" or a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.form["fields"].append((a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form" and self.form is not None:
            f, self.form = self.form, None
            query = urlencode([(k, v) for k, v in f["fields"] if v])
            for action in [f["action"], *f["also"]]:  # a button's formaction sends the same fields elsewhere
                self.found.append(("form", action + ("&" if "?" in action else "?") + query if query else action,
                                   f["attrs"]))


def shape(app, url: str) -> str:
    """The kind of page a url is: its endpoint and query keys (not ids or values)."""
    parts = urlsplit(url)
    try:
        endpoint = app.url_map.bind("localhost").match(parts.path)[0]
    except Exception:  # a 404 or a redirect: still a kind of its own
        endpoint = re.sub(r"\d+", "N", parts.path)
    keys = sorted({k.split("=")[0] for k in parts.query.split("&") if k})
    return endpoint + ("?" + "&".join(keys) if keys else "")


class Fetched:
    """A response read to its end inside its request (streamed CSVs need their context)."""

    def __init__(self, c: Client, url: str):
        db.session.commit()
        with c.c.application.app_context():
            resp = c.c.get(url)
            self.body = resp.get_data()
            resp.close()
        self.status_code, self.mimetype, self.headers = resp.status_code, resp.mimetype, resp.headers


def crawl(c: Client):
    """(page url, kind, target url, attributes, target response) for every link and GET form seen."""
    seen_pages, todo, checked, fetched_shapes = set(), ["/"], {}, {}
    while todo and len(seen_pages) < MAX_PAGES:
        url = todo.pop(0)
        if url in seen_pages:
            continue
        seen_pages.add(url)
        resp = checked.get(url) or Fetched(c, url)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        parser = Targets()
        parser.feed(resp.body.decode())
        for kind, href, attrs in parser.found:
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/a/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in checked:
                s = shape(c.c.application, target)
                if fetched_shapes.get(s, 0) >= PER_SHAPE:
                    continue  # the same kind of link from the same template, already seen twice
                fetched_shapes[s] = fetched_shapes.get(s, 0) + 1
                checked[target] = Fetched(c, target)
            yield url, kind, target, attrs, checked[target]
            r = checked[target]
            if r.status_code == 200 and r.mimetype == "text/html" and target not in seen_pages:
                todo.append(target)


def is_file(resp) -> bool:
    return "Content-Disposition" in resp.headers or (resp.status_code == 200 and resp.mimetype != "text/html")


@pytest.mark.parametrize("username", ROLES)
def test_every_file_link_opts_out_of_boost_and_downloads(demo, username):
    c = Client(demo.test_client())
    with demo.app_context():
        assert c.login(username, "posyandu-demo").status_code == 303
        files, wrong, forbidden = set(), [], []
        for page, kind, target, attrs, resp in crawl(c):
            if resp.status_code == 403:
                forbidden.append((page, target))
            if not is_file(resp):
                continue
            files.add((kind, shape(demo, target), resp.mimetype))
            ok = attrs.get("hx-boost") == "false" and (kind == "form" or "download" in attrs)
            if not ok:
                wrong.append((page, kind, target))
    print(username, len(files), "kinds of file link:", sorted({(k, s.split("?")[0]) for k, s, _ in files}))
    assert not wrong, f"file links without download/hx-boost=false: {wrong[:10]}"
    assert not forbidden, f"links to pages this role may not open: {forbidden[:10]}"
    assert any(mime == "application/pdf" for _, _, mime in files)  # the crawl did reach the documents
