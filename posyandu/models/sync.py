"""Laptop ↔ district sync (docs/sync.md): the laptops a district registered."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, new_uuid, utcnow
from .places import Kelurahan, Posyandu


class Device(Audited, db.Model):
    """A Posyandu laptop registered by its district: its scope (one Posyandu, or a kelurahan), a credential
    (stored as a hash) and a one-time enrolment code (a hash, with an expiry). Revoking it refuses every
    later request."""

    __audit_exclude__ = ("token_hash", "code_hash")

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), default=new_uuid, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    posyandu_id: Mapped[int | None] = mapped_column(ForeignKey("posyandu.id"))
    kelurahan_id: Mapped[int | None] = mapped_column(ForeignKey("kelurahan.id"))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime | None]
    label: Mapped[str | None] = mapped_column(String(100))  # the laptop's own name, sent at enrolment
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None]

    posyandu: Mapped[Posyandu | None] = relationship()
    kelurahan: Mapped[Kelurahan | None] = relationship()
