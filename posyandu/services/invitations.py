"""One-time invitation links: a new account's owner sets her own password instead of being handed one.

The token is random (256 bits) and only its SHA-256 is stored, so a database dump opens no account and the
lookup by hash compares nothing secret byte by byte; a slow password hash adds nothing for a secret this long.
A link expires after DAYS, works once, and a newer link for the same account replaces the older. Creating and
using one is audited (the Invitation rows; the token itself is never written anywhere but the creator's screen).
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ..extensions import db
from ..models import AuditLog, Invitation, User
from ..models.base import utcnow
from .accounts import hash_password, revoke_all
from .audit import acting

DAYS = 7


def digest(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def unusable_password() -> str:
    """What an invited account holds until she sets her own: no password verifies against it."""
    return "!invited-" + secrets.token_hex(16)


def has_password(user: User) -> bool:
    return not (user.password_hash or "!").startswith("!")


def create(actor: User, user: User) -> str:
    """A new link for the account (any earlier open one stops working); returns the token, to be shown once."""
    acting(db.session, actor)
    now = utcnow()
    for old in db.session.scalars(select(Invitation).where(Invitation.user_id == user.id,
                                                           Invitation.used_at.is_(None),
                                                           Invitation.revoked_at.is_(None))):
        old.revoked_at = now
    token = secrets.token_urlsafe(32)
    db.session.add(Invitation(user_id=user.id, token_hash=digest(token), created_by_id=actor.id, created_at=now,
                              expires_at=now + timedelta(days=DAYS)))
    db.session.flush()
    return token


def state(invitation: Invitation | None) -> str:
    """'open', or why the link no longer works: 'unknown', 'used', 'replaced', 'expired', 'inactive'."""
    if invitation is None:
        return "unknown"
    if invitation.used_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "replaced"
    if invitation.expires_at <= utcnow():
        return "expired"
    if not invitation.user.active:
        return "inactive"
    return "open"


def find(token_hash: str | None) -> Invitation | None:
    """The invitation whose token hashes to this (looked up by the hash, never compared in Python)."""
    if not token_hash or len(token_hash) != 64:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))


def accept(invitation: Invitation, password: str) -> User:
    """She sets her password: the link is used up, and any session of the account is logged out."""
    if state(invitation) != "open":
        raise ValueError(state(invitation))
    user = invitation.user
    acting(db.session, user)
    # Used once even when two tabs post at the same moment: only the update that finds it unused counts. A
    # statement like this passes by the flush listener, so its audit row is written here, in the same transaction.
    now = utcnow()
    done = db.session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                              .values(used_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise ValueError("used")  # the caller's unit of work rolls back
    db.session.add(AuditLog(at=now, actor_id=user.id, action="update", entity="invitation", entity_id=invitation.id,
                            changes={"used_at": [None, now.isoformat()]}))
    db.session.refresh(invitation)
    user.password_hash = hash_password(password)
    revoke_all(user)
    db.session.flush()
    return user
