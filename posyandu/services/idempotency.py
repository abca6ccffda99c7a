"""A form posted twice (double tap, retried request) is handled once.

A key answers only the account that claimed it, for the kind of record it was claimed for: a key posted by
someone else, or for another kind of record, is refused (KeyConflict) rather than answered with a record the
poster may not see. A key longer than its column or holding control characters (NUL) is refused (KeyInvalid).
"""
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict, Invalid
from ..extensions import db
from ..models import IdempotencyKey

MAX_KEY = 64  # IdempotencyKey.key


class KeyInvalid(Invalid):
    """Not a key a form of ours could have sent (too long, too short, NUL bytes, other characters)."""


class KeyConflict(Conflict, ValueError):
    """The key was already used by another account or for another kind of record."""


def _valid(key: str | None) -> str | None:
    if not key:
        return None
    if not isinstance(key, str) or len(key) > MAX_KEY or not key.isprintable():
        raise KeyInvalid(key)
    return key


def _owned(row: IdempotencyKey | None, user_id: int | None, entity: str) -> IdempotencyKey | None:
    if row is not None and (row.user_id != user_id or row.entity != entity):
        raise KeyConflict(row.key)
    return row


def seen(key: str | None, *, user_id: int | None, entity: str) -> IdempotencyKey | None:
    """The earlier result of this submission by this user for this kind of record, if it was already handled."""
    key = _valid(key)
    if key is None:
        return None
    return _owned(db.session.get(IdempotencyKey, key), user_id, entity)


def claim(key: str | None, user_id: int | None, entity: str) -> IdempotencyKey | None:
    """Record the key in the current transaction; its unique constraint stops a concurrent twin."""
    key = _valid(key)
    if key is None:
        return None
    row = IdempotencyKey(key=key, user_id=user_id, entity=entity)
    db.session.add(row)
    return row


def claim_for(key: str | None, user_id: int | None, entity: str, entity_id: int) -> None:
    """Claim the key for a record just flushed, and flush the claim: call it inside the savepoint that created the
    record, so a concurrent twin (the key's unique constraint) undoes only that savepoint (see twin_of)."""
    row = claim(key, user_id, entity)
    if row is not None:
        row.entity_id = entity_id
        db.session.flush()


def twin_of(error: IntegrityError, key: str | None, *, user_id: int | None, entity: str) -> int:
    """After a create's savepoint lost a race (IntegrityError): the id of the record a twin request with the same
    key made — the answer to a repeated post. Without such a twin the error is raised again: the request's retry
    (database.retry_races) then runs against what the other request committed."""
    twin = seen(key, user_id=user_id, entity=entity)
    if twin is None:
        raise error
    return twin.entity_id
