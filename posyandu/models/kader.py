"""Kader and their time-bounded roles in a Posyandu (kader or a board position)."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import FieldRecord
from .places import Posyandu

SPM_FIELDS = ("pendidikan", "kesehatan", "pekerjaan_umum", "perumahan_rakyat", "trantibumlinmas", "sosial")
BOARD_POSITIONS = ("ketua", "sekretaris", "bendahara") + tuple(f"bidang_{f}" for f in SPM_FIELDS)
KADER_ROLES = ("kader",) + BOARD_POSITIONS


class Kader(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1), default="P")
    birth_date: Mapped[date | None]
    phone: Mapped[str | None] = mapped_column(String(20))
    education: Mapped[str | None] = mapped_column(String(30))
    joined_on: Mapped[date | None]
    deleted_at: Mapped[datetime | None]

    roles: Mapped[list["KaderRole"]] = relationship(back_populates="kader", order_by="KaderRole.start_date")


class KaderRole(FieldRecord, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"), index=True)
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))  # one of KADER_ROLES
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    kader: Mapped[Kader] = relationship(back_populates="roles")
    posyandu: Mapped[Posyandu] = relationship()
