"""The public certificate check opened from a certificate's QR code: no login, no personal data."""
from flask import make_response

from ...services import certificates
from ...web import render
from . import bp


@bp.route("/v/<token>")
def certificate(token: str):
    """Whether a certificate is genuine and still valid: name, type, date, issuer — nothing else."""
    cert = certificates.by_token(token)
    body, status = render("verify/certificate.html", cert=cert, status=200 if cert else 404)
    resp = make_response(body, status)
    resp.headers["X-Robots-Tag"] = "noindex"
    return resp
