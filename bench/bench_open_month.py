"""Benchmark, before and after in one run: the district report of an OPEN month (computed live), the lists behind
its numbers and the district admin's home page, at demo scale (150 000 children × 24 months, no month closed), on
SQLite and PostgreSQL (issue 15: report ≤ 0,5 s, any list ≤ 0,3 s, home ≤ 50 ms).

    .venv/bin/python bench/bench_open_month.py --before-rev b7795fa [--backend sqlite|postgresql|both]
        [--sqlite-path /tmp/bench150k/open.sqlite] [--pg-database posyandu_bench150k] [--work /tmp/bench-open]
        [--repeat 5] [--keep]

The source databases are only read: the script copies each twice (SQLite: the backup API; PostgreSQL:
createdb -T, which needs nobody connected to the source), leaves the "before" copy at its schema and upgrades the
"after" copy to this tree's migration head (then ANALYZE). The "before" code is `git archive` of --before-rev.
Each (code, copy) pair runs in its own process through the Flask test client logged in as the demo district
admin, so both see the same data and the same machine load; pages alternate before/after round by round.
Before the SQLite workers run, both copies are read once into the OS page cache (see _into_cache), so "cold" is
a new process's first request (nothing kept in memory yet), not a disk read. Prints per page the first (cold)
time and the median of the rest, before and after, and the load average; for code that keeps figures and lists
per Posyandu (services.changes), also the median of a view after 4 Posyandu had a commit since the view before
(a session day's share of a district's 80).
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
BUDGET = {"report": 0.5, "list": 0.3, "home": 0.05}


def _last_month() -> str:
    today = date.today()
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{y:04d}-{m:02d}"


PAGES = [  # (budget kind, name, path)
    ("report", "district report, last month", "/laporan/kabupaten?bulan={month}"),
    ("report", "district report, this month", "/laporan/kabupaten"),
    ("list", "list S (balita), page 1", "/laporan/kabupaten/daftar/S?bulan={month}"),
    ("list", "list D (weighed), page 1", "/laporan/kabupaten/daftar/D?bulan={month}"),
    ("list", "list stunted, page 1", "/laporan/kabupaten/daftar/stunted?bulan={month}"),
    ("list", "list at risk, page 1", "/laporan/kabupaten/daftar/at_risk?bulan={month}"),
    ("list", "list ibu hamil, page 1", "/laporan/kabupaten/daftar/ibu_hamil?bulan={month}"),
    ("list", "list ILP visits balita, page 1", "/laporan/kabupaten/daftar/ilp-vis-balita?bulan={month}"),
    ("home", "admin home page", "/"),
]


# --- the worker: one code tree on one database copy ----------------------------------------------------------

def worker(code: str, url: str, page: int, repeat: int) -> None:
    sys.path.insert(0, code)
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    with app.app_context():
        resp = client.post("/masuk", data={"username": "admin", "password": "posyandu-demo"})
        assert resp.status_code == 303, resp.status_code
    _kind, _name, path = PAGES[page]
    path = path.format(month=_last_month())
    times, cpu, size, status = [], [], 0, 0
    for _ in range(repeat + (10 if PAGES[page][0] == "home" else 0)):
        with app.app_context():
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(path)
            body = resp.get_data()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        size, status = len(body), resp.status_code
    # CPU time of this process: on SQLite all of the work (the database runs in-process), so it shows the cost
    # apart from the machine's load; on PostgreSQL only the app's share.
    out = {"cold": times[0], "median": statistics.median(times[1:]), "cpu": statistics.median(cpu[1:]),
           "status": status, "size": size}
    out["changed"] = _after_changes(app, client, path, repeat)
    print(json.dumps(out))


CHANGED = 4  # Posyandu whose records change between two views: 80 hold their hari buka on days 5–25, ~4 a day


def _after_changes(app, client, path: str, repeat: int) -> float | None:
    """Code that keeps figures per Posyandu under change tokens (services.changes): the median time of a view
    after CHANGED Posyandu had a commit since the view before (their tokens renewed, as a kader's save does), so
    their figures are computed again and the others' are kept. None for code without the tokens."""
    import random

    try:
        from posyandu.extensions import db
        from posyandu.models import Posyandu
        from posyandu.services import changes
    except ImportError:
        return None
    rng = random.Random(15)
    times = []
    for _ in range(repeat):
        with app.app_context():
            ids = rng.sample(sorted(db.session.scalars(db.select(Posyandu.id))), CHANGED)
            changes.renew(db.session, ids)
            db.session.commit()
        with app.app_context():
            t0 = time.perf_counter()
            client.get(path).get_data()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _run_worker(code: Path, url: str, page: int, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", str(code), url, str(page), str(repeat)],
                         capture_output=True, text=True, cwd=str(code))
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        raise SystemExit(f"worker failed ({code}, {url}): {out.stderr[-2000:]}")
    return json.loads(lines[-1])


# --- preparing the copies ------------------------------------------------------------------------------------

def _before_tree(rev: str, work: Path) -> Path:
    tree = work / f"code-{rev}"
    if not (tree / "posyandu").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        subprocess.run([str(Path(sys.executable).parent / "pybabel"), "compile", "--use-fuzzy", "-d",
                        str(tree / "posyandu" / "translations")], capture_output=True, check=True)
    return tree


def _upgrade(url: str) -> float:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from posyandu import create_app; "
            "from posyandu.config import normalise_database_url; from flask_migrate import upgrade; "
            "from posyandu.database import analyze; from posyandu.extensions import db; "
            f"app = create_app({{'SQLALCHEMY_DATABASE_URI': normalise_database_url({url!r}), 'SECRET_KEY': 'x'}}); "
            "ctx = app.app_context(); ctx.push(); "
            f"upgrade(directory={str(ROOT / 'migrations')!r}); analyze(db.engine)")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=str(ROOT))
    return time.perf_counter() - t0


def _sqlite_copies(src: str, work: Path, keep: bool) -> tuple[str, str, str]:
    note = []
    paths = {}
    for which in ("before", "after"):
        dst = work / f"open-{which}.sqlite"
        if not (keep and dst.exists()):
            for suffix in ("", "-wal", "-shm"):
                Path(str(dst) + suffix).unlink(missing_ok=True)
            t0 = time.perf_counter()
            source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
            target = sqlite3.connect(str(dst))
            source.backup(target)
            target.close()
            source.close()
            note.append(f"copied {which} in {time.perf_counter() - t0:.0f} s")
        paths[which] = f"sqlite:///{dst}"
    note.append(f"after upgraded to head in {_upgrade(paths['after']):.0f} s")
    return paths["before"], paths["after"], "; ".join(note)


def _pg_copies(src: str, keep: bool) -> tuple[str, str, str]:
    note = []
    names = {"before": f"{src}_r15_before", "after": f"{src}_r15_after"}
    existing = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select datname from pg_database"],
                              capture_output=True, text=True, check=True).stdout.split()
    for which, name in names.items():
        if keep and name in existing:
            continue
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
        t0 = time.perf_counter()
        for attempt in range(60):  # CREATE … TEMPLATE needs the source without other connections for a moment
            made = subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", src, name],
                                  capture_output=True, text=True)
            if made.returncode == 0:
                break
            if attempt == 0:
                print(f"[postgresql] waiting for {src} to be free: {made.stderr.strip()}", flush=True)
            time.sleep(5)
        else:
            raise SystemExit(f"could not copy {src}: {made.stderr.strip()}")
        note.append(f"copied {which} in {time.perf_counter() - t0:.0f} s")
    url_after = f"{PG_SERVER}/{names['after']}"
    note.append(f"after upgraded to head in {_upgrade(url_after):.0f} s")
    if any(n.startswith("copied") for n in note):
        # A freshly seeded table has no visibility map yet (autovacuum comes later): vacuum both copies alike, as
        # a running server's autovacuum would have, so index-only scans are possible on either.
        t0 = time.perf_counter()
        for name in names.values():
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", name, "-qc", "VACUUM (ANALYZE)"],
                           check=True)
        note.append(f"both vacuumed and analysed in {time.perf_counter() - t0:.0f} s")
    return f"{PG_SERVER}/{names['before']}", url_after, "; ".join(note)


# --- the run -------------------------------------------------------------------------------------------------

def _into_cache(url: str) -> float:
    """Read a SQLite copy's files once, start to end, so they stand in the OS page cache as a running server's
    database does. The copies, the source and the other backend's databases together outgrow the machine's memory:
    without this the "after" copy, last read before the "before" copy was downgraded, was read back from disk page
    by page during its first report (a 248 s "cold" at stop 23), timing the disk rather than the code. Returns
    the seconds the read took."""
    t0 = time.perf_counter()
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb", buffering=0) as f:
                while f.read(1 << 24):
                    pass
    return time.perf_counter() - t0


def run(backend: str, before_code: Path, before_url: str, after_url: str, repeat: int) -> list[dict]:
    rows = []
    if backend == "sqlite":
        seconds = _into_cache(before_url) + _into_cache(after_url)
        print(f"sqlite: both copies read into the page cache in {seconds:.0f} s", flush=True)
    for i, (kind, name, _path) in enumerate(PAGES):
        b = _run_worker(before_code, before_url, i, repeat)
        a = _run_worker(ROOT, after_url, i, repeat)
        ok = a["median"] <= BUDGET[kind]
        rows.append({"backend": backend, "page": name, "kind": kind, "before": b, "after": a, "ok": ok})
        print(f"{backend:10s} {name:32s} before {b['median'] * 1000:8.0f} ms (cold {b['cold'] * 1000:6.0f}, "
              f"cpu {b['cpu'] * 1000:5.0f})  after {a['median'] * 1000:7.0f} ms (cold {a['cold'] * 1000:6.0f}, "
              f"cpu {a['cpu'] * 1000:5.0f})  "
              f"×{b['median'] / a['median']:5.1f}  budget {BUDGET[kind] * 1000:.0f} ms {'ok' if ok else 'OVER'}"
              f"  [{b['status']}/{a['status']}]"
              + (f"  after {CHANGED} Posyandu changed {a['changed'] * 1000:.0f} ms" if a.get("changed") else ""),
              flush=True)
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before-rev", required=True)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--sqlite-path", default="/tmp/bench150k/open.sqlite")
    ap.add_argument("--pg-database", default="posyandu_bench150k")
    ap.add_argument("--work", default="/tmp/bench-open")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="reuse copies made by an earlier run")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    before_code = _before_tree(args.before_rev, work)
    print(f"before: {args.before_rev}; after: {subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}; "
          f"load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} / {os.getloadavg()[2]:.1f} (2 cores)", flush=True)
    rows = []
    if args.backend in ("sqlite", "both"):
        before, after, note = _sqlite_copies(args.sqlite_path, work, args.keep)
        print(f"sqlite: {note}", flush=True)
        rows += run("sqlite", before_code, before, after, args.repeat)
    if args.backend in ("postgresql", "both"):
        before, after, note = _pg_copies(args.pg_database, args.keep)
        print(f"postgresql: {note}", flush=True)
        rows += run("postgresql", before_code, before, after, args.repeat)
    print(f"load average at the end {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} / {os.getloadavg()[2]:.1f}")
    over = [f"{r['backend']} {r['page']}" for r in rows if not r["ok"]]
    print("every page within its budget:", "yes" if not over else f"NO: {', '.join(over)}")


if __name__ == "__main__":
    main()
