"""Laptop ↔ district sync (docs/sync.md): the laptops a district registered."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, new_uuid, utcnow
from .places import Kelurahan, Posyandu


class Device(Audited, db.Model):
    """A Posyandu laptop registered by its district: its scope (one Posyandu, or a kelurahan), a credential
    (stored as a hash) and a one-time enrolment code (a hash, with an expiry). Revoking it refuses every
    later request."""

    __audit_exclude__ = ("token_hash", "code_hash", "last_seen_at")  # a contact is not a change of the device

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


class SyncCounter(db.Model):
    """The server sequence (one row): taken at commit time, so numbers follow commit order (docs/sync.md)."""

    __tablename__ = "sync_counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncRow(db.Model):
    """The server sequence of a synced record's last committed change, and the Posyandu it belongs to: a pull
    asks for the rows of its scope above its cursor; a push's answer names the record's new version."""

    __tablename__ = "sync_row"
    entity: Mapped[str] = mapped_column(String(20), primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    posyandu_id: Mapped[int | None]
    # The device whose push made this version (None: made on the server): its pull skips it, it has it already.
    origin_device_id: Mapped[int | None]
    # The Posyandu of the person the record belongs to when it is not `posyandu_id` (a visit made at another
    # Posyandu, the history of a person who moved in, the person's own row as she moves out): pulled there too.
    also_posyandu_id: Mapped[int | None]

    __table_args__ = (Index("ix_sync_row_posyandu_seq", "posyandu_id", "seq"),
                      Index("ix_sync_row_also_posyandu_seq", "also_posyandu_id", "seq"))


class SyncReceipt(db.Model):
    """A change a device pushed and the server applied: a replay with the same content is a no-op, with other
    content a conflict. `server_uuid` names the record when the server already held it under another UUID."""

    __tablename__ = "sync_receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[str] = mapped_column(String(36), unique=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    entity: Mapped[str] = mapped_column(String(20))
    record_uuid: Mapped[str] = mapped_column(String(36), index=True)
    server_uuid: Mapped[str | None] = mapped_column(String(36))
    digest: Mapped[str] = mapped_column(String(64))
    device_time: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncState(db.Model):
    """On a laptop: the sync state of each record changed here (pending → synced, or conflict / refused with the
    server's code), the change id to send and the server version it was based on."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    uuid: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | synced | conflict | refused
    change_id: Mapped[str] = mapped_column(String(36))
    base_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed: Mapped[dict | None] = mapped_column(JSON)  # field → value before the first unsynced edit
    device_time: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    code: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (UniqueConstraint("entity", "uuid", name="uq_sync_state_entity_uuid"),
                      Index("ix_sync_state_state", "state"))


class SyncMeta(db.Model):
    """On a laptop: small facts about its sync (the pull cursor, the last success), committed with the data."""

    __tablename__ = "sync_meta"
    key: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class SyncCase(Audited, db.Model):
    """On the district: a pushed change the server flagged for a person to look at instead of choosing alone —
    a person's field edited on the laptop and here since the laptop last saw it (`edited_on_both`: nothing of
    the change was applied), or a new person whose NIK the server already held (`same_nik`: the laptop adopted
    the server's record). It keeps both sides' values until the kelurahan or district decides (docs/sync.md)."""

    __tablename__ = "sync_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # edited_on_both | same_nik
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | resolved
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)  # the server's person
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))  # the laptop's Posyandu (scope)
    change_id: Mapped[str] = mapped_column(String(36))
    laptop_uuid: Mapped[str] = mapped_column(String(36))  # the record's UUID as the laptop sent it
    base_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    fields: Mapped[list] = mapped_column(JSON)  # the fields to decide
    server: Mapped[dict] = mapped_column(JSON)  # field → the server's value when flagged
    laptop: Mapped[dict] = mapped_column(JSON)  # field → the laptop's value (its whole record)
    base: Mapped[dict | None] = mapped_column(JSON)  # field → the value both sides started from
    device_time: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)  # the laptop sent it again
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # one_person | two_people
    resolution: Mapped[dict | None] = mapped_column(JSON)  # field → {"chose": server|laptop|typed, "value": …}
    other_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # two_people: the new record

    device: Mapped[Device] = relationship()
    posyandu: Mapped[Posyandu] = relationship()
    resolver = relationship("User", foreign_keys=[resolved_by_id])

    __table_args__ = (Index("ix_sync_case_status_posyandu", "status", "posyandu_id"),)
