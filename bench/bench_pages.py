"""Benchmark: the everyday pages under load, as ratios to a bare WSGI app served alongside on the same waitress.

    .venv/bin/python bench/bench_pages.py [--backend sqlite|postgresql|both] [--rev before=<git rev>] ...
        [--sqlite-source /tmp/bench150k/open.sqlite] [--pg-source posyandu_bench150k] [--seconds 5] [--rounds 3]

Pages: /healthz; the people list as the kelurahan clerk; the person card of a child with 24 weighings; meja 1 (the
queue page, its search box and who is expected) and the meja 2–5 pages of that child's visit today (meja 3 shows
the growth charts); the meja-2 queue poll unchanged (empty answer) and changed (the queue fragment).

How: the database is copied (SQLite: `cp` of the file; PostgreSQL: `CREATE DATABASE … TEMPLATE`), migrated with
this tree's migrations, and given today's hari buka at the demo kader's Posyandu with that child queued and
measured (the only writes; the source databases are never touched). Every revision (`--rev NAME=REV`, checked out
with `git worktree add --detach` under /tmp; `.` is this working tree, the default `after`; `REV+rendered`: served
with UNCHANGED_PAGES=0, every page rendered — what a page costs the first time after a change) is served by
`flask --app app serve` (waitress, 8 threads) against the same copy; a bare WSGI app (a 13-byte body, no Flask)
runs on the same waitress settings. Load is wrk (`apt-get install wrk`): 1 thread, 8 keep-alive connections, N
seconds, browser-like Accept-Encoding; without wrk a Python keep-alive generator (8 threads of http.client) is
used and the table says so (its own CPU use on a 2-core machine lowers every figure, the bare one most).

Pairing: in each round, every page is measured right after the bare app, each revision in turn, so a ratio
compares figures taken seconds apart on a shared machine. The table gives the median of the rounds: req/s,
req/s ÷ bare req/s, p50 and p99 latency (wrk --latency), the app server's own CPU time per request (from
/proc: user + system of the waitress process, SQLite included, a PostgreSQL backend's not — the figure least
moved by other programs on a shared machine), and the load average before and after.
"""
import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "posyandu-demo"
WORK = Path("/tmp/posyandu-bench-pages")
ACCEPT = "gzip, deflate, br"
PAGES = ("healthz", "list", "card", "meja1", "meja2", "meja3", "meja4", "meja5", "poll_same", "poll_changed")
TITLES = {
    "healthz": "`/healthz`", "list": "people list, clerk", "card": "person card, 24 weighings",
    "meja1": "meja 1 (queue, expected)", "meja2": "meja 2 (measure form)", "meja3": "meja 3 (results, charts)",
    "meja4": "meja 4 (counselling)", "meja5": "meja 5 (services)", "poll_same": "queue poll, unchanged",
    "poll_changed": "queue poll, changed",
}


# ---------------------------------------------------------------- the bare app

def bare_app(environ, start_response):
    """The yardstick: what waitress alone costs per request."""
    body = b"bare wsgi ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def serve_bare(port: int, threads: int) -> None:
    from waitress import serve

    serve(bare_app, host=HOST, port=port, threads=threads, ident="")


# ---------------------------------------------------------------- databases

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def copy_database(backend: str, args) -> str:
    """A private copy of the source database (kept and reused with --reuse); returns its URL."""
    if backend == "sqlite":
        dst = WORK / "pages.sqlite"
        if not (args.reuse and dst.exists()):
            src = Path(args.sqlite_source)
            if not src.exists():
                raise SystemExit(f"no {src}")
            for suffix in ("", "-wal", "-shm"):
                Path(str(dst) + suffix).unlink(missing_ok=True)
            t = time.perf_counter()
            for suffix in ("", "-wal"):  # the WAL holds committed pages not yet checkpointed into the file
                if Path(str(src) + suffix).exists():
                    shutil.copyfile(str(src) + suffix, str(dst) + suffix)
            print(f"[sqlite] copied {src} in {time.perf_counter() - t:.0f} s", flush=True)
        return f"sqlite:///{dst}"
    name = args.pg_copy
    if not (args.reuse and _pg_exists(name)):
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        t = time.perf_counter()
        for attempt in range(60):  # CREATE … TEMPLATE needs the source without other connections for a moment
            try:
                _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{args.pg_source}"')
                break
            except Exception as exc:  # noqa: BLE001 (psycopg.errors.ObjectInUse, reported once)
                if attempt == 0:
                    print(f"[postgresql] waiting for {args.pg_source} to be free: {str(exc).splitlines()[0]}",
                          flush=True)
                time.sleep(5)
        else:
            raise SystemExit(f"could not copy {args.pg_source}")
        print(f"[postgresql] copied {args.pg_source} → {name} in {time.perf_counter() - t:.0f} s", flush=True)
    return f"{PG_SERVER}/{name}"


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-pages"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if url.startswith("postgresql"):
        # Planner statistics as `flask seed-demo` leaves them: a source seeded around the CLI and never analysed
        # planned the person card as if tables were empty (~1 s of PostgreSQL per card at 150 000 instead of 5 ms).
        subprocess.run(["psql", url.replace("+psycopg", ""), "-qc", "ANALYZE"], check=True)


def prepare(url: str) -> dict:
    """Today's hari buka at the kader's Posyandu, with the child of most weighings (24 at full scale) queued and
    measured today, so meja 2–5 and the card show real data; ids for the URLs."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import func, select

    from posyandu import create_app
    from posyandu.config import normalise_database_url
    from posyandu.database import writing
    from posyandu.extensions import db
    from posyandu.models import Measurement, Person, Posyandu, User
    from posyandu.services import session_day

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench-pages"})
    today = date.today()
    with app.app_context(), writing():
        kader = db.session.scalar(select(User).where(User.username == "kader"))
        ketua = db.session.scalar(select(User).where(User.username == "ketua"))
        pos = db.session.get(Posyandu, kader.posyandu_id)
        hb = session_day.open_session(ketua, pos, today)
        if hb.closed_at is not None:
            session_day.reopen_session(ketua, hb)
        db.session.commit()
        counts = (select(Measurement.person_id, func.count().label("n")).join(Person)
                  .where(Person.posyandu_id == pos.id, Person.deleted_at.is_(None), Person.left_on.is_(None),
                         Person.birth_date > date(today.year - 4, today.month, 1))
                  .group_by(Measurement.person_id).subquery())
        person_id, n = db.session.execute(select(counts.c.person_id, counts.c.n)
                                          .order_by(counts.c.n.desc(), counts.c.person_id).limit(1)).one()
        person = db.session.get(Person, person_id)
        visit = session_day.add_to_queue(kader, hb, person)
        db.session.commit()
        if db.session.scalar(select(Measurement.id).where(Measurement.visit_id == visit.id)) is None:
            last = db.session.scalar(select(Measurement).where(Measurement.person_id == person.id,
                                                               Measurement.weight_kg.is_not(None))
                                     .order_by(Measurement.measured_on.desc()).limit(1))
            values = {k: None for k in session_day.MEASURE_FIELDS}
            values.update(weight_kg=round(last.weight_kg + 0.2, 1), length_cm=round((last.length_cm or 80) + 0.5, 1),
                          position="h" if (today - person.birth_date).days >= 731 else "l")
            session_day.save_measurement(kader, visit, values, True)
            db.session.commit()
        db.session.refresh(hb)
        info = {"hb_id": hb.id, "visit_id": visit.id, "person_id": person.id, "weighings": n,
                "version": hb.version, "posyandu": pos.name}
        db.session.remove()
        db.engine.dispose()
    return info


# ---------------------------------------------------------------- revisions and servers

def tree_for(rev: str) -> Path:
    """This working tree for ".", else a detached worktree of the revision under /tmp (made once, compiled .mo)."""
    if rev == ".":
        return ROOT
    sha = subprocess.run(["git", "rev-parse", "--verify", rev + "^{commit}"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    path = Path(f"/tmp/posyandu-bench-rev-{sha[:12]}")
    if not (path / "app.py").exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([str(Path(sys.executable).with_name("pybabel")), "compile", "--use-fuzzy", "-d",
                        "posyandu/translations"], cwd=path, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return path


class Server:
    """A subprocess serving on a free 127.0.0.1 port; ready once `probe` answers 200."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict, log: Path, probe: str = "/healthz"):
        self.port = free_port()
        self.log = open(log, "w")  # noqa: SIM115 (closed in stop())
        cmd = [c.replace("{port}", str(self.port)) for c in cmd]
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {log}")
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=5)
                c.request("GET", probe)
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server did not answer {probe} within 90 s; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def app_server(tree: Path, url: str, threads: int, log: Path, extra_env: dict | None = None) -> Server:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-pages", "PYTHONPATH": str(tree), **(extra_env or {})}
    return Server([sys.executable, "-m", "flask", "--app", "app", "serve", "--host", HOST, "--port", "{port}",
                   "--threads", str(threads)], tree, env, log)


def bare_server(threads: int, log: Path) -> Server:
    return Server([sys.executable, str(Path(__file__).resolve()), "--bare-server", "{port}", "--threads",
                   str(threads)], ROOT, dict(os.environ), log, probe="/")


def login(port: int, username: str) -> str:
    """Log in over HTTP; returns the Cookie header value."""
    c = http.client.HTTPConnection(HOST, port, timeout=60)
    c.request("GET", "/masuk")
    r = c.getresponse()
    html = r.read().decode()
    jar = {}
    for raw in r.headers.get_all("Set-Cookie") or []:
        k, v = raw.split(";", 1)[0].split("=", 1)
        jar[k] = v
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    c.request("POST", "/masuk", body=urlencode({"csrf_token": token, "username": username, "password": PASSWORD}),
              headers={"Content-Type": "application/x-www-form-urlencoded",
                       "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    r = c.getresponse()
    r.read()
    if r.status != 303:
        raise RuntimeError(f"login as {username} answered {r.status}")
    for raw in r.headers.get_all("Set-Cookie") or []:
        k, v = raw.split(";", 1)[0].split("=", 1)
        jar[k] = v
    # The first page after the login gives the new session its CSRF secret (a new cookie), which a browser keeps
    # and sends from then on; wrk sends one Cookie header throughout, so take it the way the browser does.
    c.request("GET", "/", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    r = c.getresponse()
    r.read()
    for raw in r.headers.get_all("Set-Cookie") or []:
        k, v = raw.split(";", 1)[0].split("=", 1)
        jar[k] = v
    c.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def targets(info: dict, cookies: dict) -> dict:
    """page → (path, headers)."""
    hb, visit = info["hb_id"], info["visit_id"]
    kader = {"Cookie": cookies["kader"]}
    htmx = {**kader, "HX-Request": "true", "HX-Target": "queue-meja-2"}
    out = {
        "healthz": ("/healthz", {}),
        "list": ("/sasaran/", {"Cookie": cookies["kelurahan"]}),
        "card": (f"/sasaran/{info['person_id']}", kader),
        "meja1": (f"/hari-buka/{hb}/meja/1", kader),
        "poll_same": (f"/hari-buka/{hb}/meja/2/antrian?v={info['version']}", htmx),
        "poll_changed": (f"/hari-buka/{hb}/meja/2/antrian?v={info['version'] + 1000}", htmx),
    }
    for m in (2, 3, 4, 5):
        out[f"meja{m}"] = (f"/hari-buka/{hb}/kunjungan/{visit}/meja/{m}", kader)
    return out


def check(port: int, path: str, headers: dict) -> tuple[int, int]:
    """One request: (status, wire bytes); the page must answer 200 before it is timed."""
    c = http.client.HTTPConnection(HOST, port, timeout=120)
    c.request("GET", path, headers={"Accept-Encoding": ACCEPT, **headers})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, len(body)


# ---------------------------------------------------------------- load

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): the server's own work, which other programs on a
    shared machine slow down but do not change."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(port: int, path: str, headers: dict, seconds: float, connections: int) -> dict:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "60s", "--latency",
           "-H", f"Accept-Encoding: {ACCEPT}"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if "50" not in lat or "99" not in lat:
        raise RuntimeError(f"no latency percentiles in wrk's output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "n": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": _ms(lat["50"]), "p99": _ms(lat["99"]), "bad": int(bad.group(1)) if bad else 0,
            "errors": errors.group(1) if errors else ""}


def run_python(port: int, path: str, headers: dict, seconds: float, connections: int) -> dict:
    """Fallback load: one thread per connection, each a keep-alive http.client loop."""
    times: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        c = http.client.HTTPConnection(HOST, port, timeout=60)
        mine, nbad = [], 0
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                c.request("GET", path, headers={"Accept-Encoding": ACCEPT, **headers})
                r = c.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):
                c.close()
                nbad += 1
                continue
            mine.append((time.perf_counter() - t) * 1000)
            nbad += r.status >= 400
        with lock:
            times.extend(mine)
            bad[0] += nbad

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    s = sorted(times) or [float("nan")]
    return {"rps": len(times) / elapsed, "n": len(times), "p50": s[len(s) // 2], "p99": s[min(len(s) - 1, int(0.99 * len(s)))],
            "bad": bad[0], "errors": ""}


# ---------------------------------------------------------------- one backend

def bench_backend(backend: str, revs: list[tuple[str, str]], args) -> list[str]:
    url = copy_database(backend, args)
    migrate(url)
    info = prepare(url)
    print(f"[{backend}] hari buka {info['hb_id']} at {info['posyandu']}; child {info['person_id']} with "
          f"{info['weighings']} weighings, visit {info['visit_id']}", flush=True)
    load = run_wrk if shutil.which("wrk") and not args.python_load else run_python
    servers, bare = {}, None
    loads = [os.getloadavg()]
    try:
        bare = bare_server(args.threads, WORK / "bare.log")
        for name, rev in revs:
            rev, _, how = rev.partition("+")
            servers[name] = app_server(tree_for(rev), url, args.threads, WORK / f"{backend}-{name}.log",
                                       {"UNCHANGED_PAGES": "0"} if how == "rendered" else None)
        cookies = {name: {u: login(s.port, u) for u in ("kader", "kelurahan")} for name, s in servers.items()}
        page_targets = {name: targets(info, cookies[name]) for name in servers}
        sizes = {}
        for page in args.pages:
            for name, s in servers.items():
                path, headers = page_targets[name][page]
                for _ in range(3):  # warm: imports, template compilation, caches
                    status, size = check(s.port, path, headers)
                if status != 200:
                    raise RuntimeError(f"[{backend}] {name} {page} {path}: HTTP {status}")
                sizes[page, name] = size
        res: dict = {}
        for rnd in range(args.rounds):
            for page in args.pages:
                b = load(bare.port, "/", {}, args.seconds, args.connections)
                res.setdefault((page, "bare"), []).append(b)
                for name, s in servers.items():
                    path, headers = page_targets[name][page]
                    cpu0 = cpu_seconds(s.proc.pid)
                    r = load(s.port, path, headers, args.seconds, args.connections)
                    r["cpu"] = 1000 * (cpu_seconds(s.proc.pid) - cpu0) / max(r["n"], 1)
                    r["ratio"] = r["rps"] / b["rps"]
                    res.setdefault((page, name), []).append(r)
                    print(f"[{backend}] round {rnd + 1} {page:12} {name:7} {r['rps']:8.1f} req/s "
                          f"({100 * r['ratio']:5.1f} % of bare {b['rps']:.0f})  p50 {r['p50']:7.1f} ms  "
                          f"p99 {r['p99']:7.1f} ms  cpu {r['cpu']:5.2f} ms/req{'  NON-2XX ' + str(r['bad']) if r['bad'] else ''}", flush=True)
        loads.append(os.getloadavg())
    finally:
        for s in servers.values():
            s.stop()
        if bare is not None:
            bare.stop()
    return table(backend, revs, args, res, sizes, info, loads, load)


def _med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _n(x: float, digits: int = 0) -> str:
    """Indonesian-style figure as in the issue (1 220, 28,9)."""
    s = f"{x:,.{digits}f}".replace(",", " ").replace(".", ",")
    return s


def _t(ms: float) -> str:
    return f"{_n(ms / 1000, 2)} s" if ms >= 1000 else f"{_n(ms, 0 if ms >= 10 else 1)} ms"


def table(backend, revs, args, res, sizes, info, loads, load) -> list[str]:
    names = [n for n, _ in revs]
    la = lambda x: "/".join(f"{v:.1f}" for v in x)  # noqa: E731
    lines = [f"**{backend}** — {info['weighings']} weighings on the card; {args.rounds} rounds × "
             f"{args.seconds:g} s per page and revision, {args.connections} connections, "
             f"{'wrk -t1' if load is run_wrk else 'Python keep-alive threads'}; load average "
             f"{la(loads[0])} before, {la(loads[-1])} after (1/5/15 min; machine shared with ~7 agents). "
             f"Revisions: {', '.join(f'{n} = {r}' for n, r in revs)}.", "",
             "| page | " + " | ".join(f"{n} req/s (÷ bare) | {n} p50 / p99 | {n} CPU/req" for n in names)
             + " | bytes |",
             "|---|" + "---|---|---|" * len(names) + "---|"]
    for page in args.pages:
        cells = []
        for n in names:
            rows = res[page, n]
            cells.append(f"{_n(_med(rows, 'rps'))} ({_n(100 * _med(rows, 'ratio'), 1)} %)")
            cells.append(f"{_t(_med(rows, 'p50'))} / {_t(_med(rows, 'p99'))}")
            cells.append(f"{_n(_med(rows, 'cpu'), 1)} ms")
        lines.append(f"| {TITLES[page]} | " + " | ".join(cells) + f" | {sizes[page, names[-1]]} |")
    bare = res[args.pages[0], "bare"] if args.pages else []
    lines += ["", f"Bare WSGI app: {' · '.join(_n(_med(res[p, 'bare'], 'rps')) for p in args.pages)} req/s "
                  f"(median per page slot, in table order)." if bare else ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--rev", action="append", default=[], metavar="NAME=REV",
                    help="a revision to serve (git rev, or . for this tree; REV+rendered: every page rendered, "
                         "UNCHANGED_PAGES=0); the default is after=.")
    ap.add_argument("--sqlite-source", default="/tmp/bench150k/open.sqlite")
    ap.add_argument("--pg-source", default="posyandu_bench150k")
    ap.add_argument("--pg-copy", default="posyandu_bench_pages")
    ap.add_argument("--reuse", action="store_true", help="keep an earlier copy of the database")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=8, help="waitress threads (as `flask serve`)")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk exists")
    ap.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("--out", help="also append the tables to this file")
    args = ap.parse_args()
    if args.bare_server:
        serve_bare(args.bare_server, args.threads)
        return
    args.pages = [p for p in args.pages.split(",") if p]
    unknown = set(args.pages) - set(PAGES)
    if unknown:
        raise SystemExit(f"unknown pages {unknown}; choose from {PAGES}")
    revs = [tuple(r.split("=", 1)) if "=" in r else (r, r) for r in args.rev] or [("after", ".")]
    if "." not in [r.partition("+")[0] for _, r in revs] and len(revs) < 2:
        revs.append(("after", "."))
    WORK.mkdir(parents=True, exist_ok=True)
    out = [f"### bench_pages — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        out += bench_backend(backend, revs, args) + [""]
    text = "\n".join(out)
    print("\n" + text)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
