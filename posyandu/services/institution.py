"""The Posyandu as an institution: the SPM fields it serves, its verification (kelurahan/desa) and validation
(district), and the registration-completeness report per kecamatan and desa.

Every function takes the acting user explicitly; lists are filtered by the user's scope.
"""
import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import event, inspect, or_, select

from ..domain import institution as dom
from ..extensions import db
from ..models import District, Kader, KaderRole, Kecamatan, Kelurahan, Posyandu, User
from .audit import acting
from .scope import posyandu_ids


# What the kelurahan verified and the district validated: a change sends the institution back to be verified again
# (as a kader record's correction does), whichever form made it.
REGISTRATION_FIELDS = ("name", "registration_number", "sk_number", "sk_date", "sk_update_number", "sk_update_date",
                       "company_run", "company_name", "spm_fields")


@event.listens_for(Posyandu, "before_update")
def _registration_changed(mapper, connection, target):
    state = inspect(target)
    if target.review_status not in ("terverifikasi", "tervalidasi") or state.attrs.review_status.history.has_changes():
        return
    if any(state.attrs[f].history.has_changes() for f in REGISTRATION_FIELDS):
        target.review_status = "baru"
        target.verified_at = target.verified_by_id = target.validated_at = target.validated_by_id = None


def set_fields(actor: User, pos: Posyandu, fields) -> bool:
    """Record the SPM fields the Posyandu serves. A change sends a verified institution back to be verified
    again (its board now has other positions to fill). True when anything changed."""
    acting(db.session, actor)
    value = dom.dump_fields(fields)
    if value == (pos.spm_fields or ""):
        return False
    pos.spm_fields = value  # a verified institution goes back to be verified (_registration_changed)
    db.session.flush()
    return True


def held_positions(pos_ids, on: date) -> dict[int, set[str]]:
    """Board positions held on a date, per Posyandu (live kader only), in one query."""
    q = (select(KaderRole.posyandu_id, KaderRole.role).join(Kader)
         .where(KaderRole.posyandu_id.in_(pos_ids), KaderRole.role != "kader", Kader.deleted_at.is_(None),
                KaderRole.start_date <= on, or_(KaderRole.end_date.is_(None), KaderRole.end_date >= on)))
    out: dict[int, set[str]] = {}
    for pid, role in db.session.execute(q):
        out.setdefault(pid, set()).add(role)
    return out


def registration_of(pos: Posyandu, on: date) -> dom.Registration:
    """What one Posyandu's registration lacks today."""
    held = held_positions([pos.id], on).get(pos.id, set())
    return dom.registration(pos.registration_number, pos.sk_number, dom.parse_fields(pos.spm_fields), held,
                            pos.review_status)


@dataclass
class Row:
    posyandu: Posyandu
    kelurahan: str
    kecamatan: str
    reg: dom.Registration


@dataclass
class Report:
    rows: list[Row]
    by_kecamatan: list[dom.Tally]
    by_kelurahan: list[dom.Tally]
    total: dom.Tally
    target: date | None
    target_state: str


def completeness(user: User, on: date, kelurahan_id: int | None = None, only_incomplete: bool = False) -> Report:
    """Every active Posyandu in scope (optionally of one kelurahan/desa) with what its registration lacks, and
    the counts per kecamatan and desa against the district's target date."""
    q = (select(Posyandu, Kelurahan.name, Kecamatan.name).join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
         .join(Kecamatan, Kelurahan.kecamatan_id == Kecamatan.id)
         .where(Posyandu.id.in_(posyandu_ids(user)), Posyandu.active)
         .order_by(Kecamatan.name, Kelurahan.name, Posyandu.name, Posyandu.id))
    if kelurahan_id:
        q = q.where(Posyandu.kelurahan_id == kelurahan_id)
    found = db.session.execute(q).all()
    held = held_positions([p.id for p, _, _ in found], on) if found else {}
    rows, kec, kel, total = [], {}, {}, dom.Tally("")
    for pos, kel_name, kec_name in found:
        reg = dom.registration(pos.registration_number, pos.sk_number, dom.parse_fields(pos.spm_fields),
                               held.get(pos.id, set()), pos.review_status)
        kec.setdefault(kec_name, dom.Tally(kec_name)).add(reg)
        kel.setdefault((kec_name, kel_name), dom.Tally(kel_name)).add(reg)
        total.add(reg)
        if not (only_incomplete and reg.complete):
            rows.append(Row(pos, kel_name, kec_name, reg))
    district = db.session.get(District, user.district_id)
    target = district.registration_target if district else None
    return Report(rows, list(kec.values()), list(kel.values()), total, target,
                  dom.target_state(target, on, total.share))


def set_target(actor: User, target: date | None) -> None:
    """The district's 'every Posyandu registered by' date."""
    acting(db.session, actor)
    district = db.session.get(District, actor.district_id)
    district.registration_target = target
    db.session.flush()


CSV_HEADER = ["Kecamatan", "Kelurahan/Desa", "Posyandu", "Nomor registrasi", "Nomor SK", "Tanggal SK",
              "Bidang SPM", "Pengurus belum ada", "Status", "Lengkap", "Kekurangan"]


def _safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def completeness_rows(report: Report, gap_names: dict, position_names: dict, field_names: dict,
                      status_names: dict) -> list[list]:
    """The completeness list as rows under CSV_HEADER: the one source of the CSV and the XLSX."""
    rows = []
    for r in report.rows:
        p = r.posyandu
        rows.append([r.kecamatan, r.kelurahan, p.name, p.registration_number or "", p.sk_number or "",
                     p.sk_date.isoformat() if p.sk_date else "",
                     "; ".join(str(field_names[f]) for f in dom.parse_fields(p.spm_fields)),
                     "; ".join(str(position_names[b]) for b in r.reg.board_missing),
                     str(status_names.get(p.review_status, p.review_status)), "ya" if r.reg.complete else "tidak",
                     "; ".join(str(gap_names[g]) for g in r.reg.gaps)])
    return rows


def completeness_csv(report: Report, gap_names: dict, position_names: dict, field_names: dict,
                     status_names: dict) -> bytes:
    """The completeness list as CSV (UTF-8 with BOM so a spreadsheet reads the names right)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for row in completeness_rows(report, gap_names, position_names, field_names, status_names):
        w.writerow([_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def completeness_xlsx(report: Report, gap_names: dict, position_names: dict, field_names: dict,
                      status_names: dict, title: str) -> bytes:
    """The same rows as a workbook (the app's XLSX helpers: no formula from a typed name, the same rows give the
    same bytes), under a title line and bold headers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from .report_exports import safe_cell, save_stable

    wb = Workbook()
    wb.properties.created = wb.properties.modified = datetime(2000, 1, 1)  # not the time of the download
    ws = wb.active
    ws.title = "Registrasi Posyandu"
    ws.append([safe_cell(title)])
    ws["A1"].font = Font(bold=True)
    ws.append([])
    ws.append(CSV_HEADER)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in completeness_rows(report, gap_names, position_names, field_names, status_names):
        ws.append([safe_cell(v) for v in row])
    for col, width in zip("ABCDEFGHIJK", (20, 22, 24, 18, 22, 12, 30, 30, 16, 9, 40)):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    save_stable(wb, out)
    return out.getvalue()
