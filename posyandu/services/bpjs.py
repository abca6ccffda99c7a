"""BPJS Ketenagakerjaan for kader: the enrolment list per kelurahan/desa, the monthly premium per kader and in total,
who pays it (the incentive policy's bpjs_deduction), the district's rates, and the list for the BPJS office.

Every function takes the acting user explicitly; lists are filtered by the user's scope.
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from ..domain import bpjs as dom
from ..extensions import db
from ..models import District, Kader, KaderRole, Kelurahan, Posyandu, User
from .audit import acting
from .incentives import policy_in_force
from .scope import posyandu_ids


def rates_of(district: District) -> dom.Premium:
    """The district's monthly premium per enrolled kader."""
    return dom.premium(district.bpjs_income, district.bpjs_jkk_bp, district.bpjs_jkm)


def set_rates(actor: User, income: int, jkk_bp: int, jkm: int) -> None:
    """The district's declared income and JKK/JKM rates (checked by the domain rule before saving)."""
    dom.premium(income, jkk_bp, jkm)
    acting(db.session, actor)
    d = db.session.get(District, actor.district_id)
    d.bpjs_income, d.bpjs_jkk_bp, d.bpjs_jkm = income, jkk_bp, jkm
    db.session.flush()


@dataclass
class Row:
    kader: Kader
    kelurahan_id: int
    kelurahan: str
    posyandu: list[str]
    state: str
    premium: int  # this month's premium when active, else 0


@dataclass
class Payer:
    """Who pays the premium in a month, per the incentive policy in force."""

    kind: str  # deducted | district | none (no policy)
    amount: int  # what the policy deducts per kader (deducted), else 0
    mismatch: bool  # the policy deducts another amount than the premium


@dataclass
class Enrolment:
    rows: list[Row]
    premium: dom.Premium
    payer: Payer
    counts: dict = field(default_factory=dict)
    total_premium: int = 0


def enrolment(user: User, on: date, kelurahan_id: int | None = None) -> Enrolment:
    """Every live kader with a current role in the Posyandu in scope (optionally of one kelurahan/desa): enrolled
    since, active until, NIK missing, not enrolled — with the month's premium and who pays it."""
    current = (select(KaderRole.kader_id, Posyandu.name, Kelurahan.id, Kelurahan.name).select_from(KaderRole)
               .join(Posyandu, KaderRole.posyandu_id == Posyandu.id)
               .join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
               .where(KaderRole.posyandu_id.in_(posyandu_ids(user)), KaderRole.start_date <= on,
                      or_(KaderRole.end_date.is_(None), KaderRole.end_date >= on)))
    if kelurahan_id:
        current = current.where(Posyandu.kelurahan_id == kelurahan_id)
    where: dict[int, tuple[int, str, list[str]]] = {}
    for kid, pos_name, kel_id, kel_name in db.session.execute(current):
        names = where.setdefault(kid, (kel_id, kel_name, []))[2]
        if pos_name not in names:
            names.append(pos_name)
    district = db.session.get(District, user.district_id)
    prem = rates_of(district)
    kader = (db.session.scalars(select(Kader).where(Kader.id.in_(list(where)), Kader.deleted_at.is_(None)))
             if where else [])
    rows, counts = [], {s: 0 for s in dom.STATES} | {"nik_missing": 0}
    for k in kader:
        state = dom.enrolment_state(k.bpjs_tk_number, k.bpjs_tk_since, k.bpjs_tk_active_until, on)
        counts[state] += 1
        counts["nik_missing"] += not k.nik
        kel_id, kel, names = where[k.id]
        rows.append(Row(k, kel_id, kel, sorted(names), state, prem.total if state == "active" else 0))
    rows.sort(key=lambda r: (r.kelurahan, r.kader.name, r.kader.id))
    policy = policy_in_force(user.district_id, on)
    if policy is None:
        payer = Payer("none", 0, False)
    elif policy.bpjs_deduction:
        payer = Payer("deducted", policy.bpjs_amount, policy.bpjs_amount != prem.total)
    else:
        payer = Payer("district", 0, False)
    return Enrolment(rows, prem, payer, counts, sum(r.premium for r in rows))


@dataclass
class KelurahanTally:
    id: int
    name: str
    kader: int = 0
    active: int = 0
    lapsed: int = 0  # expired or not yet started
    not_enrolled: int = 0
    nik_missing: int = 0
    premium: int = 0


def per_kelurahan(e: Enrolment) -> list[KelurahanTally]:
    """The enrolment counted per kelurahan/desa (the district's overview before it opens one list)."""
    out: dict[int, KelurahanTally] = {}
    for r in e.rows:
        t = out.setdefault(r.kelurahan_id, KelurahanTally(r.kelurahan_id, r.kelurahan))
        t.kader += 1
        t.active += r.state == "active"
        t.lapsed += r.state in ("expired", "not_yet")
        t.not_enrolled += r.state == "not_enrolled"
        t.nik_missing += not r.kader.nik
        t.premium += r.premium
    return sorted(out.values(), key=lambda t: t.name)


EXPORT_HEADER = ["No", "NIK", "Nama", "Tanggal lahir", "No. kepesertaan BPJS TK", "Terdaftar sejak", "Aktif sampai",
                 "Alamat", "Kelurahan/Desa", "Posyandu", "Status", "Iuran JKK", "Iuran JKM", "Iuran per bulan"]
STATE_ID = {"active": "aktif", "not_yet": "belum mulai", "expired": "tidak aktif", "not_enrolled": "belum terdaftar"}


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _export_rows(e: Enrolment):
    for i, r in enumerate(e.rows, 1):
        k = r.kader
        active = r.state == "active"
        yield [i, _safe(k.nik), _safe(k.name), k.birth_date.isoformat() if k.birth_date else "",
               _safe(k.bpjs_tk_number), k.bpjs_tk_since.isoformat() if k.bpjs_tk_since else "",
               k.bpjs_tk_active_until.isoformat() if k.bpjs_tk_active_until else "", _safe(k.address),
               _safe(r.kelurahan), _safe(", ".join(r.posyandu)), STATE_ID[r.state],
               e.premium.jkk if active else 0, e.premium.jkm if active else 0, r.premium]


def export_csv(e: Enrolment) -> bytes:
    """The list for the BPJS office as CSV: NIK, name, birth date, membership number, address, premium."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(EXPORT_HEADER)
    for row in _export_rows(e):
        w.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(e: Enrolment, title: str) -> bytes:
    """The same list as a workbook: NIK and numbers kept as text, a total row of the premiums."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "BPJS TK"
    ws.append([title])
    ws.append([f"Iuran per kader: JKK Rp{e.premium.jkk:,} + JKM Rp{e.premium.jkm:,} = Rp{e.premium.total:,}"
               .replace(",", ".")])
    ws.append([])
    ws.append(EXPORT_HEADER)
    head = ws.max_row
    for c in ws[head]:
        c.font = Font(bold=True)
    for row in _export_rows(e):
        ws.append(row)
    ws.append(["", "", "JUMLAH"] + [""] * 8 + [sum(r[11] for r in _export_rows(e)),
                                              sum(r[12] for r in _export_rows(e)), e.total_premium])
    for row in ws.iter_rows(min_row=head + 1, max_row=ws.max_row):
        row[1].number_format = row[4].number_format = "@"
        for c in row[11:14]:
            c.number_format = "#,##0"
    for col, width in zip("ABCDEFGHIJKLMN", (5, 19, 28, 12, 20, 12, 12, 36, 18, 22, 14, 11, 11, 13)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
