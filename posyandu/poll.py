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
import re

from .shortcut import SessionShortcut

PATH = re.compile(r"/hari-buka/([0-9]{1,10})/meja/([1-5])/antrian\Z")
VERSION = re.compile(r"(?:^|&)v=([0-9]{1,10})(?:&|$)")
# Users whose node the shortcut remembers (a few bytes each; a district has a few thousand accounts).
NODES = 20000
UNCHANGED_HEADERS = [("Content-Length", "0"), ("HX-Reswap", "none"), ("Cache-Control", "no-store")]


class UnchangedPoll(SessionShortcut):
    """WSGI middleware in front of the Flask app (see the module docstring)."""

    def __init__(self, wsgi_app, app, engine):
        super().__init__(wsgi_app, app, engine)
        # user id → her node of the tree as the shortcut last read it: a guess that lets her next poll be one
        # statement (session_node_and_version), never trusted — that statement reads her node again.
        self._nodes: dict = {}

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
        session = self.session_of(environ.get("HTTP_COOKIE", "")) if v else None
        if session is None:
            return False
        seen = self._nodes.get(session.user_id)  # her node at her last poll: one statement if it still is
        with self.cursor() as cur:
            if seen is None:
                cur.execute(*self.sql(scope.SESSION_NODE, {"token_hash": session.token_hash}))
            else:
                cur.execute(*self.sql(scope.session_node_and_version(seen),
                                      {"token_hash": session.token_hash, "obj_id": hb_id}))
            live = self.live(session, cur.fetchone())
            if live is None:
                self.keep(self._nodes, session.user_id, None, NODES)
                return False
            if live.node == seen:  # the version was read in her scope, in the same statement as her node
                version = live.row[9]
            else:  # first poll, or her node changed (moved, another role): her scope's own statement
                self.keep(self._nodes, session.user_id, live.node, NODES)
                cur.execute(*self.sql(scope.version_lookup(live.node), {"obj_id": hb_id}))
                found = cur.fetchone()
                version = None if found is None else found[0]
        return version is not None and version == int(v.group(1))
