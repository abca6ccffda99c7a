"""What a printed document of the district is made from, shared by every blueprint that prints one (the kader
pages and the kader's own page): a certificate as the data its PDF draws, with the address its QR code opens."""
from datetime import date

from babel.dates import format_date

from ..models import Certificate


def long_date(d: date) -> str:
    """'17 Agustus 2026', as every document prints a date."""
    return format_date(d, "d MMMM y", locale="id")


def verify_url(cert: Certificate) -> str:
    """The public verification address of a certificate: PUBLIC_BASE_URL when set (what a phone outside can
    reach), else this server's own address."""
    from ..web import public_url

    return public_url("verify.certificate", token=cert.token)


def certificate_data(cert: Certificate) -> dict:
    """The certificate as pdf.certificates draws it: its own stored texts under the district's document header."""
    district = cert.kelurahan.kecamatan.district
    return {"number": cert.number, "title": cert.title, "heading": cert.heading, "body": cert.body,
            "recipient_name": cert.recipient_name, "issuer_org": district.header,
            "doc_header": district.document_header(), "issuer_name": cert.issuer_name,
            "issuer_title": cert.issuer_title, "place": cert.place, "issued_on_text": long_date(cert.issued_on),
            "verify_url": verify_url(cert), "revoked": cert.revoked_at is not None}
