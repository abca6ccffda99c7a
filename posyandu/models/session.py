"""The session day (hari buka): kader on duty, the queue of visits, what was measured, given and screened."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, FieldRecord, utcnow
from .kader import Kader
from .people import Person
from .places import Posyandu

DEFAULT_STEP_ORDER = "1,2,3,4,5"


class HariBuka(FieldRecord, db.Model):
    """One Posyandu's session on one date. `version` goes up with every change so queues can poll cheaply."""

    __tablename__ = "hari_buka"
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
    held_on: Mapped[date]
    step_order: Mapped[str] = mapped_column(String(20), default=DEFAULT_STEP_ORDER)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(Text)

    posyandu: Mapped[Posyandu] = relationship()
    duties: Mapped[list["Duty"]] = relationship(back_populates="hari_buka", order_by="Duty.id")
    visits: Mapped[list["Visit"]] = relationship(back_populates="hari_buka", order_by="Visit.queue_number")

    __table_args__ = (UniqueConstraint("posyandu_id", "held_on", name="uq_hari_buka_posyandu_date"),)

    @property
    def steps(self) -> list[int]:
        return [int(s) for s in self.step_order.split(",")]

    def step_after(self, step: int) -> int:
        """The meja after this one in the Posyandu's order; 0 when the visit is done."""
        steps = self.steps
        i = steps.index(step) if step in steps else len(steps) - 1
        return steps[i + 1] if i + 1 < len(steps) else 0


class Duty(FieldRecord, db.Model):
    """A kader expected on the day: which meja, and whether she came (it feeds the incentive)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hari_buka_id: Mapped[int] = mapped_column(ForeignKey("hari_buka.id"))
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"), index=True)
    meja: Mapped[int | None]
    present: Mapped[bool] = mapped_column(default=False)

    hari_buka: Mapped[HariBuka] = relationship(back_populates="duties")
    kader: Mapped[Kader] = relationship()

    __table_args__ = (UniqueConstraint("hari_buka_id", "kader_id", name="uq_duty_hari_buka_kader"),)


class Visit(FieldRecord, db.Model):
    """One person's pass through the meja on one hari buka."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hari_buka_id: Mapped[int] = mapped_column(ForeignKey("hari_buka.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    queue_number: Mapped[int]
    group: Mapped[str] = mapped_column(String(20))
    step: Mapped[int] = mapped_column(default=1)  # the meja the person waits at; 0 when done
    finished_at: Mapped[datetime | None]
    topics: Mapped[list | None] = mapped_column(JSON)  # counselling topics discussed (codes)
    counselling_notes: Mapped[str | None] = mapped_column(Text)

    hari_buka: Mapped[HariBuka] = relationship(back_populates="visits")
    person: Mapped[Person] = relationship()

    __table_args__ = (
        UniqueConstraint("hari_buka_id", "person_id", name="uq_visit_hari_buka_person"),
        UniqueConstraint("hari_buka_id", "queue_number", name="uq_visit_hari_buka_queue"),
        Index("ix_visit_hari_buka_step", "hari_buka_id", "step"),
    )


class ServiceRecord(FieldRecord, db.Model):
    """Something given or done at meja 5: imunisasi, vitamin A, obat cacing, PMT, TTD, KB, rujukan.

    Immunisations given elsewhere are recorded here too, without a visit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(30), default="")  # vaccine code, 'biru'/'merah', KB method …
    given_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(300))  # e.g. the reason for a referral
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_service_record_person_kind", "person_id", "kind", "given_on"),
        # Posting the meja-5 form twice records each service once.
        UniqueConstraint("visit_id", "kind", "code", name="uq_service_record_visit_kind_code"),
    )


class ScreeningRecord(FieldRecord, db.Model):
    """A questionnaire answered at a visit, with the version used and its score."""

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(30))
    version: Mapped[str] = mapped_column(String(30))
    answers: Mapped[dict] = mapped_column(JSON)
    score: Mapped[float | None]
    band: Mapped[str | None] = mapped_column(String(30))
    refer: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("visit_id", "questionnaire", name="uq_screening_visit_questionnaire"),)


class KbmTable(Audited, db.Model):
    """A version of the KBM (kenaikan berat badan minimal) table: grams by month of age. A district's admins add
    versions for their district; a version without a district is installation-wide (shipped with the app, not
    editable from any district). Every change is in the audit log."""

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date]
    grams: Mapped[dict] = mapped_column(JSON)  # {"1": 800, "2": 900, …, "60": 200}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
