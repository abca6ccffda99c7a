"""Benchmark: writing the district e-PPGBM workbook (the background job's work) — XlsxWriter vs openpyxl.

    .venv/bin/python bench/bench_eppgbm.py --sqlite PATH | --url postgresql://…  [--month 2026-11] [--compare]
                                           [--no-openpyxl]

Reads an existing seeded database (e.g. `flask seed-demo --children 150000 --months 24`; a SQLite file is copied
to a temporary directory first, a PostgreSQL database is only read). As the district's admin, for the month given
(default: last month) it
1. reads the two sheets' rows for the whole district from the live tables (the open-month path: no snapshots),
   into memory, and times that;
2. writes those same rows with openpyxl's write-only mode (the writer used before), XlsxWriter's constant-memory
   mode (both kept here for comparison) and the app's streaming writer (services/xlsx_stream.py), timing each
   (best of --repeat);
3. runs the app's whole export (`report_exports.eppgbm_xlsx`, queries and writing, as the job does);
4. with --compare, reads the workbooks back with openpyxl and checks every cell value is equal.
Target: writing ≤ 15 s for a district of 150 000 children.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 15.0


def _app(url: str):
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                       "JOBS_IMMEDIATE": True, "JOBS_DIR": tempfile.mkdtemp(prefix="bench-jobs-")})


def write_openpyxl(sheets, path, month: date) -> None:
    """The writer the export used before: openpyxl write-only, bold header cells, then fixed zip times."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from posyandu.services.report_exports import fix_properties, save_stable

    wb = Workbook(write_only=True)
    fix_properties(wb, month)
    bold = Font(bold=True)
    for title, names, rows in sheets:
        ws = wb.create_sheet(title)
        header = []
        for n in names:
            c = WriteOnlyCell(ws, value=n)
            c.font = bold
            header.append(c)
        ws.append(header)
        for i, row in enumerate(rows, 1):
            ws.append([i] + row)
    save_stable(wb, path)


def write_xlsxwriter(sheets, path, month: date) -> None:
    """XlsxWriter in constant-memory mode (rows to disk as they come), the same cells and formats."""
    import xlsxwriter

    with tempfile.TemporaryDirectory(prefix="xlsx-") as tmp:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": tmp, "strings_to_formulas": False,
                                             "strings_to_urls": False, "strings_to_numbers": False,
                                             "default_date_format": "yyyy-mm-dd"})
        wb.set_properties({"created": datetime(month.year, month.month, 1)})
        bold = wb.add_format({"bold": True})
        for title, names, rows in sheets:
            ws = wb.add_worksheet(title)
            ws.write_row(0, 0, names, bold)
            for i, row in enumerate(rows, 1):
                ws.write_number(i, 0, i)
                ws.write_row(i, 1, row)
        wb.close()


def _values(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sqlite", help="a seeded SQLite file (copied first)")
    ap.add_argument("--url", help="a seeded PostgreSQL database (read only)")
    ap.add_argument("--month", help="YYYY-MM")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--compare", action="store_true", help="check that both writers give the same cell values")
    ap.add_argument("--no-openpyxl", action="store_true", help="skip the (slow) openpyxl run")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-eppgbm-"))
    if args.sqlite:
        copy = tmp / "db.sqlite"
        t = time.perf_counter()
        src = __import__("sqlite3").connect(args.sqlite)
        dst = __import__("sqlite3").connect(copy)
        src.backup(dst)
        src.close()
        dst.close()
        print(f"copied {args.sqlite} in {time.perf_counter() - t:.1f} s")
        url = f"sqlite:///{copy}"
        backend = "SQLite"
    elif args.url:
        url, backend = args.url, "PostgreSQL"
    else:
        ap.error("--sqlite or --url")
    app = _app(url)
    with app.app_context():
        from sqlalchemy import func, select

        if args.sqlite:  # the copy is ours: bring it to this code's schema
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))

        from posyandu.domain import reports as dom
        from posyandu.extensions import db
        from posyandu.models import Person, User
        from posyandu.services import report_exports as rx
        from posyandu.services import reports as svc

        admin = db.session.scalar(select(User).where(User.role == "district_admin").order_by(User.id))
        if args.month:
            month = dom.parse_month(args.month, date.today())
        else:  # last month: a whole month of weighings (the current one has only today's)
            month = dom.month_start(dom.month_start(date.today()) - timedelta(days=1))
        pos = svc.area_posyandu(admin, "district", None)
        people = db.session.scalar(select(func.count()).select_from(Person))
        from posyandu.models import District

        district = db.session.scalar(select(District.name).where(District.id == admin.district_id))
        print(f"{backend}: {people} people; district {district}; month {month:%Y-%m}")

        t = time.perf_counter()
        base_q, growth_q = rx._eppgbm_queries(pos, month)
        base = [rx._base_row(r[1:]) for r in rx._stream(base_q)]
        growth = [rx._growth_row(r[1:], month) for r in rx._stream(growth_q)]
        read_s = time.perf_counter() - t
        db.session.rollback()
        cells = len(base) * (len(rx.EPPGBM_BASE)) + len(growth) * len(rx.EPPGBM_GROWTH)
        print(f"rows read: {len(base)} Data Dasar + {len(growth)} Pertumbuhan ({cells / 1e6:.2f} M cells) "
              f"in {read_s:.1f} s")

        def sheets():
            return [("Data Dasar", rx.EPPGBM_BASE, iter(base)), ("Pertumbuhan", rx.EPPGBM_GROWTH, iter(growth))]

        results = {}
        writers = [("XlsxWriter constant_memory", write_xlsxwriter, "x.xlsx"),
                   ("app's streaming writer", rx.write_xlsx, "s.xlsx")]
        if not args.no_openpyxl:
            writers.insert(0, ("openpyxl write-only", write_openpyxl, "o.xlsx"))
        for name, write, fname in writers:
            best = None
            for _ in range(args.repeat):
                t = time.perf_counter()
                write(sheets(), tmp / fname, month)
                s = time.perf_counter() - t
                best = s if best is None else min(best, s)
            results[name] = best
            size = (tmp / fname).stat().st_size / 1e6
            print(f"write {name:28s} {best:7.1f} s  {cells / best / 1e6:5.2f} M cells/s  {size:6.1f} MB")
        if "openpyxl write-only" in results:
            o = results["openpyxl write-only"]
            for name, s in results.items():
                print(f"{name} / openpyxl: {s / o:.2f} ({o / s:.1f}× as fast)")

        t = time.perf_counter()
        try:
            rx.eppgbm_xlsx(pos, month, tmp / "job.xlsx")
            whole = time.perf_counter() - t
            print(f"whole export as the job runs it (queries + streaming writer): {whole:.1f} s")
        except Exception as e:  # noqa: BLE001  (a read-only database of an older schema)
            print(f"whole export not run: {type(e).__name__} (database schema older than the code?)")
        db.session.rollback()
        scale = 150_000 / max(len(base), 1)
        xw = results["app's streaming writer"]
        print(f"writing at this scale {xw:.1f} s; target ≤ {TARGET_S:.0f} s at 150 000 children "
              f"(linear estimate from {len(base)} children: {xw * scale:.1f} s)")
        if args.compare:
            t = time.perf_counter()
            mine = _values(tmp / "s.xlsx")
            others = [n for n in ("o.xlsx", "x.xlsx") if (tmp / n).exists()]
            same = all(_values(tmp / n) == mine for n in others)
            print(f"cell values equal ({', '.join(others)} vs the app's): {same} "
                  f"({time.perf_counter() - t:.0f} s to read)")
            if not same:
                sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
