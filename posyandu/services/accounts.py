"""Passwords, logins with a rate limit, and server-side sessions."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import AuthSession, User
from . import throttle
from ..models.base import utcnow
from .audit import acting

_hasher = PasswordHasher()
# Verified against when the username does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = None


def configure_hasher(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2id parameters (from the app config)."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _DUMMY_HASH = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class LoginResult:
    user: User | None = None
    token: str | None = None
    throttled: bool = False
    retry_after: int = 0  # seconds, when throttled


def login_rules(cfg) -> dict[str, throttle.Rule]:
    """The backoff rules from the config: per account and client, per client, per account from anywhere."""
    window = cfg["LOGIN_WINDOW_MINUTES"] * 60
    return {name: throttle.Rule(free, base, cap, window) for name, (free, base, cap) in cfg["LOGIN_THROTTLE"].items()}


def login(username: str, password: str, client: str, user_agent: str, cfg, known_user_id: int | None = None
          ) -> LoginResult:
    """Check a login; on success open a server-side session and return its token.

    Login, logout and the session touch commit on their own, deliberately: they are the authentication session
    itself (a failure must be counted, a logout must hold), never part of a use case a caller could roll back.

    Attempts are throttled with backoff, never locked: per account from this client (a few free tries), per client
    (a whole Posyandu may share one address), and per account from anywhere, except on a device where this account
    logged in before (`known_user_id`), so an attacker elsewhere cannot keep the real user out."""
    global _DUMMY_HASH
    username = username.strip().lower()[:50]
    client = (client or "")[:45]
    user = db.session.scalar(select(User).where(User.username == username))
    rules = login_rules(cfg)
    keys = [(f"login:{username}|{client}", rules["account_client"]), (f"client:{client}", rules["client"])]
    if user is None or known_user_id != user.id:
        keys.append((f"login:{username}", rules["account"]))
    counted = []
    for key, rule in keys:
        verdict = throttle.attempt(key, rule)
        if not verdict.allowed:
            for k in counted:  # this attempt did not happen
                throttle.refund(k)
            db.session.commit()
            return LoginResult(throttled=True, retry_after=verdict.retry_after)
        counted.append(key)
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        check_password(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password(user.password_hash, password) and user.active
    if not ok:
        return LoginResult()
    if _hasher.check_needs_rehash(user.password_hash):
        acting(db.session, user)
        user.password_hash = hash_password(password)
    throttle.clear(keys[0][0])
    throttle.clear(f"login:{username}")
    throttle.refund(keys[1][0])  # a success is not a failure of the client
    if secrets.randbelow(50) == 0:  # now and then, forget counters idle for a day (they start over anyway)
        throttle.prune(86400)
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=_digest(token), user_id=user.id, user_agent=(user_agent or "")[:200]))
    db.session.commit()
    return LoginResult(user=user, token=token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _commit_touch() -> None:
    """Commit a session's last-seen time. On a page load (a deferred read on SQLite) the write can lose to a
    meja saving at that moment (SQLITE_BUSY_SNAPSHOT); the touch is only bookkeeping, so it waits for the next
    request rather than failing this one."""
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


# One query for the session and its user, built once: this runs on every request.
_SESSION_AND_USER = (select(AuthSession, User).join(User, User.id == AuthSession.user_id)
                     .where(AuthSession.token_hash == bindparam("token_hash")))


def user_for_token(token: str | None, idle_minutes: int) -> User | None:
    """The user of a live session; touches it at most once a minute so reads stay cheap."""
    if not token:
        return None
    row = db.session.execute(_SESSION_AND_USER, {"token_hash": _digest(token)}).first()
    now = utcnow()
    if row is None or row[0].revoked_at is not None:
        return None
    auth, user = row
    if now - auth.last_seen_at > timedelta(minutes=idle_minutes):
        auth.revoked_at = now
        _commit_touch()
        return None
    if now - auth.last_seen_at > timedelta(minutes=1):
        auth.last_seen_at = now
        _commit_touch()
    return user if user.active else None


def logout(token: str | None) -> None:
    """Revoke the session on the server: the cookie alone no longer logs anyone in."""
    if not token:
        return
    auth = db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()
        db.session.commit()


def revoke_all(user: User, keep_token: str | None = None) -> None:
    """Log a user out everywhere (after a password change or deactivation), except the session `keep_token`."""
    keep = _digest(keep_token) if keep_token else None
    for auth in db.session.scalars(select(AuthSession).where(AuthSession.user_id == user.id,
                                                             AuthSession.revoked_at.is_(None))):
        if auth.token_hash != keep:
            auth.revoked_at = utcnow()


def change_password(user: User, current: str, new: str, own_token: str | None, cfg) -> str:
    """Her own password change: "ok", "wrong" (current password) or "throttled". The session she changes it from
    stays; every other one is logged out."""
    key = f"password:{user.id}"
    if not throttle.attempt(key, login_rules(cfg)["account_client"]).allowed:
        return "throttled"
    if not check_password(user.password_hash, current):
        return "wrong"
    throttle.clear(key)
    acting(db.session, user)
    user.password_hash = hash_password(new)
    revoke_all(user, keep_token=own_token)
    db.session.flush()
    return "ok"


NODE_OF_ROLE = {"installation_admin": None, "district_admin": None, "kelurahan_clerk": "kelurahan_id", "nakes": "puskesmas_id",
                "ketua": "posyandu_id", "kader": "posyandu_id"}


def save_user(actor: User | None, user: User, data: dict, password: str | None) -> User:
    """Create or change an account; only the node its role needs is kept. A new password logs it out
    everywhere."""
    acting(db.session, actor)
    node = NODE_OF_ROLE[data["role"]]
    for key in ("kelurahan_id", "puskesmas_id", "posyandu_id"):
        data[key] = data.get(key) if key == node else None
    for k, v in data.items():
        setattr(user, k, v)
    if password:
        user.password_hash = hash_password(password)
        if user.id is not None:
            revoke_all(user)
    elif not user.password_hash:  # invited: she sets her own through a one-time link (services.invitations)
        user.password_hash = "!invited-" + secrets.token_hex(16)
    if not user.active and user.id is not None:
        revoke_all(user)
    db.session.add(user)
    db.session.flush()
    return user
