"""Fixtures: an app per test on a fresh SQLite file and, when TEST_DATABASE_URL names PostgreSQL, on a
fresh schema there; clients logged in per role; a small two-district place tree."""
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from posyandu import create_app
from posyandu.extensions import db

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "rahasia-kader-1"


def base_config(uri: str, **extra) -> dict:
    cfg = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": uri,
        # Cheap hashing in tests only; production uses the OWASP-strength defaults.
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1,
        "SYNC_LAPTOP": False,  # a district server unless a test says otherwise (posyandu.sync)
        # Background jobs run at once, in the thread that starts them (tests/test_jobs.py runs a real consumer).
        "JOBS_IMMEDIATE": True,
    }
    cfg.update(extra)
    return cfg


def _migrate(app):
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite"
    _migrate(create_app(base_config(f"sqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def pg_schema():
    """A private schema on the test PostgreSQL server, migrated once; tables are emptied per test."""
    from posyandu.config import normalise_database_url

    url = normalise_database_url(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    opts = {"connect_args": {"options": f"-csearch_path={schema}"}}
    migrated = create_app(base_config(url, SQLALCHEMY_ENGINE_OPTIONS=opts))
    _migrate(migrated)
    with migrated.app_context(), db.engine.connect() as conn:
        # Reference rows the migrations insert (e.g. the first KBM table): restored after each test's TRUNCATE.
        reference = {t: rows for t in db.metadata.sorted_tables
                     if (rows := [dict(r) for r in conn.execute(t.select()).mappings()])}
        db.engine.dispose()
    yield url, opts, schema, reference
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    """A fresh app and empty migrated database for each test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        application = create_app(base_config(f"sqlite:///{path}", JOBS_DIR=str(tmp_path / "jobs")))
    else:
        url, opts, schema, reference = request.getfixturevalue("pg_schema")
        application = create_app(base_config(url, SQLALCHEMY_ENGINE_OPTIONS=opts, JOBS_DIR=str(tmp_path / "jobs")))
        with application.app_context():
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                for table, rows in reference.items():
                    conn.execute(table.insert(), rows)
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                      f"(SELECT MAX(id) FROM {table.name}))"))
    application.backend = request.param
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def tree(app):
    from tests.factories import build_tree

    return build_tree()


class Client:
    """A test client that knows the CSRF token of its session."""

    def __init__(self, flask_client):
        self.c = flask_client
        self._token = None

    def _fresh(self, method, *args, **kw):
        # Each request in its own app context, as in production: its own `g` and database session.
        # The test's own transaction ends first: on SQLite every transaction holds the write lock.
        db.session.commit()
        with self.c.application.app_context():
            resp = getattr(self.c, method)(*args, **kw)
        db.session.commit()  # and afterwards the test's session sees what the request wrote
        return resp

    def token(self) -> str:
        if self._token is None:
            html = self.get("/masuk", follow_redirects=True).get_data(as_text=True)
            self._token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        return self._token

    def get(self, url, **kw):
        return self._fresh("get", url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self._fresh("post", url, data=data, **kw)

    def job_file(self, url, data=None):
        """Click a button that starts a background job (a POST to `url`) and fetch the file from the job's page,
        as a clerk would; in tests the job runs at once (JOBS_IMMEDIATE)."""
        start = self.post(url, data)
        assert start.status_code == 303 and "/tugas/" in start.headers["Location"], start.status_code
        page = self.get(start.headers["Location"])
        link = re.search(r'href="([^"]+/unduh)"', page.get_data(as_text=True))
        html = page.get_data(as_text=True)
        assert link, html[html.find('class="job"'):][:1000]
        return self.get(link.group(1))

    def login(self, username, password=PASSWORD):
        resp = self.post("/masuk", {"username": username, "password": password})
        self._token = None  # the session starts afresh at login
        return resp


@pytest.fixture
def client(app):
    return Client(app.test_client())


@pytest.fixture
def login(app, tree):
    """login('kader_a') → a client logged in as that user of the tree."""

    def make(username):
        c = Client(app.test_client())
        resp = c.login(username)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return c

    return make
