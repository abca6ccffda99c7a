"""The unchanged queue poll, answered before Flask.

Every phone on a meja page asks every 5 s whether its queue changed, and nearly every answer is "no". Through
Flask that "no" cost ~1 ms of CPU (request context, cookie session, flask-login, two ORM loads, hooks): most of it
machinery around comparing two integers. This WSGI layer answers exactly that case — a live session of an
active user seen within the last minute, a hari buka in her scope, the same version — with the same empty answer
as `web.unchanged()`, from two small queries sent straight to the driver. Anything else (no or bad cookie, a session due for its
once-a-minute touch, flashes waiting, another version, not in scope, any error) goes on to Flask untouched, which
answers as before (401, 404, the queue fragment): the shortcut only ever says "nothing changed" to someone the
full path would have told the same.
"""
import hashlib
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from itsdangerous import BadSignature
from werkzeug.http import parse_cookie

from .models.base import utcnow

PATH = re.compile(r"/hari-buka/([0-9]{1,10})/meja/([1-5])/antrian\Z")
VERSION = re.compile(r"(?:^|&)v=([0-9]{1,10})(?:&|$)")
# The once-a-minute touch of accounts.user_for_token: a session not touched within it takes the full path.
TOUCH = timedelta(minutes=1)
UNCHANGED_HEADERS = [("Content-Length", "0"), ("HX-Reswap", "none"), ("Cache-Control", "no-store")]


class UnchangedPoll:
    """WSGI middleware in front of the Flask app (see the module docstring)."""

    def __init__(self, wsgi_app, app, engine):
        from flask.sessions import SecureCookieSessionInterface

        self.wsgi_app = wsgi_app
        self.engine = engine
        self._compiled: dict = {}  # statement → compiled (a few: the session's, one per node of the tree)
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
        raw = parse_cookie(environ.get("HTTP_COOKIE", "")).get(self.cookie) if v else None
        if not raw:
            return False
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return False
        token, user_id = data.get("auth"), data.get("_user_id")
        if not token or not user_id or data.get("_fl"):  # _fl: flashes wait on the server for the next page
            return False
        conn = self.engine.raw_connection()  # the DBAPI connection: Core's execution machinery was half the cost
        driver = conn.driver_connection
        # Two reads need no transaction: on PostgreSQL without one the poll is two round trips instead of four
        # (BEGIN, the two SELECTs, ROLLBACK). Restored before the connection goes back to the pool.
        pg_reads = self.engine.dialect.name == "postgresql"
        try:
            if pg_reads:
                driver.autocommit = True
            cur = conn.cursor()
            cur.execute(*self._sql(scope.SESSION_NODE, {"token_hash": hashlib.sha256(token.encode()).hexdigest()}))
            row = cur.fetchone()
            if row is None:
                return False
            revoked_at, last_seen_at, uid, active, role, district_id, kelurahan_id, puskesmas_id, posyandu_id = row
            if isinstance(last_seen_at, str):  # SQLite hands back its text
                last_seen_at = datetime.fromisoformat(last_seen_at)
            if (revoked_at is not None or not active or str(uid) != str(user_id)
                    or utcnow() - last_seen_at > self.fresh):
                return False
            node = scope.node_of(_Row(role, district_id, kelurahan_id, puskesmas_id, posyandu_id))
            if node is None:
                return False
            cur.execute(*self._sql(scope.version_lookup(node), {"obj_id": hb_id}))
            found = cur.fetchone()
            cur.close()
        finally:
            try:
                if pg_reads:
                    driver.autocommit = False
                else:
                    conn.rollback()
            finally:
                conn.close()
        return found is not None and found[0] == int(v.group(1))

    def _sql(self, statement, values: dict) -> tuple:
        """(SQL, parameters) for the driver: the statement compiled once per statement object."""
        compiled = self._compiled.get(statement)
        if compiled is None:
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
