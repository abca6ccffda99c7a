"""A Posyandu's month as a report: its state, who moved it and when, and the numbers frozen on approval."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
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
    # The snapshot's small sections (month_snapshot.FIGURES) as JSON: a district report reads 80 of them at once.
    # The large ones (lists, e-PPGBM rows, ...) are PosyanduMonthSection rows, compressed, one per section.
    figures: Mapped[dict | None] = mapped_column(JSON)

    posyandu: Mapped[Posyandu] = relationship()
    events: Mapped[list["MonthEvent"]] = relationship(back_populates="posyandu_month", order_by="MonthEvent.id")
    sections: Mapped[list["PosyanduMonthSection"]] = relationship(
        back_populates="posyandu_month", cascade="all, delete-orphan", order_by="PosyanduMonthSection.name")

    __table_args__ = (UniqueConstraint("posyandu_id", "month", name="uq_posyandu_month"),
                      Index("ix_posyandu_month_month_state", "month", "state"))
    __audit_exclude__ = ("figures",)  # large; its hash is audited

    @property
    def snapshot(self) -> dict | None:
        """The whole snapshot as one dict (figures and every section; None when the month holds none): what the
        hash is over. Readers of one section use services.month_snapshot.read, which loads only that one."""
        from ..services import month_snapshot

        if self.figures is None and not self.sections:
            return None
        return month_snapshot.assemble(self.figures or {}, {s.name: s.data for s in self.sections})

    @snapshot.setter
    def snapshot(self, value: dict | None) -> None:
        from ..services import month_snapshot

        small, parts = month_snapshot.split(value) if value is not None else (None, {})
        self.figures = small
        # Rows kept by name and updated in place: a delete and an insert of the same name in one flush would
        # meet the unique constraint (the unit of work inserts before it deletes).
        kept = {s.name: s for s in self.sections if s.name in parts}
        for name, data in parts.items():
            if name in kept:
                kept[name].data = data
            else:
                kept[name] = PosyanduMonthSection(name=name, data=data)
        self.sections = [kept[name] for name in sorted(kept)]


class PosyanduMonthSection(db.Model):
    """One large section of an approved month's snapshot (the e-PPGBM rows, the list behind one number, ...):
    zlib of its canonical JSON (services.month_snapshot), so a reader loads and unpacks only the section it needs."""

    __tablename__ = "posyandu_month_section"
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_month_id: Mapped[int] = mapped_column(ForeignKey("posyandu_month.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))  # a SECTIONS name, or "lists/<metric>" for a part of one
    data: Mapped[bytes] = mapped_column(LargeBinary)

    posyandu_month: Mapped[PosyanduMonth] = relationship(back_populates="sections")

    __table_args__ = (UniqueConstraint("posyandu_month_id", "name", name="uq_posyandu_month_section"),)


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


class PosyanduChange(db.Model):
    """A random token per Posyandu, new with every commit that changes one of its records (services.changes): a
    reader may keep figures computed from the live tables under the token it read first, while it stays."""

    __tablename__ = "posyandu_change"
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class SiteChange(db.Model):
    """One random token, new with every commit that changes anything pages show besides the Posyandu's own records
    (places, accounts, kader, kit, months, incentives …; services.changes): with the Posyandu's tokens, what a
    page replayed unchanged depends on (posyandu.unchanged_pages)."""

    __tablename__ = "site_change"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    token: Mapped[str] = mapped_column(String(32))
