"""Everyday pages answered again, byte for byte, while nothing they show has changed.

The people list, the person card and the meja pages are asked for again and again — a clerk paging back, a kader
reopening the card, phones at the same meja — and nearly every time nothing they show has changed since. This WSGI
layer keeps the answer Flask gave to one login session for one page (the same URL and the same request headers
that shape it) together with what it was computed from — the day, the user and her node of the tree, the change
token of each Posyandu in her scope and the site token (services.changes) — and answers the same request with the
same bytes while all of them are still the same, from two small statements sent straight to the driver.

It is a faithful copy, never a guess:
- the tokens are read *before* Flask runs, so the page is at least as new as them; any commit that changes a
  Posyandu's records renews its token in the same commit, and any commit that changes anything else a page shows
  (places, accounts, kader, kit, months …) renews the site token;
- Flask marks a page to keep only after it ran (`_mark`): one of ENDPOINTS, a 200 for the same user, and every
  record of a Posyandu it loaded is one whose change renews a token of her scope (a person queued from another
  Posyandu, a mother registered elsewhere: that page is answered by Flask every time); a page that reads such a
  thing as plain rows, which no load event shows, says so (`shows_outside`);
- only a session the full path would accept and leave as it is: live, active, touched within the minute (else
  Flask touches it), no flashes waiting; and only an answer that sets no cookie;
- an answer is kept MAX_AGE at most, in a bounded store (ENTRIES, WEIGHT) of this process.
Anything else goes on to Flask, which answers as before.
"""
import re
import threading
import time
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from flask import has_request_context, request
from sqlalchemy import event, select

from .shortcut import SessionShortcut
from .sync.tracking import NAME_OF

PATH = re.compile(r"/sasaran/(?:[0-9]{1,10})?\Z"
                  r"|/hari-buka/[0-9]{1,10}/(?:meja/[1-5]|kunjungan/[0-9]{1,10}/meja/[2-5])\Z")
ENDPOINTS = frozenset({"people.list_people", "people.view_person", "sessions.meja", "sessions.work"})
# Request headers (WSGI names) a page may be shaped by, besides every htmx header (HX-…; not HX-Current-URL,
# which only says where the browser was).
KEYED = ("wsgi.url_scheme", "SCRIPT_NAME", "HTTP_HOST", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE",
         "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PREFIX")
ENTRIES = 4096
WEIGHT = 32 * 1024 * 1024  # bytes of kept answers (compressed pages are 2–7 KB)
MAX_AGE = 600  # seconds
ENVIRON = "posyandu.unchanged_pages"


class Pending:
    """What a request on its way to Flask was stamped with, and whether Flask found its answer fit to keep."""

    __slots__ = ("stamp", "user_id", "posyandu", "loaded", "outside", "ok")

    def __init__(self, stamp: tuple, user_id: str, posyandu: frozenset):
        self.stamp, self.user_id, self.posyandu, self.ok, self.outside = stamp, user_id, posyandu, False, False
        self.loaded = []  # every record of a Posyandu the page loaded (held: the identity map's hold is weak)


class Entry(NamedTuple):
    stamp: tuple
    status: str
    headers: list
    body: bytes
    at: float


@lru_cache(maxsize=1024)
def tokens_lookup(node):
    """The Posyandu of this node's scope with their change tokens, and the site token on every row."""
    from .models import Posyandu, PosyanduChange, SiteChange
    from .services import scope

    site = select(SiteChange.token).where(SiteChange.id == 1).scalar_subquery()
    return (select(Posyandu.id, PosyanduChange.token, site)
            .outerjoin(PosyanduChange, PosyanduChange.posyandu_id == Posyandu.id)
            .where(Posyandu.id.in_(scope.posyandu_ids(node))).order_by(Posyandu.id))


class UnchangedPages(SessionShortcut):
    """WSGI middleware in front of the Flask app (see the module docstring)."""

    def __init__(self, wsgi_app, app, engine):
        super().__init__(wsgi_app, app, engine)
        self._entries: dict = {}  # key → Entry, oldest first
        self._weight = 0
        self._store_lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and self.serializer is not None \
                and PATH.match(environ.get("PATH_INFO", "")):
            try:
                found = self._stamp(environ)
            except Exception:  # noqa: BLE001 — never an error of its own: Flask answers instead
                found = None
            if found is not None:
                key, pending = found
                entry = self._entries.get(key)
                if entry is not None and entry.stamp == pending.stamp and time.monotonic() - entry.at < MAX_AGE:
                    start_response(entry.status, list(entry.headers))
                    return [entry.body]
                environ[ENVIRON] = pending
                return self._record(environ, start_response, key, pending)
        return self.wsgi_app(environ, start_response)

    def _stamp(self, environ) -> tuple | None:
        """(key, Pending) of a request of a live session, or None (Flask answers as for anyone)."""
        session = self.session_of(environ.get("HTTP_COOKIE", ""))
        if session is None:
            return None
        with self.cursor() as cur:
            from .services import scope

            cur.execute(*self.sql(scope.SESSION_NODE, {"token_hash": session.token_hash}))
            live = self.live(session, cur.fetchone())
            if live is None:
                return None
            cur.execute(*self.sql(tokens_lookup(live.node), {}))
            rows = cur.fetchall()
        # A Posyandu without a token, or no site token yet: nothing to compare with; Flask answers.
        if not rows or rows[0][2] is None or any(token is None for _pid, token, _site in rows):
            return None
        tokens = tuple((pid, token) for pid, token, _site in rows)
        stamp = (date.today(), live.user_id, live.node, tokens, rows[0][2])
        shaped = tuple(environ.get(k) for k in KEYED) + tuple(sorted(
            (k, v) for k, v in environ.items() if k.startswith("HTTP_HX_") and k != "HTTP_HX_CURRENT_URL"))
        key = (session.contents, environ.get("PATH_INFO"), environ.get("QUERY_STRING", ""), shaped)
        return key, Pending(stamp, live.user_id, frozenset(pid for pid, _token in tokens))

    def _record(self, environ, start_response, key, pending: Pending):
        """Flask's answer, kept when Flask found it fit to keep and it sets no cookie."""
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, list(headers)
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        headers = seen.get("headers") or []
        if not (pending.ok and seen.get("status", "").startswith("200 ")
                and not any(name.lower() == "set-cookie" for name, _value in headers)):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        self._put(key, Entry(pending.stamp, seen["status"], headers, data, time.monotonic()))
        return [data]

    def _put(self, key, entry: Entry) -> None:
        with self._store_lock:
            old = self._entries.pop(key, None)
            self._weight -= len(old.body) if old else 0
            while self._entries and (len(self._entries) >= ENTRIES or self._weight + len(entry.body) > WEIGHT):
                self._weight -= len(self._entries.pop(next(iter(self._entries))).body)
            self._entries[key] = entry
            self._weight += len(entry.body)


def shows_outside() -> None:
    """This page shows something of a Posyandu outside the user's scope read as plain rows (which `_loaded` does
    not see: a mother registered elsewhere, by her initial): it is answered by Flask every time."""
    pending = request.environ.get(ENVIRON) if has_request_context() else None
    if pending is not None:
        pending.outside = True


def _loaded(target, _context) -> None:
    """A record of a Posyandu loaded by a stamped request: noted, for `_mark`."""
    if has_request_context():
        pending = request.environ.get(ENVIRON)
        if pending is not None:
            pending.loaded.append(target)


for _model in NAME_OF:
    event.listen(_model, "load", _loaded)


def init_app(app) -> None:
    """Flask's half: mark what a stamped request may keep, once its answer is made."""
    from flask_login import current_user

    from .extensions import db
    from .services.changes import covered

    @app.after_request
    def _mark(response):
        pending = request.environ.get(ENVIRON)
        if (pending is not None and request.endpoint in ENDPOINTS and response.status_code == 200
                and not pending.outside and current_user.is_authenticated
                and str(current_user.id) == pending.user_id and covered(db.session, pending.loaded, pending.posyandu)):
            pending.ok = True
        return response
