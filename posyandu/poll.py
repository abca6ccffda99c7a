"""The unchanged queue poll, answered before Flask.

Every phone on a meja page asks every 5 s whether its queue changed, and nearly every answer is "no". Through
Flask that "no" cost ~1 ms of CPU (request context, cookie session, flask-login, two ORM loads, hooks): most of it
machinery around comparing two integers. This WSGI layer answers exactly that case — a live session of an
active user seen within the last minute, a hari buka in her scope, the same version — with the same empty answer
as `web.unchanged()`, from small queries sent straight to the driver: the session with its user's node of the
tree, then the hari buka's version in that node's scope; from her second poll on, both in one statement
(scope.session_node_and_version, built for the node seen at her last poll: on PostgreSQL one round trip, not two),
whose version counts only if the node it reads is still that node; a phone's Cookie header is parsed and its
signature checked once (the same text verifies the same way; its age is checked at every poll). Anything else (no
or bad cookie, a session due for its once-a-minute touch, flashes waiting, another version, not in scope, any
error) goes on to Flask untouched, which answers as before (401, 404, the queue fragment): the shortcut only ever
says "nothing changed" to someone the full path would have told the same.
"""
import hashlib
import re
import threading
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from itsdangerous import BadSignature
from werkzeug.http import parse_cookie

from .models.base import utcnow

PATH = re.compile(r"/hari-buka/([0-9]{1,10})/meja/([1-5])/antrian\Z")
VERSION = re.compile(r"(?:^|&)v=([0-9]{1,10})(?:&|$)")
# The once-a-minute touch of accounts.user_for_token: a session not touched within it takes the full path.
TOUCH = timedelta(minutes=1)
# Users whose node the shortcut remembers (a few bytes each; a district has a few thousand accounts).
NODES = 20000
# Cookie headers whose session the shortcut remembers as verified (a phone's changes about once a minute, when the
# full path sets a new session cookie), and the longest remembered: at most ~8 MB however the headers are padded.
COOKIES = 8192
COOKIE_TEXT = 1024
# Compiled statements kept (two per node of the tree and the session's); past this they are compiled afresh.
COMPILED = 4096
UNCHANGED_HEADERS = [("Content-Length", "0"), ("HX-Reswap", "none"), ("Cache-Control", "no-store")]


class UnchangedPoll:
    """WSGI middleware in front of the Flask app (see the module docstring)."""

    def __init__(self, wsgi_app, app, engine):
        from flask.sessions import SecureCookieSessionInterface

        self.wsgi_app = wsgi_app
        self.engine = engine
        self._compiled: dict = {}  # statement → compiled (a few: the session's, two per node of the tree)
        # user id → her node of the tree as the shortcut last read it: a guess that lets her next poll be one
        # statement (session_node_and_version), never trusted — that statement reads her node again.
        self._nodes: dict = {}
        self._cookies: dict = {}  # Cookie header's text → (signed at, user id, token hash): see _session_of
        self._lock = threading.Lock()
        self.cookie = app.config["SESSION_COOKIE_NAME"]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())
        self.fresh = min(TOUCH, timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"]))
        # Only the cookie sessions Flask itself would read (our ServerSideFlashes keeps Flask's cookie format).
        iface = app.session_interface
        self.serializer = (iface.get_signing_serializer(app)
                           if isinstance(iface, SecureCookieSessionInterface) else None)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and self.serializer is not None:
            m = PATH.match(environ.get("PATH_INFO", ""))
            if m is not None:
                try:
                    if self._unchanged(environ, int(m.group(1))):
                        start_response("200 OK", list(UNCHANGED_HEADERS))
                        return [b""]
                except Exception:  # noqa: BLE001 — never an error of its own: Flask answers instead
                    pass
        return self.wsgi_app(environ, start_response)

    def _unchanged(self, environ, hb_id: int) -> bool:
        from .services import scope

        v = VERSION.search(environ.get("QUERY_STRING", ""))
        session = self._session_of(environ.get("HTTP_COOKIE", "")) if v else None
        if session is None:
            return False
        user_id, token_hash = session
        seen = self._nodes.get(user_id)  # her node at her last poll: one statement if it still is
        conn = self.engine.raw_connection()  # the DBAPI connection: Core's execution machinery was half the cost
        driver = conn.driver_connection
        # Reads need no transaction: on PostgreSQL without one each SELECT is one round trip, with no BEGIN and
        # ROLLBACK around them. Restored before the connection goes back to the pool.
        pg_reads = self.engine.dialect.name == "postgresql"
        try:
            if pg_reads:
                driver.autocommit = True
            cur = conn.cursor()
            if seen is None:
                cur.execute(*self._sql(scope.SESSION_NODE, {"token_hash": token_hash}))
            else:
                cur.execute(*self._sql(scope.session_node_and_version(seen),
                                       {"token_hash": token_hash, "obj_id": hb_id}))
            row = cur.fetchone()
            if row is None:
                return False
            revoked_at, last_seen_at, uid, active, role, district_id, kelurahan_id, puskesmas_id, posyandu_id = row[:9]
            if isinstance(last_seen_at, str):  # SQLite hands back its text
                last_seen_at = datetime.fromisoformat(last_seen_at)
            if (revoked_at is not None or not active or str(uid) != str(user_id)
                    or utcnow() - last_seen_at > self.fresh):
                return False
            node = scope.node_of(_Row(role, district_id, kelurahan_id, puskesmas_id, posyandu_id))
            if node is None:
                self._keep(self._nodes, user_id, None, NODES)
                return False
            if node == seen:  # the version was read in her scope, in the same statement as her node
                version = row[9]
            else:  # first poll, or her node changed (moved, another role): her scope's own statement
                self._keep(self._nodes, user_id, node, NODES)
                cur.execute(*self._sql(scope.version_lookup(node), {"obj_id": hb_id}))
                found = cur.fetchone()
                version = None if found is None else found[0]
            cur.close()
        finally:
            try:
                if pg_reads:
                    driver.autocommit = False
                else:
                    conn.rollback()
            finally:
                conn.close()
        return version is not None and version == int(v.group(1))

    def _session_of(self, cookies: str) -> tuple[str, str] | None:
        """(user id, token hash) of the session in a Cookie header that Flask would accept, without flashes
        waiting; else None. A header is parsed and its session verified once, by its exact text (a phone sends the
        same one with every poll until Flask sets a new cookie; parsing and the signature were a quarter of the
        shortcut's CPU): the same text verifies the same way, and only the signature's age is checked again, as
        itsdangerous would."""
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
            known = (int(signed.timestamp()), str(user_id), hashlib.sha256(token.encode()).hexdigest())
            if len(cookies) <= COOKIE_TEXT:
                self._keep(self._cookies, cookies, known, COOKIES)
        elif not 0 <= int(time.time()) - known[0] <= self.max_age:  # itsdangerous's SignatureExpired
            return None
        return known[1], known[2]

    def _keep(self, memo: dict, key, value, size: int) -> None:
        """key → value in one of the shortcut's memos (None: forget it), at most `size` of them, the oldest
        forgotten first. Writes under a lock; reads without (a dict's get is atomic, and a missing entry only
        costs the work it saves)."""
        with self._lock:
            memo.pop(key, None)
            if value is not None:
                while len(memo) >= size:
                    del memo[next(iter(memo))]
                memo[key] = value

    def _sql(self, statement, values: dict) -> tuple:
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
