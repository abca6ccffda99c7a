"""The unchanged queue poll is answered before Flask (posyandu.poll), and only then: every other case — another
version, a revoked or idle session, a session due for its touch, a hari buka out of scope — takes the full path
and is answered as before (issue 15)."""
import os
import tempfile
import threading
from datetime import timedelta

from flask import request_started
from sqlalchemy import event, inspect, select, update

from posyandu.extensions import db
from posyandu.models import AuthSession, HariBuka, User
from posyandu.models.base import utcnow

HX = {"HX-Request": "true"}


class Watch:
    """Requests that reached Flask, and what reached the database driver, counted where the driver sees it: on
    SQLite each statement SQLite ran (sqlite3's trace callback), on PostgreSQL each round trip that executes one
    (libpq's protocol trace: a Sync or a simple Query sent, after which the client waits for the server).
    Attached to every connection checked out of the pool meanwhile — Flask's and the shortcut's raw_connection
    alike — so a statement sent straight to the driver is counted as surely as one through SQLAlchemy."""

    def __init__(self, app):
        self.app, self.flask, self.sql = app, 0, []
        self.pg = db.engine.dialect.name == "postgresql"
        self.traced = {}  # PostgreSQL: connection → its trace file
        self.prepared = []  # PostgreSQL: round trips that only prepared a statement

    def _started(self, *_a, **_kw):
        self.flask += 1

    def _checkout(self, dbapi_conn, _record, _proxy):
        if not self.pg:
            dbapi_conn.set_trace_callback(self.sql.append)
            return
        from psycopg import pq

        trace = self.traced[dbapi_conn] = tempfile.TemporaryFile()
        dbapi_conn.pgconn.trace(os.dup(trace.fileno()))  # psycopg closes the descriptor it is given at untrace
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _checkin(self, dbapi_conn, _record):
        if not self.pg:
            dbapi_conn.set_trace_callback(None)
            return
        trace = self.traced.pop(dbapi_conn, None)
        if trace is None:
            return
        dbapi_conn.pgconn.untrace()  # flushes the trace
        trace.seek(0)
        statement, executes = None, False
        for line in trace.read().decode().splitlines():
            side, _length, message, *rest = line.split("\t") + ["", "", ""]
            if side != "F":
                continue
            if message in ("Parse", "Query"):
                statement = rest[0]
            executes = executes or message in ("Execute", "Query")
            if message in ("Sync", "Query"):  # the client now waits for the server: one round trip
                # psycopg prepares a statement on its connection at its 5th execution: a round trip of its own
                # (Parse, Sync), once per connection and statement; counted apart
                (self.sql if executes else self.prepared).append(statement)
                executes = False
        trace.close()

    def __enter__(self):
        request_started.connect(self._started, self.app)
        event.listen(db.engine, "checkout", self._checkout)
        event.listen(db.engine, "checkin", self._checkin)
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self._started, self.app)
        event.remove(db.engine, "checkout", self._checkout)
        event.remove(db.engine, "checkin", self._checkin)


def _poll(c, hb, v):
    hb_id = inspect(hb).identity[0]  # not hb.id: after a request's commit that would reload it inside the Watch
    return c.get(f"/hari-buka/{hb_id}/meja/2/antrian?v={v}", headers=HX)


def _version(hb):
    return db.session.scalar(select(HariBuka.version).where(HariBuka.id == inspect(hb).identity[0]))


def test_an_unchanged_poll_is_answered_without_flask_in_two_queries_then_one(app, tree, login):
    """The first poll reads the session with the user's node, then the version in that node's scope; from the
    second on, both are one statement (on PostgreSQL one round trip: issue 15's goal for the poll there)."""
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v)
    assert w.flask == 0 and len(w.sql) == 2, (w.flask, w.sql)
    for _ in range(3):
        with Watch(app) as w:
            again = _poll(c, hb, v)
        assert w.flask == 0 and len(w.sql) == 1, (w.flask, w.sql)
        assert again.status_code == 200 and again.data == b"" and again.headers == resp.headers
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
    v_now = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v_now)
    assert w.flask == 1 and resp.status_code == 401 and "HX-Redirect" in resp.headers


def test_a_deactivated_user_is_not_answered_by_the_shortcut(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    db.session.execute(update(User).where(User.username == "kader_a1").values(active=False))
    db.session.commit()
    v_now = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v_now)
    assert w.flask == 1 and resp.status_code == 401


def test_a_hari_buka_out_of_scope_is_a_404_from_flask(app, tree, login):
    c = login("kader_a2")
    hb = tree.sessions["A1"]
    v_now = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v_now)
    assert w.flask == 1 and resp.status_code == 404


def test_a_session_due_for_its_touch_takes_the_full_path_and_is_touched(app, tree, login):
    """The shortcut never writes: a session last seen over a minute ago goes to Flask, which touches it, so a
    kader who only watches her queue is not logged out as idle."""
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    old = utcnow() - timedelta(minutes=5)
    db.session.execute(update(AuthSession).values(last_seen_at=old))
    db.session.commit()
    v_now = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v_now)
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
    """No BEGIN and ROLLBACK around the reads (two round trips, then one, not four and three); the pooled
    connection goes back with autocommit off, so the next request's unit of work is a transaction as before."""
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
    for reads in (2, 1):
        states.clear()
        monkeypatch.setattr(psycopg.Cursor, "execute", spy)
        resp = _poll(c, hb, v)
        monkeypatch.setattr(psycopg.Cursor, "execute", execute)
        assert resp.status_code == 200 and resp.data == b""
        assert states == [(True, psycopg.pq.TransactionStatus.IDLE)] * reads, states
        with db.engine.connect() as conn:  # the same pooled connection, as the next request gets it
            assert conn.connection.driver_connection.autocommit is False
        db.session.remove()


def _settle(c, hb):
    """Two unchanged polls: the shortcut now knows the user's node and answers in one statement."""
    for _ in range(2):
        v = _version(hb)
        with Watch(c.c.application) as w:
            resp = _poll(c, hb, v)
        assert w.flask == 0 and resp.status_code == 200 and resp.data == b"", (w.flask, resp.status_code)
    assert len(w.sql) == 1, w.sql


def _move(username, **node):
    db.session.execute(update(User).where(User.username == username).values(**node))
    db.session.commit()


def test_a_user_moved_to_another_posyandu_is_not_answered_from_the_node_it_remembered(app, tree, login):
    """The one statement reads the hari buka in the scope of the node seen at the last poll, and her node again:
    moved to another Posyandu since, the answer is not hers — her own scope decides (Flask: 404), and her new
    Posyandu's queue is answered in one statement again from the next poll on."""
    c = login("kader_a1")
    a1, a2 = tree.sessions["A1"], tree.sessions["A2"]
    _settle(c, a1)
    _move("kader_a1", posyandu_id=tree.posyandu["A2"].id)
    v_now = _version(a1)
    with Watch(app) as w:
        resp = _poll(c, a1, v_now)
    assert w.flask == 1 and resp.status_code == 404
    v_now = _version(a2)
    with Watch(app) as w:
        resp = _poll(c, a2, v_now)
    assert w.flask == 0 and resp.status_code == 200 and resp.data == b"" and len(w.sql) == 1, w.sql


def test_a_role_change_between_polls_follows_the_new_scope_not_the_remembered_one(app, tree, login):
    """Narrowed (the kelurahan clerk made kader of A2): A1's queue is out of her scope now (Flask: 404), though
    it was in the remembered one. Widened (a kader of A1 made clerk of kelurahan A): A2's queue, out of the
    remembered scope, is hers now and answered "unchanged" by the shortcut (her new scope's own statement)."""
    clerk = login("clerk_a")
    a1, a2 = tree.sessions["A1"], tree.sessions["A2"]
    _settle(clerk, a1)
    _move("clerk_a", role="kader", kelurahan_id=None, posyandu_id=tree.posyandu["A2"].id)
    v_now = _version(a1)
    with Watch(app) as w:
        resp = _poll(clerk, a1, v_now)
    assert w.flask == 1 and resp.status_code == 404

    kader = login("kader_a1")
    _settle(kader, a1)
    _move("kader_a1", role="kelurahan_clerk", posyandu_id=None, kelurahan_id=tree.kelurahan["A"].id)
    v_now = _version(a2)
    with Watch(app) as w:
        resp = _poll(kader, a2, v_now)
    assert w.flask == 0 and resp.status_code == 200 and resp.data == b"" and len(w.sql) == 2, w.sql
    v_now = _version(a2)
    with Watch(app) as w:
        resp = _poll(kader, a2, v_now)
    assert w.flask == 0 and resp.status_code == 200 and len(w.sql) == 1, w.sql


def test_a_user_made_installation_admin_is_not_answered_and_forgotten(app, tree, login):
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    _settle(c, hb)
    _move("kader_a1", role="installation_admin", district_id=None, posyandu_id=None)
    v_now = _version(hb)
    with Watch(app) as w:
        resp = _poll(c, hb, v_now)
    assert w.flask == 1 and resp.status_code == 403
    assert str(tree.users["kader_a1"].id) not in app.wsgi_app._nodes


def test_after_one_statement_polls_every_other_case_still_goes_to_flask(app, tree, login):
    """With the user's node remembered: another version (the fragment), a hari buka out of scope (404), a session
    due for its touch (Flask touches it), a revoked session and a deactivated user (401) — each as before."""
    c = login("kader_a1")
    a1, a2 = tree.sessions["A1"], tree.sessions["A2"]
    _settle(c, a1)
    v = _version(a1)
    with Watch(app) as w:
        resp = _poll(c, a1, v - 1)
    assert w.flask == 1 and resp.status_code == 200 and "Anak A1" in resp.get_data(as_text=True)
    v_now = _version(a2)
    with Watch(app) as w:
        resp = _poll(c, a2, v_now)
    assert w.flask == 1 and resp.status_code == 404
    old = utcnow() - timedelta(minutes=5)
    db.session.execute(update(AuthSession).values(last_seen_at=old))
    db.session.commit()
    with Watch(app) as w:
        resp = _poll(c, a1, v)
    assert w.flask == 1 and resp.status_code == 200 and resp.data == b""
    assert db.session.scalar(select(AuthSession.last_seen_at)) > old + timedelta(minutes=4)
    _settle(c, a1)

    db.session.execute(update(AuthSession).values(revoked_at=utcnow()))
    db.session.commit()
    with Watch(app) as w:
        resp = _poll(c, a1, v)
    assert w.flask == 1 and resp.status_code == 401 and "HX-Redirect" in resp.headers

    other = login("kader_a1")  # a new session of the same user: her node is remembered by user
    _settle(other, a1)
    _move("kader_a1", active=False)
    with Watch(app) as w:
        resp = _poll(other, a1, v)
    assert w.flask == 1 and resp.status_code == 401


def test_the_remembered_nodes_are_bounded(app, tree, login, monkeypatch):
    import posyandu.poll

    monkeypatch.setattr(posyandu.poll, "NODES", 2)
    shortcut = app.wsgi_app
    for name in ("kader_a1", "kader_a2", "clerk_a", "nakes_a"):
        c = login(name)
        hb = tree.sessions["A2" if name == "kader_a2" else "A1"]
        v_now = _version(hb)
        with Watch(app) as w:
            assert _poll(c, hb, v_now).data == b""
        assert w.flask == 0 and len(shortcut._nodes) <= 2
    assert list(shortcut._nodes) == [str(tree.users["clerk_a"].id), str(tree.users["nakes_a"].id)]


def test_polls_from_several_threads_at_once(app, tree, login, monkeypatch):
    """waitress answers from several threads: polls of four users at once, their remembered nodes evicted and
    remembered again all the while (room for one), are each answered "unchanged" by the shortcut."""
    import posyandu.poll
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    monkeypatch.setattr(posyandu.poll, "NODES", 1)
    polls = []
    for name, key in (("kader_a1", "A1"), ("kader_a2", "A2"), ("clerk_a", "A1"), ("nakes_a", "A2")):
        cookie = login(name).c.get_cookie("session").value
        hb = tree.sessions[key]
        polls.append(EnvironBuilder(path=f"/hari-buka/{hb.id}/meja/2/antrian", query_string={"v": _version(hb)},
                                    headers={**HX, "Cookie": f"session={cookie}"}))
    db.session.commit()
    answers, reached_flask = [], []

    def started(*_a, **_kw):
        reached_flask.append(1)
    request_started.connect(started, app)  # blinker holds it weakly: `started` lives till the end of the test

    def poller(builder):
        for _ in range(25):
            body, status, headers = run_wsgi_app(app.wsgi_app, builder.get_environ())
            answers.append((status, b"".join(body), headers.get("HX-Reswap")))

    threads = [threading.Thread(target=poller, args=(b,)) for b in polls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    request_started.disconnect(started, app)
    assert not reached_flask and len(answers) == 100
    assert set(answers) == {("200 OK", b"", "none")}, set(answers)


def test_a_cookie_is_verified_once_and_its_age_checked_at_every_poll(app, tree, login, monkeypatch):
    """The same cookie text verifies the same way: its signature is checked at the first poll only; its age at
    every poll, so a cookie past the session's lifetime goes to Flask as before (itsdangerous's SignatureExpired)."""
    import posyandu.shortcut

    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    shortcut = app.wsgi_app
    verified, loads = [], shortcut.serializer.loads
    monkeypatch.setattr(shortcut.serializer, "loads", lambda *a, **kw: (verified.append(1), loads(*a, **kw))[1])
    for _ in range(3):
        with Watch(app) as w:
            assert _poll(c, hb, v).data == b""
        assert w.flask == 0
    assert len(verified) == 1 and len(shortcut._cookies) == 1
    later = posyandu.shortcut.time.time() + shortcut.max_age + 2
    monkeypatch.setattr(posyandu.shortcut.time, "time", lambda: later)
    with Watch(app) as w:
        resp = _poll(c, hb, v)
    assert w.flask == 1 and resp.status_code == 401
    assert len(verified) == 1  # refused on its remembered age, without reading the session


def test_a_forged_or_flash_carrying_cookie_is_not_remembered(app, tree, login, client):
    hb = tree.sessions["A1"]
    v = _version(hb)
    client.c.set_cookie("session", "eyJhdXRoIjoieCJ9.forged.signature")
    with Watch(app) as w:
        resp = client.get(f"/hari-buka/{inspect(hb).identity[0]}/meja/2/antrian?v={v}", headers=HX)
    assert w.flask == 1 and resp.status_code == 401 and app.wsgi_app._cookies == {}
    c = login("kader_a1")
    serializer = app.wsgi_app.serializer
    data = serializer.loads(c.c.get_cookie("session").value)
    c.c.set_cookie("session", serializer.dumps({**data, "_fl": True}))
    with Watch(app) as w:
        resp = _poll(c, hb, v)
    assert w.flask == 1 and app.wsgi_app._cookies == {}


def test_a_long_cookie_header_is_verified_every_time_not_remembered(app, tree, login):
    """A valid session padded with other cookies: answered, but not kept (the memo's size stays bounded)."""
    c = login("kader_a1")
    hb = tree.sessions["A1"]
    v = _version(hb)
    c.c.set_cookie("pad", "x" * 2000)
    for _ in range(2):
        with Watch(app) as w:
            assert _poll(c, hb, v).data == b""
        assert w.flask == 0
    assert app.wsgi_app._cookies == {}
