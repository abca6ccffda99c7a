"""Verification by the kelurahan/desa, validation by the district, and sending back with a reason: one workflow
for a kader record and for a Posyandu as an institution (both carry review_status, verified/validated by and at,
and return_reason)."""
from ..domain.errors import Invalid
from ..extensions import db
from ..models.base import utcnow
from .audit import acting

RETURNERS = ("kelurahan_clerk", "district_admin")


class ReviewError(Invalid):
    """The step does not apply: reason (a send-back without one), state, or role."""


def step(actor, record, action: str, reason: str | None = None) -> None:
    """verify (kelurahan/desa) → validate (district); either may send the record back with a reason."""
    acting(db.session, actor)
    now = utcnow()
    reason = (reason or "").strip()
    if action == "return" and actor.role in RETURNERS:
        if not reason:
            raise ReviewError("reason")
        if record.review_status == "dikembalikan":
            raise ReviewError("state")
        record.review_status, record.return_reason = "dikembalikan", reason
        if hasattr(record, "returned_at"):  # who sent it back and when, where the record keeps it
            record.returned_at, record.returned_by_id = now, actor.id
        record.verified_at = record.verified_by_id = record.validated_at = record.validated_by_id = None
    elif action == "verify" and actor.role == "kelurahan_clerk":
        if record.review_status not in ("baru", "dikembalikan"):
            raise ReviewError("state")
        record.review_status, record.verified_at, record.verified_by_id = "terverifikasi", now, actor.id
        record.return_reason = None
    elif action == "validate" and actor.role == "district_admin":
        if record.review_status != "terverifikasi":
            raise ReviewError("state")
        record.review_status, record.validated_at, record.validated_by_id = "tervalidasi", now, actor.id
    else:
        raise ReviewError("role")
    db.session.flush()
