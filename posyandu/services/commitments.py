"""Komitmen Kinerja Kader: versioned templates per district and year, signing, countersigning, status lists."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain.commitment import canonical_text, dump_strokes, parse_strokes, text_hash
from ..extensions import db
from ..models import Commitment, CommitmentTemplate, Kader, KaderRole, Kelurahan, Posyandu, User
from ..models.base import utcnow
from .audit import acting
from .scope import posyandu_ids

DEFAULT_TITLE = "Komitmen Kinerja Kader Posyandu"
DEFAULT_BODY = """Saya yang bertanda tangan di bawah ini, sebagai kader Posyandu, berkomitmen selama tahun {year} untuk:

1. Hadir dan bertugas pada setiap hari buka Posyandu sesuai jadwal.
2. Melakukan kunjungan rumah kepada sasaran paling sedikit 4 (empat) kali setiap bulan, terutama balita yang tidak hadir, balita dengan berat badan tidak naik, ibu hamil berisiko, dan lansia.
3. Mencatat hasil layanan dengan benar dan menyampaikan laporan bulanan tepat waktu, paling lambat tanggal 5 bulan berikutnya.
4. Menjaga kerahasiaan data pribadi sasaran.
5. Mengikuti pelatihan dan pembinaan yang diselenggarakan Puskesmas, kelurahan dan pemerintah kota.

Sebagai imbalan atas pelaksanaan komitmen ini, saya menerima insentif kader sesuai ketentuan yang berlaku. Saya memahami bahwa insentif dapat dikurangi apabila komitmen ini tidak dipenuhi."""


class CommitmentError(ValueError):
    """Signing is not possible: no template, already signed, or the signature is not a drawing."""


def templates(district_id: int) -> list[CommitmentTemplate]:
    q = (select(CommitmentTemplate).where(CommitmentTemplate.district_id == district_id)
         .order_by(CommitmentTemplate.year.desc(), CommitmentTemplate.version.desc()))
    return list(db.session.scalars(q))


def current_template(district_id: int, year: int) -> CommitmentTemplate | None:
    """The newest version of the district's text for the year."""
    q = (select(CommitmentTemplate).where(CommitmentTemplate.district_id == district_id,
                                          CommitmentTemplate.year == year)
         .order_by(CommitmentTemplate.version.desc()).limit(1))
    return db.session.scalar(q)


def new_version(actor: User, district_id: int, year: int, title: str, body: str) -> CommitmentTemplate:
    """Publish a new version of the year's text; earlier versions and what was signed on them stay as they were."""
    acting(db.session, actor)
    last = current_template(district_id, year)
    body = canonical_text(body)
    t = CommitmentTemplate(district_id=district_id, year=year, version=(last.version + 1) if last else 1,
                           title=canonical_text(title), body=body, body_sha256=text_hash(body))
    db.session.add(t)
    db.session.commit()
    return t


def commitment_of(kader_id: int, year: int) -> Commitment | None:
    return db.session.scalar(select(Commitment).where(Commitment.kader_id == kader_id, Commitment.year == year))


def _signature(kind: str, drawn: str | None, typed: str | None) -> str:
    if kind == "drawn":
        return dump_strokes(parse_strokes(drawn))
    if kind == "typed" and typed and typed.strip():
        return canonical_text(typed)[:100]
    raise CommitmentError("signature")


def sign(actor: User, kader: Kader, posyandu_id: int, template: CommitmentTemplate, kind: str,
         drawn: str | None = None, typed: str | None = None, shown_sha256: str | None = None) -> Commitment:
    """Record the kader's signature on exactly the text she was shown (its hash must match the template)."""
    if shown_sha256 is not None and shown_sha256 != template.body_sha256:
        raise CommitmentError("stale")  # a new version was published while she was reading
    signature = _signature(kind, drawn, typed)
    existing = commitment_of(kader.id, template.year)
    if existing is not None:
        raise CommitmentError("already")
    acting(db.session, actor)
    c = Commitment(kader_id=kader.id, posyandu_id=posyandu_id, template_id=template.id, year=template.year,
                   title=template.title, text=template.body, text_sha256=text_hash(template.body),
                   signer_name=kader.name, signature_kind=kind, signature=signature, signed_at=utcnow(),
                   recorded_by_id=actor.id)
    db.session.add(c)
    try:
        db.session.commit()
    except IntegrityError:  # a double post: the twin was first
        db.session.rollback()
        raise CommitmentError("already")
    return c


def countersign(actor: User, c: Commitment, name: str, title: str, kind: str, drawn: str | None = None,
                typed: str | None = None) -> Commitment:
    """The ketua or lurah countersigns once."""
    if c.countersigned_at is not None:
        raise CommitmentError("already")
    signature = _signature(kind, drawn, typed)
    acting(db.session, actor)
    c.countersigner_name, c.countersigner_title = canonical_text(name)[:100], canonical_text(title)[:100]
    c.countersignature_kind, c.countersignature = kind, signature
    c.countersigned_at, c.countersigned_by_id = utcnow(), actor.id
    db.session.commit()
    return c


@dataclass
class StatusRow:
    kader: Kader
    posyandu: Posyandu
    commitment: Commitment | None


def status(user: User, year: int, posyandu_id: int | None = None) -> list[StatusRow]:
    """Every kader with a role in the year, per Posyandu, and their commitment for that year (or None)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    stmt = (select(Kader, Posyandu, Commitment)
            .join(KaderRole, KaderRole.kader_id == Kader.id).join(Posyandu, Posyandu.id == KaderRole.posyandu_id)
            .join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id)
            .outerjoin(Commitment, and_(Commitment.kader_id == Kader.id, Commitment.year == year))
            .where(KaderRole.posyandu_id.in_(posyandu_ids(user)), Kader.deleted_at.is_(None),
                   KaderRole.start_date <= end, or_(KaderRole.end_date.is_(None), KaderRole.end_date >= start))
            .order_by(Kelurahan.name, Posyandu.name, Kader.name))
    if posyandu_id:
        stmt = stmt.where(KaderRole.posyandu_id == posyandu_id)
    seen, out = set(), []
    for k, p, c in db.session.execute(stmt):
        if (k.id, p.id) not in seen:
            seen.add((k.id, p.id))
            out.append(StatusRow(k, p, c))
    return out


def counts(rows: list[StatusRow]) -> dict:
    signed = sum(1 for r in rows if r.commitment)
    return {"total": len(rows), "signed": signed, "countersigned": sum(1 for r in rows if r.commitment and
                                                                      r.commitment.countersigned_at),
            "unsigned": len(rows) - signed}


def ensure_template(actor: User | None, district_id: int, year: int) -> CommitmentTemplate:
    """The year's template, created from the default text when the district has none yet (demo, first run)."""
    t = current_template(district_id, year)
    if t is None:
        t = new_version(actor, district_id, year, DEFAULT_TITLE, DEFAULT_BODY.format(year=year))
    return t
