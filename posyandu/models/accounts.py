"""Accounts, their server-side sessions and login attempts."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, utcnow
from .places import District, Kelurahan, Posyandu, Puskesmas

# Roles inside one district (a district admin gives these); the installation admin (a province or the hosting
# office) stands above the districts: she creates districts and their first admins and sees no one's health data.
DISTRICT_ROLES = ("district_admin", "kelurahan_clerk", "nakes", "ketua", "kader")
ROLES = DISTRICT_ROLES + ("installation_admin",)


class User(UserMixin, Audited, db.Model):
    """A login. Bound to one node of the tree by its role: district, kelurahan, Puskesmas or Posyandu."""

    __tablename__ = "user_account"
    __audit_exclude__ = ("password_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)  # None: installation
    kelurahan_id: Mapped[int | None] = mapped_column(ForeignKey("kelurahan.id"))
    puskesmas_id: Mapped[int | None] = mapped_column(ForeignKey("puskesmas.id"))
    posyandu_id: Mapped[int | None] = mapped_column(ForeignKey("posyandu.id"))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    district: Mapped[District | None] = relationship()
    kelurahan: Mapped[Kelurahan | None] = relationship()
    puskesmas: Mapped[Puskesmas | None] = relationship()
    posyandu: Mapped[Posyandu | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.active


class AuthSession(db.Model):
    """A server-side login session: deleting or revoking it logs the device out."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(200))
    flashes: Mapped[list | None] = mapped_column(JSON)  # messages waiting for the next page (posyandu.flashes)


class Throttle(db.Model):
    """A failure counter with backoff for one key ("acct:<user>|<client>", "client:<ip>", "pin:<kader id>" …),
    in the database so the limit holds across app processes. Times are epoch seconds, so the one atomic upsert
    that counts an attempt can do its arithmetic in SQL on SQLite and PostgreSQL alike."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[float]  # the last counted attempt
    next_at: Mapped[float]  # no attempt before this, once the free attempts are used

    __table_args__ = (Index("ix_throttle_last_at", "last_at"),)  # prune() drops idle counters by last_at


class Invitation(Audited, db.Model):
    """A one-time link that lets a new account's owner set her own password (services.invitations): only the
    SHA-256 of its random token is kept; it expires, and is used once."""

    __audit_exclude__ = ("token_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]  # a newer link for the same account replaced it

    user: Mapped[User] = relationship(foreign_keys=[user_id])
