"""Kader and their time-bounded roles in a Posyandu (kader or a board position)."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Audited, FieldRecord
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
    address: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None]
    # BPJS Ketenagakerjaan (Bukan Penerima Upah) and the bank account incentives are paid to.
    bpjs_tk_number: Mapped[str | None] = mapped_column(String(20))
    bpjs_tk_since: Mapped[date | None]
    bpjs_tk_active_until: Mapped[date | None]
    bank_name: Mapped[str | None] = mapped_column(String(50))
    bank_account: Mapped[str | None] = mapped_column(String(30))
    bank_account_holder: Mapped[str | None] = mapped_column(String(100))
    # Verified by the kelurahan, then validated by the district; sent back with a reason.
    # baru → terverifikasi → tervalidasi, or dikembalikan (back to the Posyandu) at either step.
    review_status: Mapped[str] = mapped_column(String(15), default="baru", server_default="baru")
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None]
    validated_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None]
    return_reason: Mapped[str | None] = mapped_column(String(300))

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


class KaderSigner(Audited, db.Model):
    """How a kader proves she is the one signing: her own account (linked here) and/or a personal PIN, set by the
    ketua or the kelurahan for signing on a shared Posyandu laptop. One row per kader; the PIN only as a hash."""

    __tablename__ = "kader_signer"
    __audit_exclude__ = ("pin_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_set_at: Mapped[datetime | None]
    pin_set_by_id: Mapped[int | None]
    pin_self_set: Mapped[bool] = mapped_column(default=False, server_default=false())  # replaced by the kader herself

    kader: Mapped[Kader] = relationship()
