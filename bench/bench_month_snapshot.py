"""Benchmark: the district report of a past, approved month read from the snapshots vs computed live.

    .venv/bin/python bench/bench_month_snapshot.py [--children 150000] [--months 24] [--backend sqlite|postgresql|both]
                                                   [--sqlite-path PATH] [--reuse] [--repeat 5] [--no-eppgbm]
    .venv/bin/python bench/bench_month_snapshot.py --database-url URL [--repeat 5] [--no-eppgbm]

Seeds the demo district (`seed_demo`, which closes and approves every past month with its snapshot and leaves the
current month open) into its own database — SQLite at --sqlite-path, PostgreSQL in the database
`posyandu_bench_snapshot` on the server of TEST_DATABASE_URL or DATABASE_URL (skipped when neither is set) — and
prints the seeding time, how many Posyandu-months were approved and the snapshots' size. With --database-url it
runs against an existing demo database instead (a copy: it is upgraded and written to), for one seeded at scale
WITHOUT closing its months: it closes them first (services.month_snapshot.build_many per month, as the seed does),
printing how long each month took district-wide. Then, as the demo district admin through the Flask test client
(in-process: the app's own time, queries + templates, no network), for last month: the district report page, its
PDF and XLSX, the trend, the list behind D and the e-PPGBM workbook from the snapshots; and the same page live (the
month's rows set to 'verified' for the measurement, then back to 'approved'). Target: the district report from the
snapshots in ≤ 0.2 s (median of the warm runs). With --reuse an existing seeded database is kept.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 0.2
PG_DATABASE = "posyandu_bench_snapshot"


def _app(url: str):
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                       "WTF_CSRF_ENABLED": False})


def _pg_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url or not url.startswith("postgres"):
        return None
    from sqlalchemy import create_engine, text

    from posyandu.config import normalise_database_url

    server = normalise_database_url(url)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}).scalar():
            conn.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + PG_DATABASE


def _close_existing(app, last_months: int | None = None) -> dict:
    """Close and approve the past months of the demo district of an existing database when none is (the 150 000
    database is seeded without); returns the seconds each month took."""
    import random

    from sqlalchemy import func, select

    from posyandu.extensions import db
    from posyandu.models import District, PosyanduMonth
    from posyandu.seed_months import close_past_months

    times = []
    with app.app_context():
        if not db.session.scalar(select(func.count()).select_from(PosyanduMonth)
                                 .where(PosyanduMonth.state == "approved")):
            district = db.session.scalar(select(District.id).where(District.name == "Kota Bontang"))

            def echo(line):
                times.append(float(line.split(" in ")[1].split(" s")[0]))
                print("  closing", line, flush=True)
            since = None
            if last_months:  # only the last N past months (all of them take long at 150 000 × 24)
                from posyandu.domain.reports import month_start, shift_month

                since = shift_month(month_start(date.today()), -last_months)
            t0 = time.perf_counter()
            made = close_past_months(district, date.today(), random.Random(7), echo=echo, since=since)
            print(f"closed {made['approved_months']} Posyandu-months in {time.perf_counter() - t0:.1f} s "
                  f"(median {statistics.median(times):.1f} s a month district-wide)", flush=True)
        db.session.remove()
    return {"close_s": times}


def _seed(app, children: int, months: int, reuse: bool) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from posyandu.extensions import db
    from posyandu.models import Person, PosyanduMonth
    from posyandu.seed import seed_demo

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if reuse and db.session.scalar(select(func.count()).select_from(Person)):
            made = {"seed_s": None}
        else:
            if db.session.scalar(select(func.count()).select_from(Person)):
                raise SystemExit("the database holds data: pass --reuse, or another --sqlite-path")
            t0 = time.perf_counter()
            made = seed_demo(children=children, months=months)
            made["seed_s"] = round(time.perf_counter() - t0, 1)
        made["people"] = db.session.scalar(select(func.count()).select_from(Person))
        made["approved"] = db.session.scalar(select(func.count()).select_from(PosyanduMonth)
                                             .where(PosyanduMonth.state == "approved"))
        made.update(_sizes())
        db.session.remove()
    return made


def _sizes() -> dict:
    """The stored snapshots' bytes: the figures (JSON) and the packed sections, in all and per approved month."""
    from sqlalchemy import Text, cast, func, select

    from posyandu.extensions import db
    from posyandu.models import PosyanduMonth, PosyanduMonthSection

    figures = db.session.scalar(select(func.sum(func.length(cast(PosyanduMonth.figures, Text))))) or 0
    sections = db.session.scalar(select(func.sum(func.length(PosyanduMonthSection.data)))) or 0
    months = db.session.scalar(select(func.count(func.distinct(PosyanduMonth.month)))
                               .where(PosyanduMonth.state == "approved")) or 1
    return {"snapshot_mb": round((figures + sections) / 1024 / 1024, 1), "figures_mb": round(figures / 2**20, 1),
            "sections_mb": round(sections / 2**20, 1), "per_month_mb": round((figures + sections) / months / 2**20, 2)}


def _timed(app, client, url: str, repeat: int) -> tuple[float, float, int, int]:
    times, size, status = [], 0, 0
    for _ in range(repeat):
        with app.app_context():
            t0 = time.perf_counter()
            resp = client.get(url)
            body = resp.get_data()
            times.append(time.perf_counter() - t0)
        size, status = len(body), resp.status_code
    rest = times[1:] or times
    return times[0], statistics.median(rest), size, status


def _timed_pdf_job(app, month: date, repeat: int) -> tuple[float, float, int, int]:
    """The district PDF as its background job renders it (a POST starts the job; the request thread never
    renders a district's PDF): the job's rendering function, as the demo district admin."""
    from flask_login import login_user
    from sqlalchemy import select

    from posyandu.blueprints.reports.routes import _area, _report_pdf
    from posyandu.extensions import db
    from posyandu.models import User

    times, size = [], 0
    for _ in range(repeat):
        with app.test_request_context(f"/laporan/kabupaten/laporan.pdf?bulan={month:%Y-%m}"):
            login_user(db.session.scalar(select(User).where(User.username == "admin")))
            t0 = time.perf_counter()
            size = len(_report_pdf(_area(), month))
            times.append(time.perf_counter() - t0)
            db.session.remove()
    return times[0], statistics.median(times[1:] or times), size, 200


def _set_state(app, month: date, state: str) -> None:
    from sqlalchemy import update

    from posyandu.extensions import db
    from posyandu.models import PosyanduMonth

    with app.app_context():
        db.session.execute(update(PosyanduMonth).where(PosyanduMonth.month == month).values(state=state))
        db.session.commit()
        db.session.remove()


def run(backend: str, url: str, args, existing: bool = False) -> dict:
    app = _app(url)
    if existing:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        _close_existing(app, args.close_last)
    made = _seed(app, args.children, args.months, args.reuse or existing)
    print(f"\n== {backend}: {made['people']} people; seeded in {made['seed_s']} s "
          f"({args.children} children × {args.months} months asked); {made['approved']} approved Posyandu-months, "
          f"snapshots {made['snapshot_mb']} MB (figures {made['figures_mb']} MB, sections {made['sections_mb']} MB; "
          f"{made['per_month_mb']} MB per district-month)", flush=True)
    today = date.today()
    month = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    arg = f"{month:%Y-%m}"
    client = app.test_client()
    with app.app_context():
        resp = client.post("/masuk", data={"username": "admin", "password": "posyandu-demo"})
        assert resp.status_code == 303, resp.status_code
    out = {}
    pages = [("district report (snapshot)", f"/laporan/kabupaten?bulan={arg}"),
             ("district report PDF (snapshot)", f"/laporan/kabupaten/laporan.pdf?bulan={arg}"),
             ("district report XLSX (snapshot)", f"/laporan/kabupaten/laporan.xlsx?bulan={arg}"),
             ("district trend SVG (12 months)", f"/laporan/kabupaten/tren.svg?bulan={arg}"),
             ("district list D, page 1 (snapshot)", f"/laporan/kabupaten/daftar/D?bulan={arg}")]
    for name, path in pages:
        cold, warm, size, status = _timed(app, client, path, args.repeat)
        if status == 405 and path.endswith(".pdf?bulan=" + arg):  # a district PDF is a background job now
            name = "district report PDF (snapshot, job)"
            cold, warm, size, status = _timed_pdf_job(app, month, args.repeat)
        out[name] = warm
        print(f"{name:38s} {status}  cold {cold:6.3f} s  median {warm:6.3f} s  {size / 1024:7.1f} KB", flush=True)
    if not args.no_eppgbm:
        cold, warm, size, status = _timed(app, client, f"/laporan/kabupaten/eppgbm.xlsx?bulan={arg}", 2)
        print(f"{'district e-PPGBM XLSX (snapshot)':38s} {status}  cold {cold:6.3f} s  median {warm:6.3f} s  "
              f"{size / 1024 / 1024:6.1f} MB", flush=True)
    _set_state(app, month, "verified")  # the same month, not approved: every number live
    try:
        cold, warm, size, status = _timed(app, client, f"/laporan/kabupaten?bulan={arg}", args.repeat)
        out["district report (live)"] = warm
        print(f"{'district report (live)':38s} {status}  cold {cold:6.3f} s  median {warm:6.3f} s  "
              f"{size / 1024:7.1f} KB", flush=True)
    finally:
        _set_state(app, month, "approved")
    snap = out["district report (snapshot)"]
    print(f"district report from the snapshots ≤ {TARGET_S} s: {'yes' if snap <= TARGET_S else 'NO'} "
          f"({snap:.3f} s; live {out['district report (live)']:.3f} s)", flush=True)
    with app.app_context():
        from posyandu.extensions import db

        db.engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--children", type=int, default=150_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--sqlite-path", default="/tmp/posyandu-bench-snapshot.sqlite")
    ap.add_argument("--reuse", action="store_true", help="keep an existing seeded database")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-eppgbm", action="store_true", help="skip the e-PPGBM workbook (minutes at 150 000)")
    ap.add_argument("--database-url", help="an existing demo database (a copy: it is upgraded, its past months "
                                           "closed when none is)")
    ap.add_argument("--close-last", type=int, help="with --database-url: close only the last N past months")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}", flush=True)
    if args.database_url:
        run(args.database_url.split(":", 1)[0].split("+", 1)[0], args.database_url, args, existing=True)
        print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
        return
    if args.backend in ("sqlite", "both"):
        run("sqlite", f"sqlite:///{args.sqlite_path}", args)
    if args.backend in ("postgresql", "both"):
        url = _pg_url()
        if url is None:
            print("\nPostgreSQL: skipped (set TEST_DATABASE_URL or DATABASE_URL)")
        else:
            run("postgresql", url, args)


if __name__ == "__main__":
    main()
