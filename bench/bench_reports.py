"""Benchmark: the district monthly report at demo scale (150 000 children, 24 months) on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_reports.py [--backend sqlite|postgresql|both] [--sqlite-path PATH]
                                            [--pg-database NAME] [--repeat 5]

Reuses the databases bench/bench_session_day.py seeds (/tmp/posyandu-bench.sqlite and `posyandu_bench` on
127.0.0.1); it checks their row counts, upgrades them to the current migration head (additive: new tables and the
measurement date index), and never seeds. Pages are rendered in-process through the Flask test client as the demo
district admin, so the times are the app's own (queries + templates), without network. Prints per page: the
first (cold) and median of the rest, and the compressed size.
"""
import argparse
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
BUDGET_S = 2.0


def _app(url: str):
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False})


def _check_and_upgrade(app) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from posyandu.extensions import db

    with app.app_context():
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("person", "measurement", "hari_buka", "duty", "posyandu")}
        span = db.session.execute(text("SELECT min(measured_on), max(measured_on) FROM measurement")).one()
        db.session.remove()
        t0 = time.perf_counter()
        upgrade(directory=str(ROOT / "migrations"))
        counts["upgrade_s"] = round(time.perf_counter() - t0, 1)
        counts["span"] = (str(span[0]), str(span[1]))
        db.session.remove()
    if counts["person"] < 150_000 or counts["measurement"] < 1_000_000:
        raise SystemExit(f"the bench database is not seeded at demo scale: {counts}; run bench_session_day.py first")
    return counts


def _timed(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    times, size, status = [], 0, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        resp = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        body = resp.get_data()
        times.append(time.perf_counter() - t0)
        size, status = len(body), resp.status_code
    rest = times[1:] or times
    return times[0], statistics.median(rest), size, status


def run(backend: str, url: str, repeat: int) -> list[tuple]:
    app = _app(url)
    counts = _check_and_upgrade(app)
    print(f"\n== {backend}: {counts['person']} people, {counts['measurement']} measurements "
          f"({counts['span'][0]} … {counts['span'][1]}), {counts['posyandu']} Posyandu; "
          f"upgrade to head {counts['upgrade_s']} s", flush=True)
    today = date.today()
    last_month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    month = f"{last_month.year:04d}-{last_month.month:02d}"
    client = app.test_client()
    with app.app_context():
        resp = client.post("/masuk", data={"username": "admin", "password": "posyandu-demo"})
        assert resp.status_code == 303, resp.status_code
        from sqlalchemy import select

        from posyandu.extensions import db
        from posyandu.models import Kecamatan, Kelurahan, Posyandu

        kec = db.session.scalar(select(Kecamatan.id).order_by(Kecamatan.id).limit(1))
        kel = db.session.scalar(select(Kelurahan.id).where(Kelurahan.name == "Api-Api"))
        pos = db.session.scalar(select(Posyandu.id).where(Posyandu.kelurahan_id == kel).limit(1))
        db.session.remove()
    pages = [
        ("district monthly report", f"/laporan/kabupaten?bulan={month}"),
        ("district report, this month", "/laporan/kabupaten"),
        ("district trend SVG (12 months)", f"/laporan/kabupaten/tren.svg?bulan={month}"),
        ("district list D, page 1", f"/laporan/kabupaten/daftar/D?bulan={month}"),
        ("district list at risk, page 1", f"/laporan/kabupaten/daftar/at_risk?bulan={month}"),
        ("kecamatan report", f"/laporan/kecamatan/{kec}?bulan={month}"),
        ("kelurahan report", f"/laporan/kelurahan/{kel}?bulan={month}"),
        ("Posyandu report", f"/laporan/posyandu/{pos}?bulan={month}"),
        ("Posyandu report PDF", f"/laporan/posyandu/{pos}/laporan.pdf?bulan={month}"),
        ("district report XLSX", f"/laporan/kabupaten/laporan.xlsx?bulan={month}"),
    ]
    out = []
    for name, path in pages:
        with app.app_context():
            cold, warm, size, status = _timed(client, path, repeat)
        out.append((backend, name, cold, warm, size, status))
        flag = "" if warm < BUDGET_S or "district monthly" not in name else "  OVER BUDGET"
        print(f"{name:34s} {status}  cold {cold:6.3f} s  median {warm:6.3f} s  {size / 1024:7.1f} KB{flag}", flush=True)
    # the e-PPGBM export of the whole district: time, and how much the process's peak RSS grew (write-only
    # workbook, rows streamed in batches; the response body itself is read into memory here by the test client)
    with app.app_context():
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        resp = client.get(f"/laporan/kabupaten/eppgbm.xlsx?bulan={month}")
        body = resp.get_data()
        took = time.perf_counter() - t0
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(f"{'district e-PPGBM XLSX':34s} {resp.status_code}  once {took:6.2f} s  {len(body) / 1024 / 1024:6.1f} MB, "
          f"peak RSS grew {grew / 1024:.0f} MB", flush=True)
    out.append((backend, "district e-PPGBM XLSX", took, took, len(body), resp.status_code))
    with app.app_context():
        from posyandu.extensions import db

        db.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--sqlite-path", default="/tmp/posyandu-bench.sqlite")
    ap.add_argument("--pg-database", default="posyandu_bench")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rows = []
    if args.backend in ("sqlite", "both"):
        rows += run("sqlite", f"sqlite:///{args.sqlite_path}", args.repeat)
    if args.backend in ("postgresql", "both"):
        rows += run("postgresql", f"{PG_SERVER}/{args.pg_database}", args.repeat)
    over = [r for r in rows if r[1] == "district monthly report" and r[3] >= BUDGET_S]
    print("\ndistrict monthly report under 2 s on every backend:", "yes" if not over else f"NO {over}")


if __name__ == "__main__":
    main()
