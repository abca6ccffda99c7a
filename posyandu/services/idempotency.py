"""A form posted twice (double tap, retried request) is handled once."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import IdempotencyKey


def seen(key: str | None) -> IdempotencyKey | None:
    """The earlier result of this submission, if it was already handled."""
    if not key:
        return None
    return db.session.get(IdempotencyKey, key)


def claim(key: str | None, user_id: int | None, entity: str) -> IdempotencyKey | None:
    """Record the key in the current transaction; its unique constraint stops a concurrent twin."""
    if not key:
        return None
    row = IdempotencyKey(key=key, user_id=user_id, entity=entity)
    db.session.add(row)
    return row


def commit_once(key: str | None) -> IdempotencyKey | None:
    """Commit; if a twin request committed the same key first, roll back and return its row."""
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        twin = seen(key)
        if twin is None:
            raise
        return twin
