"""Report exports: the monthly report as XLSX, the e-PPGBM workbook (write-only, streamed from the database in
batches so a whole district fits in bounded memory), and CSV of any list. No Flask request here.

The e-PPGBM sheets use the national system's Indonesian headings and category names whatever the UI language:
they are read by import tools and operators, not by this app's users.
"""
import csv
import io
import re
import shutil
import tempfile
import threading
import zipfile
from contextlib import ExitStack
from datetime import date, datetime
from functools import partial

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from ..domain import growth, rules
from ..domain import reports as dom
from ..extensions import db
from ..models import Kelurahan, Measurement, Person, PersonTransfer, Posyandu, Puskesmas
from .reports import _REPORT_SETTINGS, REPORT_WORK_MEM, PeopleList, balita_filter, report_reading

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


def _stream_plain(q: Select):
    """The rows of a select of columns in batches, through the Core: plain rows, without the ORM's loading (a
    third of the time of reading a district's e-PPGBM rows)."""
    return db.session.connection().execute(q.execution_options(yield_per=BATCH))


class _Prefetch:
    """A select started now on a connection of its own, by a thread, up to its first batch of rows: the database
    server's work before the first row runs in its own process beside the Python that writes the sheet before.
    Iterating gives its rows (the rest streamed in batches as they are read). PostgreSQL only: its transaction is
    its own, and each statement of a READ COMMITTED read sees its own moment anyway. On SQLite (the work in this
    process, sqlite3 without the GIL) the district export at 140 000 children was slower with it than without
    (bench/RESULTS.md), and the second read would not share the job's snapshot."""

    def __init__(self, q: Select):
        self._conn = db.session.get_bind().connect()
        self._rows: list | None = None
        self._result = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(q,), name="eppgbm-prefetch", daemon=True)
        self._thread.start()

    @staticmethod
    def possible() -> bool:
        return db.session.get_bind().dialect.name == "postgresql"

    def _run(self, q: Select) -> None:
        try:
            self._conn.execute(_REPORT_SETTINGS, {"mem": REPORT_WORK_MEM})
            self._result = self._conn.execute(q.execution_options(yield_per=BATCH))
            self._rows = self._result.fetchmany(BATCH)
        except BaseException as e:  # noqa: BLE001  (raised where the rows are read)
            self._error = e

    def __iter__(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        yield from self._rows
        yield from self._result

    def close(self) -> None:
        self._thread.join()
        self._conn.close()  # rolls the read back, the connection goes back to the pool


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


def _eppgbm_queries(pos: Select, month: date) -> tuple[Select, Select]:
    """The two sheets' rows as selects: (Posyandu id, then the sheet's values from the database), ordered by
    Posyandu name and id, then child name and id. A child is listed under the Posyandu she belonged to that month
    (posyandu_at)."""
    last = dom.month_end(month)
    first = dom.month_start(month)
    mother = aliased(Person)
    # With no transfer after the month's end anywhere, everyone was where she is now: skip the per-person lookup.
    moved_later = db.session.scalar(select(PersonTransfer.id).where(
        PersonTransfer.status == "approved", PersonTransfer.moved_on > last).limit(1))
    at = posyandu_at(last) if moved_later is not None else Person.posyandu_id
    order = (Posyandu.name, Posyandu.id, Person.name, Person.id)
    base = (select(Posyandu.id, Person.kk_number, Person.nik, Person.name, Person.birth_date, Person.sex,
                   Person.birth_order, Person.birth_weight_kg, Person.birth_length_cm, mother.nik, mother.name,
                   Person.father_nik, Person.father_name, Person.address, Person.rt, Person.rw, Kelurahan.name,
                   Posyandu.name, Puskesmas.name)
            .select_from(Person).join(Posyandu, Posyandu.id == at)
            .join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id)
            .outerjoin(Puskesmas, Puskesmas.id == Kelurahan.puskesmas_id)
            .outerjoin(mother, mother.id == Person.mother_id)
            .where(_balita_of_month(pos, last, at)).order_by(*order))
    # One row per child of S: the month's last valid weighing (a flagged one only when there is no valid one),
    # under the Posyandu the child belonged to that month (posyandu_at), wherever the weighing took place.
    pick = func.row_number().over(partition_by=Measurement.person_id, order_by=(
        case((Measurement.flagged.is_(True), 1), else_=0), Measurement.measured_on.desc(), Measurement.id.desc()))
    kids = select(Person.id).where(_balita_of_month(pos, last, at))
    # Only the columns the sheet shows (the window's rows are materialised or sorted whole). The children are
    # those of S already (kids): the outer query joins them to their Posyandu without testing S again (the repeated
    # test made PostgreSQL expect one row and join every Posyandu to every weighing, 1,3 M rows at 20 000).
    m = (select(Measurement.person_id, Measurement.measured_on, Measurement.age_days, Measurement.weight_kg,
                Measurement.length_cm, Measurement.head_cm, Measurement.muac_cm, Measurement.position,
                Measurement.waz, Measurement.lhaz, Measurement.whz, Measurement.ntob, Measurement.flagged,
                pick.label("pick"))
         .where(Measurement.person_id.in_(kids), Measurement.measured_on >= first, Measurement.measured_on <= last,
                Measurement.weight_kg.is_not(None)).subquery("m"))
    growth_q = (select(Posyandu.id, Person.nik, Person.name, Person.sex, Person.birth_date, m.c.measured_on,
                       m.c.age_days, m.c.weight_kg, m.c.length_cm, m.c.head_cm, m.c.muac_cm, m.c.position, m.c.waz,
                       m.c.lhaz, m.c.whz, m.c.ntob, Posyandu.name, m.c.flagged)
                .select_from(m).join(Person, Person.id == m.c.person_id).join(Posyandu, Posyandu.id == at)
                .where(m.c.pick == 1).order_by(*order))
    return base, growth_q


# The values a sheet takes as they are: no text (safe_cell leaves them), and text that cannot start a formula.
_NOT_TEXT = frozenset((type(None), int, float, date, bool))
_FORMULA_START = frozenset(("=", "+", "-", "@", "\t", "\r"))


def _base_row(r) -> list:
    # safe_cell(v) for every value; called only where it may change something (~150 000 rows × 19 values)
    return [v if v.__class__ in _NOT_TEXT or v.__class__ is str and v[:1] not in _FORMULA_START else safe_cell(v)
            for v in r]


def _growth_row(r, month: date, bulan: str | None = None) -> list:
    """A Pertumbuhan row; `bulan` the month as the sheet writes it (computed once per sheet by the caller)."""
    (nik, name, sex, birth, on, age_days, w, length, head, muac, position, waz, lhaz, whz, code, pos_name,
     flagged) = r
    return [safe_cell(nik), safe_cell(name), sex, birth, bulan or f"{month.year:04d}-{month.month:02d}", on,
            None if age_days is None else rules.months_from_days(age_days), w, length, head, muac,
            POSITION_ID.get(position or "", ""),
            None if waz is None else round(waz, 2),
            "" if waz is None else CATEGORY_ID.get(growth.category_waz(waz), ""),
            None if lhaz is None else round(lhaz, 2),
            "" if lhaz is None else CATEGORY_ID.get(growth.category_lhaz(lhaz), ""),
            None if whz is None else round(whz, 2),
            "" if whz is None else CATEGORY_ID.get(growth.category_whz(whz), ""),
            code or "", safe_cell(pos_name), "Nilai tidak wajar, dikonfirmasi kader" if flagged else ""]


# Columns holding dates, per sheet (the snapshot keeps them as ISO text).
_DATE_COLUMNS = {"base": (3,), "growth": (3, 5)}


def _plain_row(row: list) -> list:
    return [v.isoformat() if isinstance(v, date) else v for v in row]


def _typed_row(row: list, sheet: str) -> list:
    row = list(row)
    for i in _DATE_COLUMNS[sheet]:
        if isinstance(row[i], str):
            row[i] = date.fromisoformat(row[i])
    return row


def eppgbm_by_posyandu(pos: Select, month: date) -> dict[int, dict[str, list]]:
    """The e-PPGBM rows of the month per Posyandu as the snapshot keeps them: {"base": rows, "growth": rows},
    each row the sheet's values without the running number, dates as ISO text (two queries)."""
    base_q, growth_q = _eppgbm_queries(pos, month)
    out: dict = {}
    for pid, *r in db.session.execute(base_q):
        out.setdefault(pid, {"base": [], "growth": []})["base"].append(_plain_row(_base_row(r)))
    for pid, *r in db.session.execute(growth_q):
        out.setdefault(pid, {"base": [], "growth": []})["growth"].append(_plain_row(_growth_row(r, month)))
    return out


def _sheet_rows(pos: Select, month: date, sheet: str, live_q: Select, frozen: dict, order: list[int],
                progress=None, offset: int = 0, total: int = 0):
    """A sheet's rows (without the running number): the approved Posyandu's from their snapshots, the others'
    streamed live, in the order of `order` (Posyandu by name and id)."""
    from . import month_snapshot

    to_row = _base_row if sheet == "base" else (lambda r: _growth_row(r, month))
    live = iter(db.session.execute(live_q).all()) if len(frozen) < len(order) else iter(())
    pending = next(live, None)
    for n, pid in enumerate(order, 1):
        if progress is not None:
            progress(offset + n, total)
        if pid in frozen:
            for row in month_snapshot.sheet_rows(frozen[pid], sheet):
                yield _typed_row(row, sheet)
            continue
        while pending is not None and pending[0] == pid:
            yield to_row(pending[1:])
            pending = next(live, None)


def eppgbm_sheets(pos: Select, month: date, progress=None,
                  closing: ExitStack | None = None) -> list[tuple[str, tuple, "iter[list]"]]:
    """The e-PPGBM workbook's sheets as (title, header, rows without the running number), the rows generated
    while the workbook is written. Rows of an approved Posyandu-month come from its snapshot; the others stream
    from the database in batches. `progress(done, total)` is told each Posyandu passed (two sheets each).
    With `closing` (where the caller closes what the sheets hold once written), on PostgreSQL the Pertumbuhan
    rows are prefetched beside the Data Dasar sheet (_Prefetch)."""
    from . import month_snapshot

    report_reading()  # PostgreSQL: the district's sort in memory (it spilled to disk), no JIT, no workers
    frozen = month_snapshot.present(month_snapshot.read(pos, month, "eppgbm"))
    all_ids = list(db.session.scalars(select(Posyandu.id).where(Posyandu.id.in_(pos))
                                      .order_by(Posyandu.name, Posyandu.id)))
    order = all_ids if frozen else []
    live_pos = select(Posyandu.id).where(Posyandu.id.in_(pos), Posyandu.id.not_in(list(frozen))) if frozen else pos
    base_q, growth_q = _eppgbm_queries(live_pos, month)
    total = 2 * len(all_ids)

    prefetched = None
    if not frozen and closing is not None and _Prefetch.possible():
        prefetched = _Prefetch(growth_q)
        closing.callback(prefetched.close)

    def rows(sheet: str, q: Select, offset: int):
        if frozen:
            yield from _sheet_rows(live_pos, month, sheet, q, frozen, order, progress, offset, total)
            return
        to_row = _base_row if sheet == "base" else partial(_growth_row, month=month,
                                                            bulan=f"{month.year:04d}-{month.month:02d}")
        seen, last = 0, None
        for row in (prefetched if sheet == "growth" and prefetched is not None else _stream_plain(q)):
            if row[0] != last and progress is not None:
                seen += 1
                last = row[0]
                progress(offset + seen, total)
            yield to_row(row[1:])
        if progress is not None:
            progress(offset + len(all_ids), total)

    return [("Data Dasar", EPPGBM_BASE, rows("base", base_q, 0)),
            ("Pertumbuhan", EPPGBM_GROWTH, rows("growth", growth_q, len(all_ids)))]


def eppgbm_xlsx(pos: Select, month: date, out, progress=None) -> None:
    """Write the e-PPGBM workbook for the balita of the area (S at the month's end) and their measurements of the
    month into `out` (a path or a binary file). The file's bytes depend only on its rows (fixed dates)."""
    with ExitStack() as closing:
        write_xlsx(eppgbm_sheets(pos, month, progress, closing), out, month)


def write_xlsx(sheets, out, month: date) -> None:
    """Sheets of (title, header, rows) as a workbook, streamed row by row (services.xlsx_stream: a district of
    150 000 children in bounded memory, several times faster than openpyxl or XlsxWriter, bench/bench_eppgbm.py).
    The workbook's date is the month's first day and the zip's entries carry a fixed time, so the same rows give
    the same bytes."""
    from .xlsx_stream import write_tables

    numbered = [(title, header, ([i] + row for i, row in enumerate(rows, 1))) for title, header, rows in sheets]
    write_tables(out, numbered, datetime(month.year, month.month, 1))


# --- fixed bytes ----------------------------------------------------------------------------------------------

def fix_properties(wb: Workbook, month: date) -> None:
    """The workbook's created/modified dates: the month's first day, not the time of the download."""
    stamp = datetime(month.year, month.month, 1)
    wb.properties.created = wb.properties.modified = stamp


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CREATED = re.compile(rb"<dcterms:created[^>]*>([^<]*)<")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(<)")


def _same_dates(core: bytes) -> bytes:
    """docProps/core.xml with "modified" equal to "created" (fix_properties set that one)."""
    created = _CREATED.search(core)
    if created is None:
        return core
    return _MODIFIED.sub(lambda m: m.group(1) + created.group(1) + m.group(2), core)


def save_stable(wb: Workbook, out) -> None:
    """Save a workbook with fixed zip entry times (openpyxl stamps each entry with the time of saving), so the
    same rows give the same bytes. `out` is a path or a binary file."""
    with tempfile.TemporaryFile() as raw:
        wb.save(raw)
        raw.seek(0)
        with zipfile.ZipFile(raw) as src:
            target = open(out, "wb") if isinstance(out, (str, bytes)) or hasattr(out, "__fspath__") else out
            try:
                with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
                    for info in src.infolist():
                        fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
                        fixed.compress_type = zipfile.ZIP_DEFLATED
                        fixed.external_attr = 0o600 << 16
                        if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" at saving
                            dst.writestr(fixed, _same_dates(src.read(info)))
                            continue
                        with src.open(info) as fin, dst.open(fixed, "w") as fout:
                            shutil.copyfileobj(fin, fout, 1 << 20)
            finally:
                if target is not out:
                    target.close()


# --- the monthly report -------------------------------------------------------------------------------------

def monthly_report_xlsx(data: dict, posyandu: list[tuple[int, str, dom.Area]], month: date | None = None) -> bytes:
    """The monthly report's tables, one sheet each, plus one row per Posyandu for a roll-up. The same figures
    give the same bytes (fixed dates)."""
    wb = Workbook()
    if month is not None:
        fix_properties(wb, month)
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
    save_stable(wb, out)
    return out.getvalue()


# --- CSV of a list ------------------------------------------------------------------------------------------

def people_csv(q: PeopleList, header: list[str], detail_text, names: dict[int, str]) -> "iter[str]":
    """CSV lines of a people list (all rows, streamed): No, name, NIK, sex, birth date, Posyandu, detail."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    yield "\ufeff" + buf.getvalue()  # a BOM so spreadsheet programs read UTF-8
    from .reports import counted_in

    for i, row in enumerate(q.rows(), 1):
        p, detail = row[0], row[1]
        buf.seek(0)
        buf.truncate()
        # The detail is ours (a z-score such as -2,50, a code, a date), not typed by anyone: no formula guard.
        # The Posyandu: for a closed month, the one the person was counted in, named as at approval.
        writer.writerow([i, safe_cell(p.name), safe_cell(p.nik or ""), p.sex, p.birth_date.isoformat(),
                         safe_cell(counted_in(row, names)), detail_text(detail)])
        yield buf.getvalue()
