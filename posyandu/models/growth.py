"""Measurements taken at meja 2, with what the system computed from them at the time."""
from datetime import date

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import FieldRecord


class Measurement(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"))
    # One measurement per visit: a save posted twice updates, never duplicates.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), unique=True)
    measured_on: Mapped[date]
    weight_kg: Mapped[float | None]
    length_cm: Mapped[float | None]  # length (lying) or height (standing), as measured
    position: Mapped[str | None] = mapped_column(String(1))  # l lying | h standing
    head_cm: Mapped[float | None]
    muac_cm: Mapped[float | None]
    oedema: Mapped[bool] = mapped_column(default=False)
    waist_cm: Mapped[float | None]
    systolic: Mapped[int | None]
    diastolic: Mapped[int | None]
    glucose_mg_dl: Mapped[int | None]
    # Computed at save (children): WHO z-scores, whether any is implausible, and the KMS codes.
    age_days: Mapped[int | None]
    waz: Mapped[float | None]
    lhaz: Mapped[float | None]
    whz: Mapped[float | None]
    baz: Mapped[float | None]
    hcz: Mapped[float | None]
    acz: Mapped[float | None]
    # flagged: an implausible value kept after the kader confirmed it; left out of prevalence figures.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    check_note: Mapped[str | None] = mapped_column(String(300))  # why the kader was asked to check
    ntob: Mapped[str | None] = mapped_column(String(1))  # N, T, O or B
    two_t: Mapped[bool] = mapped_column(default=False, server_default=false())
    bgm: Mapped[bool] = mapped_column(default=False, server_default=false())
    new_stunting: Mapped[bool] = mapped_column(default=False, server_default=false())
    kbm_table_id: Mapped[int | None] = mapped_column(ForeignKey("kbm_table.id"))

    __table_args__ = (
        Index("ix_measurement_person_date", "person_id", "measured_on"),
        Index("ix_measurement_posyandu_date", "posyandu_id", "measured_on"),
    )
