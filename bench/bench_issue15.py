"""Benchmark, one command: every row of issue 15's table before and after, as ratios, on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_issue15.py [--before-rev b7795fa] [--backend sqlite|postgresql|both]
        [--sqlite-source /tmp/bench150k/open.sqlite] [--pg-source posyandu_bench150k] [--work /tmp/bench-issue15]
        [--seconds 5] [--rounds 3] [--repeat 3] [--skip pages,open,eppgbm] [--out FILE]

Rows and how each is measured (the other benches do the work; this script runs them and prints one table):
- `/healthz`, people list, person card, meja 1–5, queue poll unchanged: `bench_pages.py` (wrk, 8 connections,
  each page paired with a bare WSGI app on the same waitress; req/s as a share of the bare app's, p99). The before
  revision is served against the same migrated copy as this tree; this tree twice: as it runs (an unchanged page
  answered again, posyandu.unchanged_pages) and with UNCHANGED_PAGES=0 (every page rendered, as the first
  request after a change is).
- district report (last month and this month), every list behind a district number, admin home page:
  `bench_open_month.py` (in-process test client as the district admin, median of warm requests, and the app
  process's CPU time; the "before" copy is brought down to the before code's schema with this tree's
  migrations, the "after" copy upgraded to head).
- the district e-PPGBM workbook: before, the GET that wrote it in the request thread (timed as the request);
  after, the POST that queues the background job (timed as the request: what a request thread spends), the
  job's own run in the queue's worker thread (started here as `flask serve` starts it; the table names the
  thread) and the time from the click to the file (including the idle consumer's polling), on the same copies.

Ratios are before ÷ after for times (× faster) and after ÷ before for the pages' shares of the bare app. The
sources are only read (copied first: see the two benches). Prints the load average at the start and the end.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_open_month as om  # noqa: E402
import bench_pages as bp  # noqa: E402

PAGES = ("healthz", "list", "card", "meja1", "meja2", "meja3", "meja4", "meja5", "poll_same")  # the goal's pages
BUDGET = {"report": 0.5, "list": 0.3, "home": 0.05}
EPPGBM_PATH = "/laporan/kabupaten/eppgbm.xlsx?bulan={month}"


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def _last_month() -> str:
    first = date.today().replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


# --- e-PPGBM: one worker process per (code, copy) -------------------------------------------------------------

def eppgbm_worker(code: str, url: str, mode: str) -> None:
    """Time the district workbook as this code serves it: `request` (before: the GET writes it) or `job` (after:
    the POST queues it, a consumer thread in this process writes it)."""
    sys.path.insert(0, code)
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    jobs_dir = tempfile.mkdtemp(prefix="bench-issue15-jobs-")
    config = {"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
              "WTF_CSRF_ENABLED": False, "JOBS_DIR": os.path.join(jobs_dir, "files")}
    app = create_app(config)
    client = app.test_client()
    with app.app_context():
        resp = client.post("/masuk", data={"username": "admin", "password": "posyandu-demo"})
        assert resp.status_code == 303, resp.status_code
    path = EPPGBM_PATH.format(month=_last_month())
    if mode == "request":
        with app.app_context():
            t0 = time.perf_counter()
            resp = client.get(path)
            size = len(resp.get_data())
            request_s = time.perf_counter() - t0
        print(json.dumps({"request": request_s, "total": request_s, "status": resp.status_code, "size": size,
                          "thread": "request"}))
        return
    from posyandu import jobs
    from posyandu.extensions import db
    from posyandu.models import Job

    ran_in = {}
    inner = jobs.RUNNERS["eppgbm"]

    def watched(params, out, progress):
        ran_in["thread"] = threading.current_thread().name
        ran_in["main"] = threading.current_thread() is threading.main_thread()
        return inner(params, out, progress)

    jobs.RUNNERS["eppgbm"] = watched
    jobs.start_consumer(app, workers=1)  # as `flask serve` does; an idle consumer polls the queue with backoff
    with app.app_context():
        t0 = time.perf_counter()
        resp = client.post(path)
        request_s = time.perf_counter() - t0
        assert resp.status_code == 303, resp.status_code
        token = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    status = "queued"
    while status in ("queued", "running"):
        time.sleep(0.2)
        with app.app_context():
            job = db.session.query(Job).filter_by(token=token).one()
            status, size = job.status, job.done
            db.session.rollback()
    total_s = time.perf_counter() - t0
    with app.app_context():
        page = client.get(f"/tugas/{token}")
        job = db.session.query(Job).filter_by(token=token).one()
        from posyandu.services import jobs as job_files

        fpath = job_files.file_path(job)
        size = fpath.stat().st_size if fpath.exists() else 0
        run_s = (job.finished_at - job.started_at).total_seconds()
    print(json.dumps({"request": request_s, "total": total_s, "run": run_s, "status": page.status_code,
                      "job": status, "size": size, "thread": ran_in.get("thread"), "main": ran_in.get("main")}))
    os._exit(0)  # the consumer's daemon threads end with the process


def _run_eppgbm(code: Path, url: str, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--eppgbm-worker", str(code), url, mode],
                         capture_output=True, text=True, cwd=str(code))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        raise SystemExit(f"e-PPGBM worker failed ({code}, {url}, {mode}): {out.stderr[-3000:]}")
    return json.loads(lines[-1])


# --- the "before" copy at the before code's schema ---------------------------------------------------------------

def _head_of(code: Path) -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(code / "migrations"))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


def _version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return version


def downgrade_before(url: str, before_code: Path) -> str:
    """Bring the "before" copy down to the before code's own schema with this tree's migrations (a source seeded
    by newer code has indexes and tables the before code never had: with them its figures would not be its own)."""
    head = _head_of(before_code)
    if _version(url) == head:
        return f"before copy at {head}"
    t0 = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "downgrade", head], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    return f"before copy downgraded to {head} in {time.perf_counter() - t0:.0f} s"


# --- the rows ------------------------------------------------------------------------------------------------

def page_rows(backend: str, args, before_rev: str) -> list[dict]:
    """The everyday pages through bench_pages (its copy and work directory of our own, so a run of bench_pages
    by someone else does not collide with this one)."""
    bp.WORK = Path(args.work) / "pages"
    bp.WORK.mkdir(parents=True, exist_ok=True)
    captured = {}
    table = bp.table

    def keep(backend_, revs, a, res, sizes, info, loads, load):
        captured.update(res=res, info=info, loads=loads, wrk=load is bp.run_wrk)
        return table(backend_, revs, a, res, sizes, info, loads, load)

    bp.table = keep
    pargs = Namespace(sqlite_source=args.sqlite_source, pg_source=args.pg_source,
                      pg_copy=f"{args.pg_source}_issue15_pages", reuse=args.keep, seconds=args.seconds,
                      rounds=args.rounds, connections=8, threads=8, pages=list(PAGES), python_load=False)
    try:
        bp.bench_backend(backend, [("before", before_rev), ("rendered", ".+rendered"), ("after", ".")], pargs)
    finally:
        bp.table = table
    res = captured["res"]
    rows = []
    for page in PAGES:
        rows.append({"backend": backend, "row": bp.TITLES[page], "kind": "page",
                     **{name: {k: bp._med(res[page, name], k) for k in ("rps", "ratio", "p99", "cpu")}
                        for name in ("before", "rendered", "after")}})
    return rows


def open_rows(backend: str, args, before_code: Path, urls: tuple[str, str]) -> list[dict]:
    rows = om.run(backend, before_code, urls[0], urls[1], args.repeat)
    return [{"backend": backend, "row": r["page"], "kind": r["kind"], "before": r["before"], "after": r["after"]}
            for r in rows]


def eppgbm_row(backend: str, before_code: Path, urls: tuple[str, str]) -> dict:
    b = _run_eppgbm(before_code, urls[0], "request")
    print(f"{backend:10s} e-PPGBM before: {b['request']:.1f} s in the request thread [{b['status']}, "
          f"{b['size'] / 1e6:.1f} MB]", flush=True)
    a = _run_eppgbm(ROOT, urls[1], "job")
    print(f"{backend:10s} e-PPGBM after: POST answered in {a['request'] * 1000:.0f} ms, job {a['job']}: ran "
          f"{a['run']:.1f} s in thread {a['thread']} (main thread: {a['main']}), {a['total']:.1f} s from click to "
          f"file [{a['size'] / 1e6:.1f} MB]", flush=True)
    return {"backend": backend, "row": "district e-PPGBM workbook", "kind": "eppgbm", "before": b, "after": a}


# --- the table -----------------------------------------------------------------------------------------------

def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _cells(r: dict) -> tuple[str, str, str]:
    b, a = r["before"], r["after"]
    if r["kind"] == "page":
        page = lambda x: f"{x['rps']:.0f} req/s ({100 * x['ratio']:.1f} %), p99 {_s(x['p99'] / 1000)}"  # noqa: E731
        rendered = r["rendered"]
        return (page(b), f"{page(a)}; every page rendered (UNCHANGED_PAGES=0): {page(rendered)}",
                f"×{a['ratio'] / b['ratio']:.1f} share of bare; p99 ÷{b['p99'] / a['p99']:.1f}; rendered "
                f"×{rendered['ratio'] / b['ratio']:.1f}")
    if r["kind"] == "eppgbm":
        http = "" if b["status"] == 200 else f" HTTP {b['status']}"
        return (f"{_s(b['request'])} in a request thread{http}",
                f"request {_s(a['request'])}; job ran {_s(a['run'])} in `{a['thread']}`"
                + (" (NOT off the main thread)" if a.get("main") else "")
                + f", click to file {_s(a['total'])}" + ("" if a["job"] == "done" else f" job {a['job']}"),
                f"request ÷{b['request'] / a['request']:.0f}; work ÷{b['request'] / a['run']:.1f}")
    ok = "ok" if a["median"] <= BUDGET[r["kind"]] else "over"
    http = lambda x: "" if x["status"] == 200 else f" HTTP {x['status']}"  # noqa: E731
    # kept figures (services.changes): the first request of a process, and a request after 4 Posyandu changed
    kept = (f"; cold {_s(a['cold'])}, after {om.CHANGED} Posyandu changed {_s(a['changed'])}"
            if a.get("changed") is not None else "")
    return (f"{_s(b['median'])} (CPU {_s(b['cpu'])}){http(b)}",
            f"{_s(a['median'])} (CPU {_s(a['cpu'])}){http(a)}{kept}",
            f"÷{b['median'] / a['median']:.1f} ({ok} ≤ {_s(BUDGET[r['kind']])})")


def table(rows: list[dict], before_rev: str, after: str, loads: list[str]) -> str:
    backends = sorted({r["backend"] for r in rows}, key=["sqlite", "postgresql"].index)
    lines = [f"### bench_issue15 — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; before `{before_rev}`, "
             f"after `{after}`; load average {loads[0]} at the start, {loads[-1]} at the end (2 cores)", ""]
    for backend in backends:
        lines += [f"**{backend}**", "", "| row | before | after | ratio |", "|---|---|---|---|"]
        for r in rows:
            if r["backend"] == backend:
                lines.append(f"| {r['row']} | " + " | ".join(_cells(r)) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--eppgbm-worker":
        eppgbm_worker(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-rev", default="b7795fa")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--sqlite-source", default="/tmp/bench150k/open.sqlite")
    ap.add_argument("--pg-source", default="posyandu_bench150k")
    ap.add_argument("--work", default="/tmp/bench-issue15")
    ap.add_argument("--seconds", type=float, default=5, help="wrk seconds per page and revision")
    ap.add_argument("--rounds", type=int, default=3, help="bench_pages rounds")
    ap.add_argument("--repeat", type=int, default=3, help="warm requests per report page")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out: pages, open, eppgbm")
    ap.add_argument("--keep", action="store_true", help="reuse the copies of an earlier run")
    ap.add_argument("--out", help="also append the table to this file")
    args = ap.parse_args()
    skip = {s for s in args.skip.split(",") if s}
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    after = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    after += " + changes" if dirty else ""
    loads = [_load()]
    print(f"before {args.before_rev}, after {after}; load average {loads[0]}", flush=True)
    before_code = om._before_tree(args.before_rev, work)
    rows: list[dict] = []
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        if "pages" not in skip:
            rows += page_rows(backend, args, args.before_rev)
        if not {"open", "eppgbm"} <= skip:
            if backend == "sqlite":
                b, a, note = om._sqlite_copies(args.sqlite_source, work, args.keep)
            else:
                b, a, note = om._pg_copies(args.pg_source, args.keep)
            note += "; " + downgrade_before(b, before_code)
            print(f"{backend}: {note}", flush=True)
            if "open" not in skip:
                rows += open_rows(backend, args, before_code, (b, a))
            if "eppgbm" not in skip:
                rows.append(eppgbm_row(backend, before_code, (b, a)))
    loads.append(_load())
    text = table(rows, args.before_rev, after, loads)
    print("\n" + text)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
