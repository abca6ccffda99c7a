"""What the WSGI shortcuts in front of Flask share (posyandu.poll, posyandu.unchanged_pages): a login session read
from the Cookie header as Flask would read it, and small queries sent straight to the driver.

A shortcut answers a request itself only when the full path would give the same answer; anything else — no or a
bad cookie, a session due for its once-a-minute touch, flashes waiting, any error — goes on to Flask untouched.
"""
import hashlib
import json
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from itsdangerous import BadSignature
from werkzeug.http import parse_cookie

from .models.base import utcnow

# The once-a-minute touch of accounts.user_for_token: a session not touched within it takes the full path.
TOUCH = timedelta(minutes=1)
# Cookie headers whose session a shortcut remembers as verified (a phone's changes about once a minute, when the
# full path sets a new session cookie), and the longest remembered: at most ~8 MB however the headers are padded.
COOKIES = 8192
COOKIE_TEXT = 1024
# Compiled statements kept (a few per node of the tree and the session's); past this they are compiled afresh.
COMPILED = 4096


class Session(NamedTuple):
    """A verified login session from a Cookie header."""

    signed_at: int
    user_id: str
    token_hash: str
    contents: str  # a digest of everything in the cookie session (the login, its language, its CSRF secret …)


class Live(NamedTuple):
    """The live session's user and her node of the tree (scope.node_of), as the database says now."""

    user_id: str
    node: tuple
    row: tuple  # the statement's whole row (a caller may have added columns)


class SessionShortcut:
    """WSGI middleware in front of the Flask app that may answer some requests of a live login itself."""

    def __init__(self, wsgi_app, app, engine):
        from flask.sessions import SecureCookieSessionInterface

        self.wsgi_app = wsgi_app
        self.engine = engine
        self._compiled: dict = {}  # statement → compiled
        self._cookies: dict = {}  # Cookie header's text → Session: see session_of
        self._lock = threading.Lock()
        self.cookie = app.config["SESSION_COOKIE_NAME"]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())
        self.fresh = min(TOUCH, timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"]))
        # Only the cookie sessions Flask itself would read (our ServerSideFlashes keeps Flask's cookie format).
        iface = app.session_interface
        self.serializer = (iface.get_signing_serializer(app)
                           if isinstance(iface, SecureCookieSessionInterface) else None)

    def session_of(self, cookies: str) -> Session | None:
        """The session in a Cookie header that Flask would accept, without flashes waiting; else None. A header is
        parsed and its session verified once, by its exact text (a phone sends the same one with every request
        until Flask sets a new cookie; parsing and the signature were a quarter of the poll's CPU): the same text
        verifies the same way, and only the signature's age is checked again, as itsdangerous would."""
        known = self._cookies.get(cookies)
        if known is None:
            raw = parse_cookie(cookies).get(self.cookie)
            if not raw:
                return None
            try:
                data, signed = self.serializer.loads(raw, max_age=self.max_age, return_timestamp=True)
            except BadSignature:
                return None
            token, user_id = data.get("auth"), data.get("_user_id")
            if not token or not user_id or data.get("_fl"):  # _fl: flashes wait on the server for the next page
                return None
            contents = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
            known = Session(int(signed.timestamp()), str(user_id), hashlib.sha256(token.encode()).hexdigest(),
                            contents)
            if len(cookies) <= COOKIE_TEXT:
                self.keep(self._cookies, cookies, known, COOKIES)
        elif not 0 <= int(time.time()) - known.signed_at <= self.max_age:  # itsdangerous's SignatureExpired
            return None
        return known

    def live(self, session: Session, row) -> Live | None:
        """Her user and node from a row starting with scope.SESSION_NODE's columns, if the session is live, fresh
        (touched within the minute: else the full path touches it) and her user active with a node; else None."""
        from .services import scope

        if row is None:
            return None
        revoked_at, last_seen_at, uid, active, role, district_id, kelurahan_id, puskesmas_id, posyandu_id = row[:9]
        if isinstance(last_seen_at, str):  # SQLite hands back its text
            last_seen_at = datetime.fromisoformat(last_seen_at)
        if (revoked_at is not None or not active or str(uid) != session.user_id
                or utcnow() - last_seen_at > self.fresh):
            return None
        node = scope.node_of(_Row(role, district_id, kelurahan_id, puskesmas_id, posyandu_id))
        return None if node is None else Live(session.user_id, node, row)

    @contextmanager
    def cursor(self):
        """A DBAPI cursor (Core's execution machinery was half the poll's cost). Reads need no transaction: on
        PostgreSQL without one each SELECT is one round trip, with no BEGIN and ROLLBACK around them; restored
        before the connection goes back to the pool."""
        conn = self.engine.raw_connection()
        driver = conn.driver_connection
        pg_reads = self.engine.dialect.name == "postgresql"
        try:
            if pg_reads:
                driver.autocommit = True
            cur = conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
        finally:
            try:
                if pg_reads:
                    driver.autocommit = False
                else:
                    conn.rollback()
            finally:
                conn.close()

    def keep(self, memo: dict, key, value, size: int) -> None:
        """key → value in one of the shortcut's memos (None: forget it), at most `size` of them, the oldest
        forgotten first. Writes under a lock; reads without (a dict's get is atomic, and a missing entry only
        costs the work it saves)."""
        with self._lock:
            memo.pop(key, None)
            if value is not None:
                while len(memo) >= size:
                    del memo[next(iter(memo))]
                memo[key] = value

    def sql(self, statement, values: dict) -> tuple:
        """(SQL, parameters) for the driver: the statement compiled once per statement object."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            if len(self._compiled) >= COMPILED:  # scope's lru_caches build new statement objects past their size
                self._compiled.clear()
            compiled = self._compiled[statement] = statement.compile(dialect=self.engine.dialect)
        params = compiled.construct_params(values)
        if compiled.positiontup is not None:
            return compiled.string, tuple(params[name] for name in compiled.positiontup)
        return compiled.string, params


class _Row(NamedTuple):
    role: str
    district_id: int | None
    kelurahan_id: int | None
    puskesmas_id: int | None
    posyandu_id: int | None
