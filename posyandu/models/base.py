"""Shared column sets for models."""
import uuid
from datetime import datetime, timezone

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-naive UTC now; every stored timestamp is UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Audited:
    """Marker: every insert, update and delete of this model writes an audit row."""

    __audited__ = True


class FieldRecord(Audited):
    """A record that may be created in the field: a UUID for merging laptops into the district
    server, times and authors."""

    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Plain ids, not foreign keys: a laptop's records keep their author when merged into a district
    # server whose accounts have other ids (the audit log names the person).
    created_by_id: Mapped[int | None] = mapped_column(default=None)
    updated_by_id: Mapped[int | None] = mapped_column(default=None)
