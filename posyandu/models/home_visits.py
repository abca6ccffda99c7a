"""Home visits (kunjungan rumah): a kader visits a person at home to follow up what the data shows."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord
from .kader import Kader
from .people import Person


class HomeVisit(FieldRecord, db.Model):
    """One visit: who went (a kader of the roster, and the account that recorded it), what was found and advised,
    a referral, the follow-up date, and the task it closes (`task_key`, e.g. 'T:2026-11-10')."""

    __tablename__ = "home_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # Accounts are not linked to roster entries: the visit names the kader who went (it counts toward her
    # performance) and records the account that entered it.
    kader_id: Mapped[int | None] = mapped_column(ForeignKey("kader.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    visited_on: Mapped[date]
    task_code: Mapped[str | None] = mapped_column(String(20))
    task_key: Mapped[str | None] = mapped_column(String(60))
    findings: Mapped[str | None] = mapped_column(Text)
    advice: Mapped[str | None] = mapped_column(Text)
    referred: Mapped[bool] = mapped_column(default=False)
    referral_note: Mapped[str | None] = mapped_column(String(300))
    follow_up_on: Mapped[date | None]
    deleted_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()
    kader: Mapped[Kader | None] = relationship()

    __table_args__ = (
        Index("ix_home_visit_person_task", "person_id", "task_key"),
        Index("ix_home_visit_kader_date", "kader_id", "visited_on"),
        Index("ix_home_visit_posyandu_date", "posyandu_id", "visited_on"),
    )
