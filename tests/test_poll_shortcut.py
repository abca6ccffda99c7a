"""The unchanged queue poll is answered before Flask (posyandu.poll), and only then: every other case — another
version, a revoked or idle session, a session due for its touch, a hari buka out of scope — takes the full path
and is answered as before (issue 15)."""
from datetime import timedelta

from flask import request_started
from sqlalchemy import event, select, update

from posyandu.extensions import db
from posyandu.models import AuthSession, HariBuka, User
from posyandu.models.base import utcnow

HX = {"HX-Request": "true"}


class Watch:
    """Requests that reached Flask, and the statements sent to the database."""

    def __init__(self, app):
        self.app, self.flask, self.sql = app, 0, []

    def _started(self, *_a, **_kw):
        self.flask += 1

    def _sql(self, _conn, _cursor, statement, *_a):
        if statement.strip().upper() != "BEGIN":
            self.sql.append(statement)

    def __enter__(self):
        request_started.connect(self._started, self.app)
        event.listen(db.engine, "before_cursor_execute", self._sql)
        # the shortcut sends its two statements to the driver itself (no engine events): count them there
        shortcut = self.app.wsgi_app
        self._compile = shortcut._sql
        shortcut._sql = lambda statement, values: (self.sql.append(str(statement)), self._compile(statement, values))[1]
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self._started, self.app)
        event.remove(db.engine, "before_cursor_execute", self._sql)
        del self.app.wsgi_app._sql


def _poll(c, hb, v):
    return c.get(f"/hari-buka/{hb.id}/meja/2/antrian?v={v}", headers=HX)


def _version(hb):
    return db.session.scalar(select(HariBuka.version).where(HariBuka.id == hb.id))


def test_an_unchanged_poll_is_answered_without_flask_in_two_queries(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v)
    assert w.flask == 0 and len(w.sql) == 2, (w.flask, w.sql)
    assert resp.status_code == 200 and resp.data == b""
    # the same answer as web.unchanged(): htmx leaves the page, the connection stays open, nothing is cached
    assert resp.headers["HX-Reswap"] == "none" and resp.headers["Content-Length"] == "0"
    assert resp.headers["Cache-Control"] == "no-store" and "Content-Type" not in resp.headers
    assert "Set-Cookie" not in resp.headers


def test_a_changed_queue_goes_to_flask_and_comes_back_as_the_fragment(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v - 1)
    assert w.flask == 1
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Anak A1" in html and f"v={v}" in html and "<html" not in html


def test_a_revoked_session_is_not_answered_by_the_shortcut(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    db.session.execute(update(AuthSession).values(revoked_at=utcnow()))
    db.session.commit()
    with Watch(app) as w:
        resp = _poll(c, hb, _version(hb))
    assert w.flask == 1 and resp.status_code == 401 and "HX-Redirect" in resp.headers


def test_a_deactivated_user_is_not_answered_by_the_shortcut(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    db.session.execute(update(User).where(User.username == "kader_a1").values(active=False))
    db.session.commit()
    with Watch(app) as w:
        resp = _poll(c, hb, _version(hb))
    assert w.flask == 1 and resp.status_code == 401


def test_a_hari_buka_out_of_scope_is_a_404_from_flask(app, tree, login):
    c = login("kader_a2")
    hb = tree.sessions["A1"]
    with Watch(app) as w:
        resp = _poll(c, hb, _version(hb))
    assert w.flask == 1 and resp.status_code == 404


def test_a_session_due_for_its_touch_takes_the_full_path_and_is_touched(app, tree, login):
    """The shortcut never writes: a session last seen over a minute ago goes to Flask, which touches it, so a
    kader who only watches her queue is not logged out as idle."""
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    old = utcnow() - timedelta(minutes=5)
    db.session.execute(update(AuthSession).values(last_seen_at=old))
    db.session.commit()
    with Watch(app) as w:
        resp = _poll(c, hb, _version(hb))
    assert w.flask == 1 and resp.status_code == 200 and resp.data == b""
    seen = db.session.scalar(select(AuthSession.last_seen_at))
    assert seen > old + timedelta(minutes=4)
    with Watch(app) as w:
        _poll(c, hb, _version(hb))
    assert w.flask == 0


def test_no_cookie_or_a_forged_one_goes_to_flask(app, tree, client):
    hb = tree.sessions["A1"]
    v = _version(hb)
    with Watch(app) as w:
        resp = client.get(f"/hari-buka/{hb.id}/meja/2/antrian?v={v}", headers=HX)
    assert w.flask == 1 and resp.status_code == 401
    client.c.set_cookie("session", "eyJhdXRoIjoieCJ9.forged.signature")
    with Watch(app) as w:
        resp = client.get(f"/hari-buka/{hb.id}/meja/2/antrian?v={v}", headers=HX)
    assert w.flask == 1 and resp.status_code == 401


def test_on_postgresql_the_unchanged_poll_opens_no_transaction_and_leaves_the_pool_as_it_was(app, tree, login,
                                                                                               monkeypatch):
    """Two round trips, not four (BEGIN and ROLLBACK around the two reads); the pooled connection goes back with
    autocommit off, so the next request's unit of work is a transaction as before."""
    if db.engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("PostgreSQL's transaction round trips")
    import psycopg

    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    db.session.remove()
    states, execute = [], psycopg.Cursor.execute

    def spy(cur, *a, **kw):
        out = execute(cur, *a, **kw)
        states.append((cur.connection.autocommit, cur.connection.info.transaction_status))
        return out
    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    resp = _poll(c, hb, v)
    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    assert resp.status_code == 200 and resp.data == b""
    assert states == [(True, psycopg.pq.TransactionStatus.IDLE)] * 2, states
    with db.engine.connect() as conn:  # the same pooled connection, as the next request gets it
        assert conn.connection.driver_connection.autocommit is False
