"""A Posyandu's month as a report: its state, who moved it and when, and the numbers frozen on approval."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, utcnow
from .places import Posyandu


class PosyanduMonth(Audited, db.Model):
    """One row per Posyandu and month once anyone acted on it (no row: the month is open)."""

    __tablename__ = "posyandu_month"
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
    month: Mapped[date]  # the first day of the month
    state: Mapped[str] = mapped_column(String(10), default="open")  # domain.months.STATES
    first_submitted_at: Mapped[datetime | None]  # timeliness counts the first submission (server time, UTC)
    on_time: Mapped[bool | None]
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # On approval: the month's numbers, the versions of the rules and tables that made them, and their hash.
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    # The snapshot's small sections (month_snapshot.FIGURES), apart: a district report reads 80 of them at once.
    figures: Mapped[dict | None] = mapped_column(JSON)
    # Large; last in the row (SQLite reads a row's columns in order, through a large value's overflow pages).
    snapshot: Mapped[dict | None] = mapped_column(JSON)

    posyandu: Mapped[Posyandu] = relationship()
    events: Mapped[list["MonthEvent"]] = relationship(back_populates="posyandu_month", order_by="MonthEvent.id")

    __table_args__ = (UniqueConstraint("posyandu_id", "month", name="uq_posyandu_month"),
                      Index("ix_posyandu_month_month_state", "month", "state"))
    __audit_exclude__ = ("snapshot", "figures")  # large; its hash is audited


class MonthEvent(db.Model):
    """Each step of a month: submit, verify, approve, reopen (sending back), with who, when and why."""

    __tablename__ = "posyandu_month_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_month_id: Mapped[int] = mapped_column(ForeignKey("posyandu_month.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    from_state: Mapped[str] = mapped_column(String(10))
    to_state: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))  # the snapshot replaced by a reopen

    posyandu_month: Mapped[PosyanduMonth] = relationship(back_populates="events")
