"""Flash messages of a logged-in user are kept on the server, not in the session cookie.

Flask keeps flashes in its session, which is a cookie: signed, not encrypted. "Siti Rahasia terdaftar" would sit
base64-readable in the browser, in proxies' logs and in any copy of the cookie. Here the messages of a logged-in
user wait on her server-side session row (AuthSession.flashes) between the post that made them and the page that
shows them; the cookie only carries a marker that there is something to show. Without a login (the login page,
"Anda telah keluar") there is no personal data to show and Flask's cookie storage is kept.
"""
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from .database import writing
from .extensions import db

FLASHES = "_flashes"
PENDING = "_fl"


def _auth_session(token: str):
    from .models import AuthSession
    from .services.accounts import _digest

    return db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))


class ServerSideFlashes(SecureCookieSessionInterface):
    def open_session(self, app, request):
        session = super().open_session(app, request)
        if session is not None and session.get(PENDING) and session.get("auth"):
            session.pop(PENDING)
            with writing():
                auth = _auth_session(session["auth"])
                flashes = auth.flashes if auth is not None else None
                if flashes:
                    auth.flashes = None
                db.session.commit()
            if flashes:
                session[FLASHES] = [tuple(f) for f in flashes]
        return session

    def save_session(self, app, session, response):
        if session.get(FLASHES) and session.get("auth"):
            flashes = [list(f) for f in session.pop(FLASHES)]
            db.session.rollback()  # what the view meant to keep is committed; nothing else may ride along
            with writing():
                auth = _auth_session(session["auth"])
                if auth is not None:
                    auth.flashes = (auth.flashes or []) + flashes
                    session[PENDING] = 1
                db.session.commit()
        super().save_session(app, session, response)
