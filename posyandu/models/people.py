"""Sasaran: the people a Posyandu serves, and pregnancies."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord
from .places import Posyandu


class Person(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
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
    deleted_at: Mapped[datetime | None]

    posyandu: Mapped[Posyandu] = relationship()
    mother: Mapped["Person | None"] = relationship(remote_side="Person.id", back_populates="children")
    children: Mapped[list["Person"]] = relationship(back_populates="mother", order_by="Person.birth_date")
    pregnancies: Mapped[list["Pregnancy"]] = relationship(
        back_populates="person", order_by="Pregnancy.hpht.desc()"
    )

    __table_args__ = (
        Index("ix_person_posyandu_name", "posyandu_id", "name"),
        Index("ix_person_name_birth", "name", "birth_date"),
        Index("ix_person_birth_date", "birth_date"),
    )


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
