"""The audit trail, written by a flush listener so no change can skip it.

Services name the acting user with `acting(user)`; every audited insert, update and delete
flushed afterwards in that transaction records who, when and the before/after values.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from ..models.audit import AuditLog
from ..models.base import utcnow

ACTOR_KEY = "actor_id"


def acting(session, user) -> None:
    """Name the user whose changes the session is about to flush."""
    session.info[ACTOR_KEY] = user.id if user is not None else None


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _columns(obj):
    mapper = inspect(obj).mapper
    skip = set(getattr(obj, "__audit_exclude__", ())) | {"created_at", "updated_at", "created_by_id", "updated_by_id"}
    return [attr for attr in mapper.column_attrs if attr.key not in skip]


def _snapshot(obj) -> dict:
    return {attr.key: [None, _plain(getattr(obj, attr.key))] for attr in _columns(obj)}


def _diff(obj) -> dict:
    state = inspect(obj)
    out = {}
    for attr in _columns(obj):
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before != after:
                out[attr.key] = [_plain(before), _plain(after)]
    return out


def record(session, action: str, entity: str, entity_id: int, changes: dict) -> None:
    """An audit row for a change written around the ORM (a bulk UPDATE the flush listener never sees), by the
    user the session is acting for."""
    session.connection().execute(insert(AuditLog), [dict(at=utcnow(), actor_id=session.info.get(ACTOR_KEY),
                                                         action=action, entity=entity, entity_id=entity_id,
                                                         changes=changes)])


@event.listens_for(Session, "before_flush")
def _stamp_authors(session, flush_context, instances):
    actor = session.info.get(ACTOR_KEY)
    for obj in session.new:
        if hasattr(obj, "created_by_id") and obj.created_by_id is None:
            obj.created_by_id = actor
            obj.updated_by_id = actor
    for obj in session.dirty:
        if hasattr(obj, "updated_by_id") and session.is_modified(obj, include_collections=False):
            obj.updated_by_id = actor


@event.listens_for(Session, "after_flush")
def _write_audit(session, flush_context):
    actor = session.info.get(ACTOR_KEY)
    now = utcnow()
    rows = []
    for obj in session.new:
        if getattr(obj, "__audited__", False):
            rows.append(dict(at=now, actor_id=actor, action="create", entity=obj.__tablename__,
                             entity_id=obj.id, changes=_snapshot(obj)))
    for obj in session.dirty:
        if getattr(obj, "__audited__", False):
            changes = _diff(obj)
            if not changes:
                continue
            deleted = "deleted_at" in changes and changes["deleted_at"][0] is None
            action = "delete" if deleted else "update"
            rows.append(dict(at=now, actor_id=actor, action=action, entity=obj.__tablename__,
                             entity_id=obj.id, changes=changes))
    for obj in session.deleted:
        if getattr(obj, "__audited__", False):
            rows.append(dict(at=now, actor_id=actor, action="delete", entity=obj.__tablename__,
                             entity_id=obj.id, changes={k: [v[1], None] for k, v in _snapshot(obj).items()}))
    if rows:
        session.connection().execute(insert(AuditLog), rows)
