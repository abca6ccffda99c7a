"""Passwords, logins with a rate limit, and server-side sessions."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import AuthSession, LoginAttempt, User
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


def login(username: str, password: str, ip: str, user_agent: str, cfg: dict) -> LoginResult:
    """Check a login; on success open a server-side session and return its token."""
    global _DUMMY_HASH
    username = username.strip().lower()
    since = utcnow() - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    by_name = db.session.scalar(select(func.count()).where(LoginAttempt.username == username, LoginAttempt.at >= since))
    by_ip = db.session.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.at >= since))
    if by_name >= cfg["LOGIN_MAX_FAILURES"] or by_ip >= cfg["LOGIN_MAX_FAILURES_PER_IP"]:
        return LoginResult(throttled=True)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_password(secrets.token_hex(8))
        check_password(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password(user.password_hash, password) and user.active
    if not ok:
        db.session.add(LoginAttempt(username=username[:50], ip=ip[:45]))
        db.session.commit()
        return LoginResult()
    if _hasher.check_needs_rehash(user.password_hash):
        acting(db.session, user)
        user.password_hash = hash_password(password)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=_digest(token), user_id=user.id, user_agent=(user_agent or "")[:200]))
    db.session.commit()
    return LoginResult(user=user, token=token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(token: str | None, idle_minutes: int) -> User | None:
    """The user of a live session; touches it at most once a minute so reads stay cheap."""
    if not token:
        return None
    auth = db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    now = utcnow()
    if auth is None or auth.revoked_at is not None:
        return None
    if now - auth.last_seen_at > timedelta(minutes=idle_minutes):
        auth.revoked_at = now
        db.session.commit()
        return None
    if now - auth.last_seen_at > timedelta(minutes=1):
        auth.last_seen_at = now
        db.session.commit()
    user = db.session.get(User, auth.user_id)
    return user if user is not None and user.active else None


def logout(token: str | None) -> None:
    """Revoke the session on the server: the cookie alone no longer logs anyone in."""
    if not token:
        return
    auth = db.session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token)))
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = utcnow()
        db.session.commit()


def revoke_all(user: User) -> None:
    """Log a user out everywhere (after a password change or deactivation)."""
    for auth in db.session.scalars(select(AuthSession).where(AuthSession.user_id == user.id,
                                                             AuthSession.revoked_at.is_(None))):
        auth.revoked_at = utcnow()


NODE_OF_ROLE = {"district_admin": None, "kelurahan_clerk": "kelurahan_id", "nakes": "puskesmas_id",
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
    if not user.active and user.id is not None:
        revoke_all(user)
    db.session.add(user)
    db.session.commit()
    return user
