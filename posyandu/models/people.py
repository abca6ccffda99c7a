"""Sasaran: the people a Posyandu serves, and pregnancies."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord
from .places import Posyandu


class Person(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history: the Posyandu she leaves is known even when the person was expired (a commit, a refresh)
    # before she moved: the sync numbers her history again for the new Posyandu, the Posyandu left gets a new
    # change token (services.changes)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), active_history=True)
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    kk_number: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))  # L | P
    birth_date: Mapped[date]
    birth_place: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200))
    rt: Mapped[str | None] = mapped_column(String(3))
    rw: Mapped[str | None] = mapped_column(String(3))
    phone: Mapped[str | None] = mapped_column(String(20))
    mother_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    father_name: Mapped[str | None] = mapped_column(String(100))
    father_nik: Mapped[str | None] = mapped_column(String(16))
    birth_order: Mapped[int | None]
    birth_weight_kg: Mapped[float | None]
    birth_length_cm: Mapped[float | None]
    has_kia_book: Mapped[bool] = mapped_column(default=True)  # K in SKDN: has KMS / Buku KIA
    consent: Mapped[bool] = mapped_column(default=False)
    consent_by: Mapped[str | None] = mapped_column(String(100))  # the guardian, for a child
    # Leaving the roll (moved away, died, no longer a sasaran): the record and its history stay.
    left_on: Mapped[date | None]
    left_reason: Mapped[str | None] = mapped_column(String(10))  # domain.identity.LEAVE_REASONS
    left_note: Mapped[str | None] = mapped_column(String(200))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))  # a duplicate folded into another
    deleted_at: Mapped[datetime | None]  # only for a record entered by mistake (or merged away)

    posyandu: Mapped[Posyandu] = relationship()
    mother: Mapped["Person | None"] = relationship(remote_side="Person.id", back_populates="children",
                                                   foreign_keys=[mother_id])
    children: Mapped[list["Person"]] = relationship(back_populates="mother", order_by="Person.birth_date",
                                                    foreign_keys=[mother_id])
    pregnancies: Mapped[list["Pregnancy"]] = relationship(
        back_populates="person", order_by="Pregnancy.hpht.desc()"
    )

    __table_args__ = (
        Index("ix_person_posyandu_name", "posyandu_id", "name"),
        Index("ix_person_name_birth", "name", "birth_date"),
        Index("ix_person_birth_date", "birth_date"),
        # One live person per NIK in the whole installation (a left or deleted record keeps its NIK).
        Index("uq_person_live_nik", "nik", unique=True,
              sqlite_where=text("nik IS NOT NULL AND deleted_at IS NULL AND left_on IS NULL"),
              postgresql_where=text("nik IS NOT NULL AND deleted_at IS NULL AND left_on IS NULL")),
    )


class PersonTransfer(FieldRecord, db.Model):
    """A move (pindah) between Posyandu: the receiving Posyandu asks, the sending one (or the kelurahan or the
    district) approves; the person keeps one record and all its history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    from_posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), index=True)
    to_posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), index=True)
    moved_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="requested")  # requested | approved | rejected
    note: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[int | None]
    decided_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()
    from_posyandu: Mapped[Posyandu] = relationship(foreign_keys=[from_posyandu_id])
    to_posyandu: Mapped[Posyandu] = relationship(foreign_keys=[to_posyandu_id])


class Pregnancy(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    hpht: Mapped[date]  # first day of the last menstrual period
    hpl: Mapped[date]  # estimated due date
    gravida: Mapped[int | None]
    para: Mapped[int | None]
    abortus: Mapped[int | None]
    ended_on: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # lahir_hidup | lahir_mati | keguguran
    deleted_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="pregnancies")
