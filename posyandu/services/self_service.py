"""A kader's own page: what an account linked to her kader record (KaderSigner.user_id) may see of herself — her
roles, stratum and skills, commitment, certificates and incentive slips. Only her own: every lookup here is by
her kader id, and anything else answers None (404 in a view)."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain import bpjs as bpjs_dom
from ..domain import competence
from ..extensions import db
from ..models import Certificate, IncentiveBatch, IncentiveLine, Kader, KaderRole, User
from . import certificates, commitments, roster, signers

# Her slips are shown once the batch is approved: a draft may still change.
SHOWN_STATES = ("approved", "paid")


def own_kader(user: User) -> Kader | None:
    """The live kader record linked to this account, if any."""
    kid = signers.linked_kader_id(user)
    kader = db.session.get(Kader, kid) if kid else None
    return kader if kader is not None and kader.deleted_at is None else None


@dataclass
class Overview:
    kader: Kader
    roles: list[KaderRole]
    past_roles: list[KaderRole]
    stratum: str | None
    groups: set[str]
    passed: set[str]
    commitment: object
    certificates: list[Certificate]
    lines: list[IncentiveLine]
    bpjs_state: str


def overview(kader: Kader, on: date) -> Overview:
    """Everything her page shows, read by her kader id only."""
    current = roster.current_roles(kader, on)
    past = [r for r in kader.roles if r not in current]
    cat = competence.catalogue()
    passed = roster.passed_skills(select(Kader.id).where(Kader.id == kader.id)).get(kader.id, set())
    groups = competence.completed_groups(passed, cat)
    stratum = competence.stratum_for(groups, roster.stratum_rule())
    lines = list(db.session.scalars(
        select(IncentiveLine).join(IncentiveBatch)
        .where(IncentiveLine.kader_id == kader.id, IncentiveBatch.status.in_(SHOWN_STATES))
        .options(selectinload(IncentiveLine.batch)).order_by(IncentiveBatch.month.desc(), IncentiveBatch.sequence)))
    return Overview(kader, current, past, stratum, groups, passed, commitments.commitment_of(kader.id, on.year),
                    certificates.of_kader(kader.id), lines,
                    bpjs_dom.enrolment_state(kader.bpjs_tk_number, kader.bpjs_tk_since, kader.bpjs_tk_active_until, on))


def own_certificate(kader: Kader, certificate_id: int) -> Certificate | None:
    """Her certificate, or None for anyone else's."""
    cert = db.session.get(Certificate, certificate_id)
    return cert if cert is not None and cert.kader_id == kader.id else None


def own_line(kader: Kader, line_id: int) -> IncentiveLine | None:
    """Her line of an approved or paid batch, or None for anyone else's (or a draft)."""
    line = db.session.get(IncentiveLine, line_id)
    if line is None or line.kader_id != kader.id or line.batch.status not in SHOWN_STATES:
        return None
    return line
