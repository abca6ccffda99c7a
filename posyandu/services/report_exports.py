"""Report exports: the monthly report as XLSX, the e-PPGBM workbook (write-only, streamed from the database in
batches so a whole district fits in bounded memory), and CSV of any list. No Flask request here.

The e-PPGBM sheets use the national system's Indonesian headings and category names whatever the UI language:
they are read by import tools and operators, not by this app's users.
"""
import csv
import io
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from ..domain import growth, rules
from ..domain import reports as dom
from ..extensions import db
from ..models import Kelurahan, Measurement, Person, PersonTransfer, Posyandu, Puskesmas
from .reports import balita_filter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 2000

EPPGBM_BASE = ("No", "No. KK", "NIK", "Nama Anak", "Tanggal Lahir", "Jenis Kelamin", "Anak Ke-", "Berat Lahir (kg)",
               "Panjang Lahir (cm)", "NIK Ibu", "Nama Ibu", "NIK Ayah", "Nama Ayah", "Alamat", "RT", "RW",
               "Kelurahan/Desa", "Posyandu", "Puskesmas")
EPPGBM_GROWTH = ("No", "NIK", "Nama Anak", "Jenis Kelamin", "Tanggal Lahir", "Bulan", "Tanggal Pengukuran",
                 "Umur (bulan)", "Berat (kg)", "Tinggi/Panjang (cm)", "Lingkar Kepala (cm)", "LILA (cm)", "Cara Ukur",
                 "ZS BB/U", "BB/U", "ZS TB/U", "TB/U", "ZS BB/TB", "BB/TB", "N/T/O/B", "Posyandu", "Catatan")
CATEGORY_ID = {
    "sangat_kurang": "Berat badan sangat kurang", "kurang": "Berat badan kurang", "normal": "Normal",
    "risiko_lebih": "Risiko berat badan lebih", "sangat_pendek": "Sangat pendek", "pendek": "Pendek",
    "tinggi": "Tinggi", "gizi_buruk": "Gizi buruk", "gizi_kurang": "Gizi kurang", "gizi_baik": "Gizi baik",
    "berisiko_gizi_lebih": "Berisiko gizi lebih", "gizi_lebih": "Gizi lebih", "obesitas": "Obesitas",
}
POSITION_ID = {"l": "Terlentang", "h": "Berdiri"}


_NUMBER = re.compile(r"[-+]?[0-9]+([.,][0-9]+)?", re.ASCII)


def safe_cell(value):
    """A spreadsheet cell that cannot run as a formula (CSV injection): text starting with = + - @ gets a '.
    A number stays a number, negative ones too (a z-score of -1,20 is not a formula)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _stream(q: Select):
    return db.session.execute(q.execution_options(yield_per=BATCH))


# --- e-PPGBM --------------------------------------------------------------------------------------------------

def posyandu_at(last: date):
    """The Posyandu a person belonged to at a month's end: the one she moved away from in the first approved
    transfer (pindah) after that day, else her current one."""
    later = (select(PersonTransfer.from_posyandu_id)
             .where(PersonTransfer.person_id == Person.id, PersonTransfer.status == "approved",
                    PersonTransfer.moved_on > last)
             .order_by(PersonTransfer.moved_on, PersonTransfer.id).limit(1).scalar_subquery())
    return func.coalesce(later, Person.posyandu_id)


def _balita_of_month(pos: Select, last: date, at):
    """S of the month (age and roll as balita_filter), by the Posyandu the child belonged to that month."""
    return and_(at.in_(pos), balita_filter(select(Posyandu.id), last))


def eppgbm_xlsx(pos: Select, month: date, out) -> None:
    """Write the e-PPGBM workbook for the balita of the area (S at the month's end) and their measurements of the
    month into `out` (a path or a binary file; rows stream from the database in batches)."""
    last = dom.month_end(month)
    first = dom.month_start(month)
    mother = aliased(Person)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(ws, names):
        from openpyxl.cell import WriteOnlyCell

        row = []
        for n in names:
            c = WriteOnlyCell(ws, value=n)
            c.font = bold
            row.append(c)
        ws.append(row)

    at = posyandu_at(last)
    base = wb.create_sheet("Data Dasar")
    header(base, EPPGBM_BASE)
    q = (select(Person.kk_number, Person.nik, Person.name, Person.birth_date, Person.sex, Person.birth_order,
                Person.birth_weight_kg, Person.birth_length_cm, mother.nik, mother.name, Person.father_nik,
                Person.father_name, Person.address, Person.rt, Person.rw, Kelurahan.name, Posyandu.name,
                Puskesmas.name)
         .select_from(Person).join(Posyandu, Posyandu.id == at).join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id)
         .outerjoin(Puskesmas, Puskesmas.id == Kelurahan.puskesmas_id)
         .outerjoin(mother, mother.id == Person.mother_id)
         .where(_balita_of_month(pos, last, at)).order_by(Posyandu.name, Person.name, Person.id))
    for i, r in enumerate(_stream(q), 1):
        base.append([i] + [safe_cell(v) for v in r])

    gm = wb.create_sheet("Pertumbuhan")
    header(gm, EPPGBM_GROWTH)
    # One row per child of S: the month's last valid weighing (a flagged one only when there is no valid one),
    # under the Posyandu the child belonged to that month (posyandu_at), wherever the weighing took place.
    pick = func.row_number().over(partition_by=Measurement.person_id, order_by=(
        case((Measurement.flagged.is_(True), 1), else_=0), Measurement.measured_on.desc(), Measurement.id.desc()))
    kids = select(Person.id).where(_balita_of_month(pos, last, at))
    m = (select(Measurement, pick.label("pick"))
         .where(Measurement.person_id.in_(kids), Measurement.measured_on >= first, Measurement.measured_on <= last,
                Measurement.weight_kg.is_not(None)).subquery("m"))
    q = (select(Person.nik, Person.name, Person.sex, Person.birth_date, m.c.measured_on, m.c.age_days,
                m.c.weight_kg, m.c.length_cm, m.c.head_cm, m.c.muac_cm, m.c.position, m.c.waz, m.c.lhaz, m.c.whz,
                m.c.ntob, Posyandu.name, m.c.flagged)
         .select_from(m).join(Person, Person.id == m.c.person_id).join(Posyandu, Posyandu.id == at)
         .where(m.c.pick == 1, _balita_of_month(pos, last, at))
         .order_by(Posyandu.name, Person.name, Person.id))
    month_text = f"{month.year:04d}-{month.month:02d}"
    for i, r in enumerate(_stream(q), 1):
        (nik, name, sex, birth, on, age_days, w, length, head, muac, position, waz, lhaz, whz, code, pos_name,
         flagged) = r
        z = lambda v: None if v is None else round(v, 2)  # noqa: E731
        cat = lambda fn, v: CATEGORY_ID.get(fn(v), "") if v is not None else ""  # noqa: E731
        gm.append([i, safe_cell(nik), safe_cell(name), sex, birth, month_text, on,
                   None if age_days is None else rules.months_from_days(age_days), w, length, head, muac,
                   POSITION_ID.get(position or "", ""), z(waz), cat(growth.category_waz, waz), z(lhaz),
                   cat(growth.category_lhaz, lhaz), z(whz), cat(growth.category_whz, whz), code or "",
                   safe_cell(pos_name), "Nilai tidak wajar, dikonfirmasi kader" if flagged else ""])
    wb.save(out)


# --- the monthly report -------------------------------------------------------------------------------------

def monthly_report_xlsx(data: dict, posyandu: list[tuple[int, str, dom.Area]]) -> bytes:
    """The monthly report's tables, one sheet each, plus one row per Posyandu for a roll-up."""
    wb = Workbook()
    bold = Font(bold=True)
    first = True
    for key, title in data["sheets"]:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = title[:31]
        ws.append([data["title"]])
        ws["A1"].font = bold
        ws.append([data["subtitle"]])
        ws.append([])
        section = data[key]
        ws.append(list(section["header"]))
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in section["rows"]:
            ws.append([safe_cell(v) for v in row])
        ws.column_dimensions["A"].width = 38
    if len(posyandu) > 1:
        ws = wb.create_sheet("Per Posyandu")
        ws.append(list(data["per_posyandu_header"]))
        for cell in ws[1]:
            cell.font = bold
        for _, name, a in posyandu:
            t = a.total()
            ws.append([safe_cell(name), t.S, t.K, t.D, t.N, t.T, t.O, t.B, t.tidak_hadir, t.bgm, t.two_t, t.ks, t.ds,
                       t.dk, t.nd, t.stunting_pct, t.wasting_pct, t.underweight_pct])
        ws.column_dimensions["A"].width = 30
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- CSV of a list ------------------------------------------------------------------------------------------

def people_csv(q: Select, header: list[str], detail_text, names: dict[int, str]) -> "iter[str]":
    """CSV lines of a people list (all rows, streamed): No, name, NIK, sex, birth date, Posyandu, detail."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield "\ufeff" + buf.getvalue()  # a BOM so spreadsheet programs read UTF-8
    for i, (p, detail) in enumerate(_stream(q), 1):
        buf.seek(0)
        buf.truncate()
        # The detail is ours (a z-score such as -2,50, a code, a date), not typed by anyone: no formula guard.
        writer.writerow([i, safe_cell(p.name), safe_cell(p.nik or ""), p.sex, p.birth_date.isoformat(),
                         safe_cell(names.get(p.posyandu_id, "")), detail_text(detail)])
        yield buf.getvalue()
