"""Kader incentives: the district policy by effective date, monthly batches per kelurahan and their lines.

A batch goes draft → approved → paid. Once paid it is locked for good: the flush listener below refuses any change
to the batch or its lines, and database triggers (migration) refuse it too, for writes that bypass the ORM.
A correction is a new adjusting batch (`corrects_id`) for the same kelurahan and month.
"""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, event, false, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.errors import Locked
from ..extensions import db
from .base import FieldRecord
from .kader import Kader
from .places import District, Kelurahan

BATCH_STATES = ("draft", "approved", "paid")


class LockedBatch(Locked):
    """A paid (or approved) incentive batch was about to change."""


class IncentivePolicy(FieldRecord, db.Model):
    """A district's incentive policy from `valid_from` (first of a month) until the next policy starts."""

    __tablename__ = "incentive_policy"
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    valid_from: Mapped[date]
    amount: Mapped[int]  # whole Rupiah per kader per month
    funding_source: Mapped[str] = mapped_column(String(10))  # APBD | APBDes | Dana Desa
    pph21_bp: Mapped[int] = mapped_column(default=250)  # default PPh 21 rate in basis points; a batch may override
    bpjs_deduction: Mapped[bool] = mapped_column(default=False)
    bpjs_amount: Mapped[int] = mapped_column(default=16_800)
    pay_per_role: Mapped[bool] = mapped_column(default=False)
    min_home_visits: Mapped[int] = mapped_column(default=0)
    # Per condition: whether it is required, and what a miss costs (percent in basis points, or Rupiah) and why.
    attendance_required: Mapped[bool] = mapped_column(default=False)
    attendance_cut_kind: Mapped[str] = mapped_column(String(7), default="percent")
    attendance_cut_value: Mapped[int] = mapped_column(default=0)
    attendance_cut_reason: Mapped[str | None] = mapped_column(String(200))
    commitment_required: Mapped[bool] = mapped_column(default=False)
    commitment_cut_kind: Mapped[str] = mapped_column(String(7), default="percent")
    commitment_cut_value: Mapped[int] = mapped_column(default=0)
    commitment_cut_reason: Mapped[str | None] = mapped_column(String(200))
    home_visits_required: Mapped[bool] = mapped_column(default=False)
    home_visits_cut_kind: Mapped[str] = mapped_column(String(7), default="percent")
    home_visits_cut_value: Mapped[int] = mapped_column(default=0)
    home_visits_cut_reason: Mapped[str | None] = mapped_column(String(200))
    # "Laporan tepat waktu" (issue 13): the kader's Posyandu-month report was on time (PosyanduMonth.on_time).
    on_time_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    on_time_cut_kind: Mapped[str] = mapped_column(String(7), default="percent", server_default="percent")
    on_time_cut_value: Mapped[int] = mapped_column(default=0, server_default="0")
    on_time_cut_reason: Mapped[str | None] = mapped_column(String(200))
    legal_basis: Mapped[str | None] = mapped_column(String(200))  # e.g. the Perwali/Perbup number
    # An unverified (new or sent back) kader record: held at zero "Menunggu verifikasi" (True) or paid (False).
    hold_unverified: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A month of a board-only role (sekretaris, bendahara, ketua bidang without kader duties); None: not paid.
    board_amount: Mapped[int | None]

    district: Mapped[District] = relationship()

    __table_args__ = (UniqueConstraint("district_id", "valid_from", name="uq_incentive_policy_district_from"),)


class IncentiveBatch(FieldRecord, db.Model):
    """One kelurahan's incentives for one month. `sequence` 0 is the regular batch (one per kelurahan and month);
    1, 2 … are adjusting batches that correct a paid one."""

    __tablename__ = "incentive_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    kelurahan_id: Mapped[int] = mapped_column(ForeignKey("kelurahan.id"))
    month: Mapped[date]  # first day of the month
    sequence: Mapped[int] = mapped_column(default=0)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("incentive_batch.id"))
    policy_id: Mapped[int] = mapped_column(ForeignKey("incentive_policy.id"))
    pph21_bp: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    prepared_by_id: Mapped[int | None]  # who last computed or adjusted it (may not approve it)
    computed_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None]
    paid_at: Mapped[datetime | None]
    paid_on: Mapped[date | None]
    paid_by_id: Mapped[int | None]
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    kelurahan: Mapped[Kelurahan] = relationship()
    policy: Mapped[IncentivePolicy] = relationship()
    corrects: Mapped["IncentiveBatch | None"] = relationship(remote_side=[id])
    lines: Mapped[list["IncentiveLine"]] = relationship(back_populates="batch", order_by="IncentiveLine.position")

    __table_args__ = (UniqueConstraint("kelurahan_id", "month", "sequence", name="uq_incentive_batch_kel_month_seq"),)


class IncentiveLine(FieldRecord, db.Model):
    """One person in a batch, with the figures and the data printed on the documents as they were computed.

    `regular_month` is the month for lines of a regular batch (NULL in adjusting batches): unique with the kader,
    so a person is in one regular batch a month across the whole database — never paid twice by accident, even
    when her roles span two kelurahan."""

    __tablename__ = "incentive_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("incentive_batch.id"))
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"), index=True)
    regular_month: Mapped[date | None]
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100))
    nik: Mapped[str | None] = mapped_column(String(16))
    roles_text: Mapped[str] = mapped_column(String(300), default="")
    posyandu_name: Mapped[str] = mapped_column(String(100), default="")
    units: Mapped[int] = mapped_column(default=1)
    days_served: Mapped[int]
    days_in_month: Mapped[int]
    base: Mapped[int]
    prorated: Mapped[int]
    reductions: Mapped[list] = mapped_column(JSON, default=list)  # [{"code", "amount", "reason"}]
    reductions_total: Mapped[int] = mapped_column(default=0)
    adjustment: Mapped[int] = mapped_column(default=0)
    adjustment_reason: Mapped[str | None] = mapped_column(String(300))
    gross: Mapped[int]
    pph21: Mapped[int]
    bpjs_due: Mapped[int] = mapped_column(default=0)
    bpjs: Mapped[int] = mapped_column(default=0)
    net: Mapped[int]
    notes: Mapped[list] = mapped_column(JSON, default=list)
    bank_name: Mapped[str | None] = mapped_column(String(50))
    bank_account: Mapped[str | None] = mapped_column(String(30))
    bank_account_holder: Mapped[str | None] = mapped_column(String(100))

    batch: Mapped[IncentiveBatch] = relationship(back_populates="lines")
    kader: Mapped[Kader] = relationship()

    __table_args__ = (
        UniqueConstraint("batch_id", "kader_id", name="uq_incentive_line_batch_kader"),
        UniqueConstraint("kader_id", "regular_month", name="uq_incentive_line_kader_regular_month"),
        Index("ix_incentive_line_batch_position", "batch_id", "position"),
    )


class IncentivePreparer(db.Model):
    """Everyone who computed, recomputed or adjusted a batch since its last approval: none of them may approve it
    (four eyes). Cleared when the batch is approved; the audit log keeps the history."""

    __tablename__ = "incentive_preparer"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("incentive_batch.id"))
    user_id: Mapped[int]
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("batch_id", "user_id", name="uq_incentive_preparer_batch_user"),)


# --- the lock, in the ORM (the migration adds the same rule as database triggers) -------------------------------

def _stored_status(connection, batch_id) -> str | None:
    return connection.scalar(select(IncentiveBatch.status).where(IncentiveBatch.id == batch_id))


@event.listens_for(IncentiveBatch, "before_update")
def _batch_locked(mapper, connection, target):
    if _stored_status(connection, target.id) == "paid":
        raise LockedBatch("incentive_batch is paid and locked")


@event.listens_for(IncentiveBatch, "before_delete")
def _batch_no_delete(mapper, connection, target):
    if _stored_status(connection, target.id) != "draft":
        raise LockedBatch("only a draft incentive batch can be deleted")


def _line_guard(mapper, connection, target):
    # Lines change only while the batch is a draft (approved: back to draft first; paid: never).
    if _stored_status(connection, target.batch_id) != "draft":
        raise LockedBatch("incentive_line of an approved or paid batch cannot change")


for _ev in ("before_insert", "before_update", "before_delete"):
    event.listen(IncentiveLine, _ev, _line_guard)
