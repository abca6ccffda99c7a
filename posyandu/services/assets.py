"""The Posyandu's kit: add, change and retire items (audited), the register of a Posyandu, the scales past their
check for the hari buka warning, and the district's totals by kind.

Every function takes the acting user explicitly; lists are filtered by the user's scope.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..domain import assets as dom
from ..extensions import db
from ..models import Asset, Kecamatan, Kelurahan, Posyandu, User
from . import idempotency
from .audit import acting
from .scope import posyandu_ids

FIELDS = ("kind", "label", "received_on", "source", "condition", "checked_on", "check_months", "notes")


def register(posyandu_id: int, include_retired: bool = False) -> list[Asset]:
    """A Posyandu's kit by kind and label."""
    q = select(Asset).where(Asset.posyandu_id == posyandu_id)
    if not include_retired:
        q = q.where(Asset.retired_on.is_(None))
    order = {k: i for i, k in enumerate(dom.KINDS)}
    return sorted(db.session.scalars(q), key=lambda a: (a.retired_on is not None, order.get(a.kind, 99),
                                                        a.label or "", a.id))


def add(actor: User, posyandu_id: int, data: dict, key: str | None = None) -> Asset:
    """Register an item; posted twice, it is registered once."""
    twin = idempotency.seen(key, user_id=actor.id, entity="asset")
    if twin is not None:
        return db.session.get(Asset, twin.entity_id)
    acting(db.session, actor)
    try:  # in a savepoint: a twin that won the race undoes only this attempt, not the caller's unit of work
        with db.session.begin_nested():
            asset = Asset(posyandu_id=posyandu_id, **{k: data.get(k) for k in FIELDS})
            db.session.add(asset)
            db.session.flush()
            idempotency.claim_for(key, actor.id, "asset", asset.id)
    except IntegrityError as e:
        return db.session.get(Asset, idempotency.twin_of(e, key, user_id=actor.id, entity="asset"))
    return asset


def update(actor: User, asset: Asset, data: dict) -> None:
    """Correct an item or record its condition or a new check."""
    acting(db.session, actor)
    for k in FIELDS:
        if k in data:
            setattr(asset, k, data[k])
    db.session.flush()


def retire(actor: User, asset: Asset, on: date, reason: str) -> None:
    """Take an item off the register (handed back, written off, lost) with a date and reason; it stays in history."""
    acting(db.session, actor)
    asset.retired_on, asset.retired_reason = on, reason
    db.session.flush()


def scale_warnings(posyandu_id: int, on: date) -> list[Asset]:
    """The Posyandu's usable scales that are past their check (or were never checked): warned on the hari buka."""
    q = select(Asset).where(Asset.posyandu_id == posyandu_id, Asset.retired_on.is_(None),
                            Asset.kind.in_(dom.SCALES), Asset.condition.in_(dom.USABLE))
    return [a for a in db.session.scalars(q) if dom.needs_warning(a.kind, a.condition, a.checked_on,
                                                                  a.check_months, on)]


@dataclass
class Totals:
    by_kind: dict  # kind → {condition → n, "total": n}
    overdue: list  # (Asset, posyandu name, kelurahan name) of checked items past their check or never checked
    posyandu_count: int
    with_kit: int


def totals(user: User, on: date) -> Totals:
    """Items in service in scope per kind and condition, aggregated in SQL; and the checks that are due."""
    in_scope = posyandu_ids(user)
    by_kind = {k: {c: 0 for c in dom.CONDITIONS} | {"total": 0} for k in dom.KINDS}
    for kind, cond, n in db.session.execute(
            select(Asset.kind, Asset.condition, func.count()).where(Asset.posyandu_id.in_(in_scope),
                                                                    Asset.retired_on.is_(None))
            .group_by(Asset.kind, Asset.condition)):
        row = by_kind.setdefault(kind, {c: 0 for c in dom.CONDITIONS} | {"total": 0})
        row[cond] = row.get(cond, 0) + n
        row["total"] += n
    checked = db.session.execute(
        select(Asset, Posyandu.name, Kelurahan.name).join(Posyandu, Asset.posyandu_id == Posyandu.id)
        .join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
        .where(Asset.posyandu_id.in_(in_scope), Asset.retired_on.is_(None), Asset.kind.in_(dom.CHECKED),
               Asset.condition.in_(dom.USABLE))
        .order_by(Kelurahan.name, Posyandu.name, Asset.kind, Asset.id)).all()
    overdue = [(a, p, k) for a, p, k in checked
               if dom.check_state(a.kind, a.checked_on, a.check_months, on) in ("overdue", "never")]
    pos_count = db.session.scalar(select(func.count()).select_from(Posyandu)
                                  .where(Posyandu.id.in_(posyandu_ids(user)), Posyandu.active))
    with_kit = db.session.scalar(select(func.count(func.distinct(Asset.posyandu_id)))
                                 .where(Asset.posyandu_id.in_(in_scope), Asset.retired_on.is_(None)))
    return Totals(by_kind, overdue, pos_count, with_kit)


CSV_HEADER = ["Kecamatan", "Kelurahan/Desa", "Posyandu", "Jenis", "Label/No. seri", "Diterima", "Sumber", "Kondisi",
              "Diperiksa/dikalibrasi", "Pemeriksaan berikutnya"]


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def register_csv(user: User, kind_names: dict, condition_names: dict) -> bytes:
    """Every item in service in scope, one row each (Indonesian headers)."""
    q = (select(Asset, Posyandu.name, Kelurahan.name, Kecamatan.name).join(Posyandu, Asset.posyandu_id == Posyandu.id)
         .join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id).join(Kecamatan, Kelurahan.kecamatan_id == Kecamatan.id)
         .where(Asset.posyandu_id.in_(posyandu_ids(user)), Asset.retired_on.is_(None))
         .order_by(Kecamatan.name, Kelurahan.name, Posyandu.name, Asset.kind, Asset.id))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for a, pos, kel, kec in db.session.execute(q):
        due = dom.next_check(a.checked_on, a.check_months) if a.kind in dom.CHECKED else None
        w.writerow([_safe(kec), _safe(kel), _safe(pos), str(kind_names.get(a.kind, a.kind)), _safe(a.label),
                    a.received_on.isoformat() if a.received_on else "", _safe(a.source),
                    str(condition_names.get(a.condition, a.condition)),
                    a.checked_on.isoformat() if a.checked_on else "", due.isoformat() if due else ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
