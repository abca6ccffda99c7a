"""Komitmen Kinerja Kader: versioned templates per district and year, signing, countersigning, status lists."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from ..domain.commitment import SignatureError, canonical_text, dump_strokes, parse_strokes, text_hash
from ..domain.errors import Invalid
from ..extensions import db
from ..models import Commitment, CommitmentTemplate, Kader, KaderRole, Kelurahan, Posyandu, User
from ..models.base import utcnow
from . import roster, signers
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


class CommitmentError(Invalid):
    """Signing is not possible: no template, already signed, the signature is not a drawing, a typed name that is
    not the signer's (typed_name), no ketua on record (no_ketua), the ketua's own commitment (own), no lurah name."""


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
    db.session.flush()
    return t


def publish_if_changed(actor: User, district_id: int, year: int, title: str, body: str) -> CommitmentTemplate | None:
    """A new version of the year's text when it differs from the current one (the settings page saves every
    field; an unchanged text publishes nothing)."""
    current = current_template(district_id, year)
    shown = (current.title, current.body) if current is not None else (DEFAULT_TITLE, DEFAULT_BODY.format(year=year))
    if (canonical_text(shown[0]), canonical_text(shown[1])) == (canonical_text(title), canonical_text(body)):
        return None
    return new_version(actor, district_id, year, title, body)


def commitment_of(kader_id: int, year: int) -> Commitment | None:
    return db.session.scalar(select(Commitment).where(Commitment.kader_id == kader_id, Commitment.year == year))


def _signature(kind: str, drawn: str | None, typed: str | None) -> str:
    if kind == "drawn":
        try:
            return dump_strokes(parse_strokes(drawn))
        except SignatureError as e:  # not a drawing (malformed, a dot, too many points): a form error
            raise CommitmentError("drawing") from e
    if kind == "typed" and typed and typed.strip():
        return canonical_text(typed)[:100]
    raise CommitmentError("signature")


def sign(actor: User, kader: Kader, posyandu_id: int, template: CommitmentTemplate, kind: str,
         drawn: str | None = None, typed: str | None = None, shown_sha256: str | None = None,
         pin: str | None = None) -> Commitment:
    """Record the kader's signature on exactly the text she was shown (its hash must match the template). She is
    identified by her own account or her PIN (signers.IdentityError otherwise); a typed signature is her name."""
    if shown_sha256 is not None and shown_sha256 != template.body_sha256:
        raise CommitmentError("stale")  # a new version was published while she was reading
    signature = check(kader, posyandu_id, template, kind, drawn, typed, date.today())
    method = signers.identify(actor, kader, pin)
    return add_signed(actor, kader, posyandu_id, template, kind, signature, method=method, recorded_by_id=actor.id)


def check(kader: Kader, posyandu_id: int, template: CommitmentTemplate, kind: str, drawn: str | None,
          typed: str | None, on: date) -> str:
    """The rules of a signature wherever it was made (the form, a laptop's push): a drawing that parses or a typed
    name that is the kader's, a kader who served the Posyandu on the day she signed (posyandu), not signed yet
    this year (already). Returns the signature as stored; raises CommitmentError."""
    signature = _signature(kind, drawn, typed)
    if kind == "typed" and not signers.same_name(typed, kader.name):
        raise CommitmentError("typed_name")
    if not roster.serves(kader.id, posyandu_id, on):
        raise CommitmentError("posyandu")
    if commitment_of(kader.id, template.year) is not None:
        raise CommitmentError("already")
    return signature


def add_signed(actor: User | None, kader: Kader, posyandu_id: int, template: CommitmentTemplate, kind: str,
               signature: str, *, method: str, recorded_by_id: int | None, signed_at=None,
               uuid: str | None = None) -> Commitment:
    """Write a signature `check` passed, the signer identified (by `method`); the sync passes the laptop's time and
    UUID. A twin signed meanwhile (the unique kader and year) raises CommitmentError("already")."""
    acting(db.session, actor)
    c = Commitment(kader_id=kader.id, posyandu_id=posyandu_id, template_id=template.id, year=template.year,
                   title=template.title, text=template.body, text_sha256=text_hash(template.body),
                   signer_name=kader.name, signature_kind=kind, signature=signature, signed_at=signed_at or utcnow(),
                   recorded_by_id=recorded_by_id, signer_method=method)
    if uuid:
        c.uuid = uuid
    try:  # in a savepoint: a double post whose twin was first undoes only this attempt
        with db.session.begin_nested():
            db.session.add(c)
            db.session.flush()
    except IntegrityError:
        raise CommitmentError("already") from None
    return c


def countersigner(actor: User, c: Commitment) -> Kader | None:
    """For a ketua account: the kader who is ketua of the commitment's Posyandu today (she countersigns)."""
    return signers.ketua_of(c.posyandu_id, date.today()) if actor.role == "ketua" else None


def ketua_title(c: Commitment) -> str:
    """"Ketua Posyandu Melati 1" (not "Ketua Posyandu Posyandu …" when the name already says it)."""
    name = c.posyandu.name
    return f"Ketua {name}" if name.lower().startswith("posyandu") else f"Ketua Posyandu {name}"


def head_title(c: Commitment) -> str:
    """The lurah's (or kepala desa's) title, as printed: "Lurah Api-Api"."""
    kel = c.posyandu.kelurahan
    return f"{'Kepala Desa' if kel.kind == 'desa' else 'Lurah'} {kel.name}"


def countersign(actor: User, c: Commitment, kind: str, drawn: str | None = None, typed: str | None = None,
                pin: str | None = None, name: str | None = None, title: str | None = None) -> Commitment:
    """Countersigned once, by a real person: the ketua of the Posyandu (the kader in that board position, by her
    account or PIN; not on her own commitment), or the lurah, whose name and title the kelurahan enters."""
    if c.countersigned_at is not None:
        raise CommitmentError("already")
    signature = _signature(kind, drawn, typed)
    ketua = None
    if actor.role == "ketua":
        ketua = countersigner(actor, c)
        if ketua is None:
            raise CommitmentError("no_ketua")
        if ketua.id == c.kader_id:
            raise CommitmentError("own")
        name, title = ketua.name, ketua_title(c)
    else:
        name, title = canonical_text(name or ""), canonical_text(title or "") or head_title(c)
        if not name:
            raise CommitmentError("name")
    if kind == "typed" and not signers.same_name(typed, name):
        raise CommitmentError("typed_name")
    ketua_id = ketua.id if ketua is not None else None
    method = signers.identify(actor, ketua, pin) if ketua is not None else "entered"
    acting(db.session, actor)
    # All at once and nothing loaded in between: an autoflush halfway would countersign in two UPDATEs, and the
    # database refuses the second (countersigned once).
    values = {"countersigner_name": name[:100], "countersigner_title": title[:100], "countersignature_kind": kind,
              "countersignature": signature, "countersigned_at": utcnow(), "countersigned_by_id": actor.id,
              "countersigner_method": method, "countersigner_kader_id": ketua_id}
    with db.session.no_autoflush:
        for k, v in values.items():
            setattr(c, k, v)
    db.session.flush()
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
