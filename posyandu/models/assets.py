"""The Posyandu's kit: an asset register (laptops, scales, measuring boards, tapes, tensimeters)."""
from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord
from .places import Posyandu


class Asset(FieldRecord, db.Model):
    """One item of a Posyandu's kit (kinds and check rule: domain.assets). Retired, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(60))  # serial number or inventory label
    received_on: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(String(100))  # e.g. "APBD Kota Bontang 2025"
    condition: Mapped[str] = mapped_column(String(12), default="baik")  # baik | rusak_ringan | rusak_berat | hilang
    checked_on: Mapped[date | None]  # last calibration or check (scales, tensimeters)
    check_months: Mapped[int | None]  # check interval; None: the default for its kind
    notes: Mapped[str | None] = mapped_column(String(300))
    retired_on: Mapped[date | None]
    retired_reason: Mapped[str | None] = mapped_column(String(200))

    posyandu: Mapped[Posyandu] = relationship()
