"""Kader self-service: a kader with her own account sees herself — roles, stratum and skills, commitment,
certificates and incentive slips — and nobody else."""
from datetime import date

from flask import abort
from flask_login import current_user, login_required

from ...domain import competence
from ...domain.incentives import rupiah
from ...pdf.certificates import certificates_pdf
from ...pdf.incentives import slips_pdf
from ...roles import role_required
from ...services import documents, incentives, self_service, signers
from ...web import pdf_response, render
from . import bp


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _me():
    """Her kader record; 404 when the account is not linked to one (nothing of anyone else can be reached)."""
    kader = self_service.own_kader(current_user)
    if kader is None:
        abort(404)
    return kader


@bp.route("/")
@role_required(*signers.ACCOUNT_ROLES)
def home():
    """Her own page; an account not yet linked to a kader record is told who can link it."""
    kader = self_service.own_kader(current_user)
    if kader is None:
        return render("me/unlinked.html")
    today = date.today()
    cat = competence.catalogue()
    return render("me/home.html", o=self_service.overview(kader, today), today=today, cat=cat,
                  skill_names={s.code: s.name for s in cat.skills}, rupiah=rupiah)


@bp.route("/sertifikat/<int:certificate_id>.pdf")
@role_required(*signers.ACCOUNT_ROLES)
def certificate(certificate_id: int):
    """One of her certificates as PDF; anyone else's is 404."""
    cert = self_service.own_certificate(_me(), certificate_id)
    if cert is None:
        abort(404)
    return pdf_response(certificates_pdf([documents.certificate_data(cert)], cert.title), f"sertifikat-{cert.id}.pdf")


@bp.route("/insentif/<int:line_id>/slip.pdf")
@role_required(*signers.ACCOUNT_ROLES)
def slip(line_id: int):
    """Her incentive slip of an approved or paid month; anyone else's (or a draft) is 404."""
    line = self_service.own_line(_me(), line_id)
    if line is None:
        abort(404)
    batch = line.batch
    doc = incentives.document_data(batch)
    doc["lines"] = [d for row, d in zip(batch.lines, doc["lines"]) if row.id == line.id]
    return pdf_response(slips_pdf(doc, 1), f"slip-insentif-{batch.month:%Y-%m}-{line.id}.pdf")
