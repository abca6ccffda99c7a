"""Kader competence assessments, commitment templates and signatures, and certificates."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.errors import Locked
from ..extensions import db
from .base import FieldRecord
from .kader import Kader
from .places import District, Kelurahan, Posyandu


class ImmutableRecord(Locked):
    """A signed or issued record was about to change."""


class KaderAssessment(FieldRecord, db.Model):
    """One basic skill of a kader assessed on a date by an assessor (skill codes: data/kader_skills.json)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"))
    skill_code: Mapped[str] = mapped_column(String(10))
    assessed_on: Mapped[date]
    assessor: Mapped[str] = mapped_column(String(100))
    passed: Mapped[bool] = mapped_column(default=True)
    catalogue_version: Mapped[str] = mapped_column(String(30))

    kader: Mapped[Kader] = relationship()

    __table_args__ = (Index("ix_kader_assessment_kader_skill", "kader_id", "skill_code"),)


class CommitmentTemplate(FieldRecord, db.Model):
    """The Komitmen Kinerja text of a district for a year; a change is a new version, never an edit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    year: Mapped[int]
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))

    district: Mapped[District] = relationship()

    __table_args__ = (UniqueConstraint("district_id", "year", "version", name="uq_commitment_template_version"),)


class Commitment(FieldRecord, db.Model):
    """A kader's signed commitment: the exact text, its hash, when, who recorded it, and both signatures.

    Immutable once signed; the countersignature is added once and then also fixed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kader_id: Mapped[int] = mapped_column(ForeignKey("kader.id"))
    posyandu_id: Mapped[int] = mapped_column(ForeignKey("posyandu.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("commitment_template.id"))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(100))
    signature_kind: Mapped[str] = mapped_column(String(6))  # drawn | typed
    signature: Mapped[str] = mapped_column(Text)  # strokes JSON, or the typed name
    signed_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None]
    # How the signer was identified: "account" (her own login, linked to her kader record) or "pin" (her personal
    # PIN typed at signing on a shared login). NULL on commitments signed before identities were checked.
    signer_method: Mapped[str | None] = mapped_column(String(10))
    countersigner_name: Mapped[str | None] = mapped_column(String(100))
    countersigner_title: Mapped[str | None] = mapped_column(String(100))
    countersignature_kind: Mapped[str | None] = mapped_column(String(6))
    countersignature: Mapped[str | None] = mapped_column(Text)
    countersigned_at: Mapped[datetime | None]
    countersigned_by_id: Mapped[int | None]
    # "account" or "pin" for a ketua identified as the kader holding the board position (countersigner_kader_id);
    # "entered" when the kelurahan records the lurah by the name and title typed in.
    countersigner_method: Mapped[str | None] = mapped_column(String(10))
    countersigner_kader_id: Mapped[int | None]

    kader: Mapped[Kader] = relationship()
    posyandu: Mapped[Posyandu] = relationship()
    template: Mapped[CommitmentTemplate] = relationship()

    __table_args__ = (UniqueConstraint("kader_id", "year", name="uq_commitment_kader_year"),)


class Certificate(FieldRecord, db.Model):
    """An issued certificate (types: data/certificate_types.json). Public verification by `token`, never by id."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    type_code: Mapped[str] = mapped_column(String(30))
    kader_id: Mapped[int | None] = mapped_column(ForeignKey("kader.id"), index=True)
    kelurahan_id: Mapped[int] = mapped_column(ForeignKey("kelurahan.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(String(150))
    title: Mapped[str] = mapped_column(String(150))
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date]
    issuer_name: Mapped[str] = mapped_column(String(100))
    issuer_title: Mapped[str] = mapped_column(String(150))
    place: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(300))
    revoked_by_id: Mapped[int | None]

    kader: Mapped[Kader | None] = relationship()
    kelurahan: Mapped[Kelurahan] = relationship()


_TEMPLATE_FIXED = ("district_id", "year", "version", "title", "body", "body_sha256")
_SIGNED_FIXED = ("kader_id", "posyandu_id", "template_id", "year", "title", "text", "text_sha256", "signer_name",
                 "signature_kind", "signature", "signed_at", "recorded_by_id", "signer_method")
_COUNTERSIGN = ("countersigner_name", "countersigner_title", "countersignature_kind", "countersignature",
                "countersigned_at", "countersigned_by_id", "countersigner_method", "countersigner_kader_id")
_CERT_FIXED = ("token", "type_code", "kader_id", "kelurahan_id", "recipient_name", "title", "heading",
               "body", "issued_on", "issuer_name", "issuer_title", "place")


def _refuse_changes(obj, fixed, once=()):
    """Raise when a fixed column changed, or a set-once column changed after it had a value."""
    state = db.inspect(obj)
    for key in fixed:
        if state.attrs[key].history.has_changes():
            raise ImmutableRecord(f"{obj.__tablename__}.{key} cannot change")
    for key in once:
        hist = state.attrs[key].history
        if hist.has_changes() and hist.deleted and hist.deleted[0] is not None:
            raise ImmutableRecord(f"{obj.__tablename__}.{key} is already set")


@event.listens_for(CommitmentTemplate, "before_update")
def _template_fixed(mapper, connection, target):
    _refuse_changes(target, _TEMPLATE_FIXED)


@event.listens_for(Commitment, "before_update")
def _commitment_fixed(mapper, connection, target):
    _refuse_changes(target, _SIGNED_FIXED, _COUNTERSIGN)


@event.listens_for(Certificate, "before_update")
def _certificate_fixed(mapper, connection, target):
    _refuse_changes(target, _CERT_FIXED, ("revoked_at",))
    hist = db.inspect(target).attrs["number"].history
    if hist.has_changes() and not (hist.deleted and str(hist.deleted[0]).startswith(PROVISIONAL)):
        raise ImmutableRecord("certificate.number cannot change")


PROVISIONAL = "TMP-"  # a certificate's number until its id is known, within the issuing transaction


for _model in (CommitmentTemplate, Commitment):
    @event.listens_for(_model, "before_delete")
    def _no_delete(mapper, connection, target):
        raise ImmutableRecord(f"{target.__tablename__} cannot be deleted")
