"""Certificates: types as templates (data/certificate_types.json), issuing, revoking, public verification."""
import ipaddress
import json
import secrets
import string
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Invalid
from ..extensions import db
from ..models import Certificate, District, Kader, Kelurahan, User
from ..models.roster import PROVISIONAL
from ..models.base import utcnow
from . import idempotency
from .audit import acting

TYPES_FILE = Path(__file__).resolve().parents[1] / "data" / "certificate_types.json"
STRATUM_NAMES = {"purwa": "Purwa", "madya": "Madya", "utama": "Utama"}


class CertificateError(Invalid):
    """The certificate cannot be issued or revoked as asked."""


def reachable_base_url(base: str | None) -> bool:
    """Whether a printed QR code pointing at this base URL (PUBLIC_BASE_URL) can be opened from another device:
    not unset, and not this machine (localhost, 127.0.0.1, ::1, 0.0.0.0)."""
    if not base:
        return False
    host = (urlsplit(base if "//" in base else "//" + base).hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (ip.is_loopback or ip.is_unspecified)


@lru_cache(maxsize=1)
def types() -> dict[str, dict]:
    """Certificate types by code, in file order."""
    data = json.loads(TYPES_FILE.read_text(encoding="utf-8"))
    return {t["code"]: t for t in data["types"]}


# What a district may word for itself, per type; and the names its texts may use.
TEXT_FIELDS = ("title", "heading", "body", "issuer_title", "issuer_name")
PLACEHOLDERS = ("name", "stratum", "kelurahan", "district", "year")


def types_of(district: District | None) -> dict[str, dict]:
    """The certificate types as this district words them: the shipped texts (data/certificate_types.json) with
    the district's own over them. Another district's texts never enter (issue 12)."""
    own = json.loads(district.certificate_texts) if district is not None and district.certificate_texts else {}
    out = {}
    for code, t in types().items():
        merged = {"issuer_title": "", "issuer_name": "", **t}
        merged.update({k: v for k, v in (own.get(code) or {}).items() if k in TEXT_FIELDS and v})
        out[code] = merged
    return out


def text_problem(text: str) -> str | None:
    """Why a certificate text cannot be printed: a {name} it may not use (or a stray brace); None when fine."""
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(text or "") if f is not None}
        unknown = sorted(names - set(PLACEHOLDERS))
        if unknown:
            return unknown[0] or "{}"
        (text or "").format(**{p: "" for p in PLACEHOLDERS})
    except (ValueError, IndexError, KeyError, AttributeError):
        return "{"
    return None


def own_texts(values: dict[str, dict]) -> str | None:
    """The JSON kept on the district: per type, only what differs from the shipped text (blank = shipped)."""
    base = types_of(None)
    own = {}
    for code, fields in values.items():
        if code not in base:
            continue
        diff = {k: v.strip() for k, v in fields.items()
                if k in TEXT_FIELDS and v and v.strip() and v.strip() != base[code].get(k, "")}
        if diff:
            own[code] = diff
    return json.dumps(own, ensure_ascii=False, sort_keys=True) if own else None


def new_token() -> str:
    """The unguessable part of the public verification URL (128 bits)."""
    return secrets.token_urlsafe(16)


def issue(actor: User, type_code: str, kelurahan: Kelurahan, issued_on: date, issuer_name: str, issuer_title: str,
          kader: Kader | None = None, stratum: str | None = None, key: str | None = None) -> Certificate:
    """Issue one certificate; its number is unique (type, year, running id). A repeated post (same key) returns
    the certificate the first one issued."""
    earlier = idempotency.seen(key, user_id=actor.id, entity="certificate")
    if earlier is not None:
        return db.session.get(Certificate, earlier.entity_id)
    district = kelurahan.kecamatan.district
    t = types_of(district).get(type_code)
    if t is None:
        raise CertificateError("type")
    if (t["subject"] == "kader") != (kader is not None):
        raise CertificateError("subject")
    if type_code == "stratum" and stratum not in STRATUM_NAMES:
        raise CertificateError("stratum")
    values = {"name": kader.name if kader else kelurahan.name, "stratum": STRATUM_NAMES.get(stratum or "", ""),
              "kelurahan": kelurahan.name, "district": district.name, "year": issued_on.year}
    acting(db.session, actor)
    try:  # in a savepoint: a twin that won the race undoes only this attempt, not the caller's unit of work
        with db.session.begin_nested():
            cert = Certificate(number=f"{PROVISIONAL}{secrets.token_hex(8)}", token=new_token(), type_code=type_code,
                               kader_id=kader.id if kader else None, kelurahan_id=kelurahan.id,
                               recipient_name=values["name"] if kader else f"Kelurahan {kelurahan.name}",
                               title=t["title"], heading=t["heading"].format(**values),
                               body=t["body"].format(**values), issued_on=issued_on, issuer_name=issuer_name,
                               issuer_title=issuer_title, place=district.place)
            db.session.add(cert)
            db.session.flush()
            # The number carries the id, so it is set after the insert; the model refuses any later change.
            cert.number = f"{t['prefix']}/{district.code or district.id}/{issued_on.year}/{cert.id:06d}"
            db.session.flush()
            idempotency.claim_for(key, actor.id, "certificate", cert.id)
    except IntegrityError as e:
        return db.session.get(Certificate, idempotency.twin_of(e, key, user_id=actor.id, entity="certificate"))
    return cert


def revoke(actor: User, cert: Certificate, reason: str) -> None:
    """Revoke with a reason; the verification page says so from now on."""
    if cert.revoked_at is not None:
        raise CertificateError("revoked")
    if not reason:
        raise CertificateError("reason")
    acting(db.session, actor)
    cert.revoked_at, cert.revoked_reason, cert.revoked_by_id = utcnow(), reason, actor.id
    db.session.flush()


def by_token(token: str) -> Certificate | None:
    if not token or len(token) > 32:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.token == token))


def of_kelurahan(kelurahan_id: int, include_revoked: bool = False) -> list[Certificate]:
    q = select(Certificate).where(Certificate.kelurahan_id == kelurahan_id)
    if not include_revoked:
        q = q.where(Certificate.revoked_at.is_(None))
    return list(db.session.scalars(q.order_by(Certificate.issued_on, Certificate.id)))


def of_kader(kader_id: int) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.kader_id == kader_id)
                                   .order_by(Certificate.issued_on.desc(), Certificate.id.desc())))
