"""Anthropometric measurements (the session-day workflow links them to visits)."""
from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import FieldRecord


class Measurement(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
    measured_on: Mapped[date]
    weight_kg: Mapped[float | None]
    length_cm: Mapped[float | None]
    position: Mapped[str | None] = mapped_column(String(1))  # l lying | h standing
    head_cm: Mapped[float | None]
    muac_cm: Mapped[float | None]
    oedema: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        Index("ix_measurement_person_date", "person_id", "measured_on"),
        Index("ix_measurement_posyandu_date", "posyandu_id", "measured_on"),
    )
