"""Benchmark: the session day at demo scale over real HTTP — the meja-2 save and the queue poll, on SQLite and
PostgreSQL, as times and as a ratio to a bare page of the same app (/healthz, and the login page /masuk).

    .venv/bin/python bench/bench_session_day.py [--backend sqlite|postgresql|both] [--children 150000]
                                                [--months 24] [--reuse] [--build-only]

Builds the demo district (SQLite file under /tmp, PostgreSQL database `posyandu_bench` on 127.0.0.1), migrated
and seeded with `seed_demo`, then serves it with `flask --app app serve` (waitress, a subprocess on a free
127.0.0.1 port) and measures with one keep-alive HTTP client logged in as the demo kader. With --reuse an
existing seeded database is kept (the runs only add visits and measurements to today's hari buka).
"""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import zlib
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "posyandu-demo"
HOST = "127.0.0.1"


# ---------------------------------------------------------------- building the database

def database_url(backend: str, args) -> str:
    if backend == "sqlite":
        return f"sqlite:///{args.sqlite_path}"
    return f"{PG_SERVER}/{args.pg_database}"


def _make_app(url: str):
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench"})


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _pg_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _seeded(url: str) -> bool:
    from sqlalchemy import create_engine, inspect, text

    from posyandu.config import normalise_database_url

    eng = create_engine(normalise_database_url(url))
    try:
        with eng.connect() as conn:
            if "district" not in inspect(conn).get_table_names():
                return False
            return conn.execute(text("SELECT count(*) FROM district")).scalar() > 0
    finally:
        eng.dispose()


def build(backend: str, args) -> dict:
    """Create (or reuse) the database; returns {"url", "seed_s", "reused"}."""
    url = database_url(backend, args)
    exists = Path(args.sqlite_path).exists() if backend == "sqlite" else _pg_exists(args.pg_database)
    if args.reuse and exists and _seeded(url):
        print(f"[{backend}] reusing {url}", flush=True)
        try:
            seed_s = json.loads(_build_note(backend).read_text())["seed_s"]
        except (OSError, ValueError, KeyError):
            seed_s = None
        return {"url": url, "seed_s": seed_s, "reused": True}
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(args.sqlite_path + suffix).unlink(missing_ok=True)
    else:
        _pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_database}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{args.pg_database}"')
    from flask_migrate import upgrade
    from sqlalchemy.exc import IntegrityError

    from posyandu.extensions import db
    from posyandu.seed import seed_demo

    app = _make_app(url)
    with app.app_context():
        t = time.perf_counter()
        upgrade(directory=str(ROOT / "migrations"))
        print(f"[{backend}] migrated in {time.perf_counter() - t:.1f}s; seeding {args.children:,} children, "
              f"{args.months} months ...", flush=True)
        t = time.perf_counter()
        try:
            made = seed_demo(children=args.children, months=args.months,
                             echo=lambda s: print(f"[{backend}] {s}", flush=True) if args.verbose else None)
        except IntegrityError as exc:
            # seed_demo bulk-inserts person and hari_buka rows with explicit ids (posyandu/seed.py _Ids), which
            # does not move PostgreSQL's id sequences; its last step, opening today's hari buka through the ORM,
            # then collides with hari_buka id 1. The data is committed by then: resync the sequences below and
            # open the day in prepare().
            db.session.rollback()
            if not _seeded(url):
                raise
            made = None
            print(f"[{backend}] WARNING: seed_demo failed at its last step (opening today's hari buka): "
                  f"{str(exc.orig).splitlines()[0]}; id sequences resynced by the benchmark", flush=True)
        seed_s = time.perf_counter() - t
        if made:
            print(f"[{backend}] seeded in {seed_s:.1f}s: {made['people']:,} people, {made['measurements']:,} "
                  f"measurements", flush=True)
        else:
            print(f"[{backend}] seeded in {seed_s:.1f}s", flush=True)
        db.session.remove()
        if backend == "postgresql":
            _resync_sequences(db.engine)
        if backend == "postgresql":
            # What autovacuum does within a minute of a bulk load; done here so the plans are stable.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    _build_note(backend).write_text(json.dumps({"seed_s": seed_s, "children": args.children, "months": args.months,
                                                "url": url, "built": time.strftime("%Y-%m-%d %H:%M")}))
    return {"url": url, "seed_s": seed_s, "reused": False}


def _build_note(backend: str) -> Path:
    """Where the seed time of the last build is kept, so a --reuse run can still report it."""
    return Path(f"/tmp/posyandu-bench-{backend}.build.json")


def _resync_sequences(engine) -> None:
    """Move every id sequence past the ids that bulk inserts wrote explicitly (PostgreSQL)."""
    from sqlalchemy import text

    from posyandu.extensions import db

    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            if "id" not in table.c:
                continue
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
            if seq:
                conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'),
                             {"s": seq})


def prepare(url: str, n_children: int) -> dict:
    """Row counts; today's hari buka at the kader's Posyandu (opened if a reused database is from another day);
    children of that Posyandu not yet queued today, with plausible next weighings from their last one."""
    from sqlalchemy import func, select

    from posyandu.extensions import db
    from posyandu.models import Measurement, Person, Posyandu, User, Visit
    from posyandu.services import session_day

    app = _make_app(url)
    with app.app_context():
        kader = db.session.scalar(select(User).where(User.username == "kader"))
        ketua = db.session.scalar(select(User).where(User.username == "ketua"))
        pos = db.session.get(Posyandu, kader.posyandu_id)
        today = date.today()
        hb = session_day.open_session(ketua, pos, today)
        if hb.closed_at is not None:
            session_day.reopen_session(ketua, hb)
        db.session.commit()
        counts = {t.name: db.session.scalar(select(func.count()).select_from(t))
                  for t in db.metadata.sorted_tables}
        queued = select(Visit.person_id).where(Visit.hari_buka_id == hb.id)
        last = (select(Measurement.person_id, func.max(Measurement.measured_on).label("on"))
                .where(Measurement.weight_kg.is_not(None)).group_by(Measurement.person_id).subquery())
        rows = db.session.execute(
            select(Person.id, Person.birth_date, Measurement.measured_on, Measurement.weight_kg,
                   Measurement.length_cm)
            .join(last, last.c.person_id == Person.id)
            .join(Measurement, (Measurement.person_id == Person.id) & (Measurement.measured_on == last.c.on))
            .where(Person.posyandu_id == pos.id, Person.birth_date > today - timedelta(days=59 * 30),
                   Person.birth_date < today - timedelta(days=60), Person.id.not_in(queued),
                   Person.deleted_at.is_(None), Measurement.flagged.is_(False))
            .order_by(Person.id).limit(n_children)).all()
        children, seen = [], set()
        for pid, birth, on, kg, cm in rows:
            if pid in seen:
                continue
            seen.add(pid)
            months = max((today - on).days / 30.4375, 0.5)
            children.append({"person_id": pid, "weight_kg": f"{kg + min(0.15 * months, 0.8):.1f}",
                             "length_cm": f"{(cm or 60) + min(0.5 * months, 3):.1f}",
                             "position": "l" if (today - birth).days < 731 else "h"})
        info = {"counts": counts, "hb_id": hb.id, "posyandu": pos.name, "posyandu_id": pos.id,
                "children": children, "queued_before": db.session.scalar(
                    select(func.count()).select_from(Visit).where(Visit.hari_buka_id == hb.id))}
        db.session.remove()
        db.engine.dispose()
    return info


# ---------------------------------------------------------------- serving

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """`flask --app app serve` (waitress) in a subprocess on 127.0.0.1."""

    def __init__(self, url: str, log: Path, threads: int):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-session-day"}
        self.log = open(log, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "serve", "--host", HOST, "--port", str(self.port),
             "--threads", str(threads)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {log}")
            try:
                c = http.client.HTTPConnection(HOST, self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- the client

def _decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


class Client:
    """One browser: a keep-alive connection, a cookie jar, the session's CSRF token."""

    def __init__(self, port: int, accept_encoding: str):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.accept_encoding = accept_encoding
        self.token = None

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                new_connection: bool = False):
        """→ (status, seconds, wire bytes, decoded body, response headers); the time includes opening a TCP
        connection whenever the server closed the last one (or new_connection asks for one)."""
        if new_connection:
            self.conn.close()
        h = {"Accept-Encoding": self.accept_encoding, "User-Agent": "bench_session_day", **(headers or {})}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        t = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
            self.conn.close()  # the server closed the kept-alive connection: reconnect once
            t = time.perf_counter()
            self.conn.request(method, path, body=body, headers=h)
            resp = self.conn.getresponse()
        data = resp.read()
        dt = time.perf_counter() - t
        for raw in resp.headers.get_all("Set-Cookie") or []:
            for k, morsel in SimpleCookie(raw).items():
                self.cookies[k] = morsel.value
        return resp.status, dt, len(data), _decode(data, resp.headers.get("Content-Encoding")), resp.headers

    def refresh_token(self, path: str) -> None:
        status, _, _, html, _ = self.request("GET", path)
        m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
        if status != 200 or not m:
            raise RuntimeError(f"no CSRF token at {path} (HTTP {status})")
        self.token = m.group(1).decode()

    def login(self, username: str, password: str) -> None:
        self.refresh_token("/masuk")
        status, dt, *_ = self.request("POST", "/masuk", {"csrf_token": self.token, "username": username,
                                                         "password": password})
        if status != 303:
            raise RuntimeError(f"login as {username} answered HTTP {status}")
        print(f"  logged in as {username} in {dt * 1000:.0f} ms (argon2id at production strength)", flush=True)

    def close(self) -> None:
        self.conn.close()


class Case:
    def __init__(self, name: str):
        self.name, self.times, self.wire, self.raw, self.status = name, [], [], [], {}
        self.closed = 0  # responses after which the server closed the connection (Connection: close)

    def add(self, status, dt, wire, body, headers) -> None:
        self.closed += (headers.get("Connection") or "").lower() == "close"
        self.times.append(dt * 1000)
        self.wire.append(wire)
        self.raw.append(len(body))
        self.status[status] = self.status.get(status, 0) + 1

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    def p95(self) -> float:
        s = sorted(self.times)
        return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))] if s else float("nan")


def run_case(case: Case, n: int, max_seconds: float, fn, warmup: int = 0) -> Case:
    """Call fn(i) → (status, dt, wire, body) n times (after `warmup` unrecorded calls), within max_seconds."""
    for i in range(warmup):
        fn(-1 - i)
    deadline = time.monotonic() + max_seconds
    for i in range(n):
        if time.monotonic() > deadline:
            print(f"  {case.name}: stopped after {i} requests ({max_seconds:.0f} s limit)", flush=True)
            break
        status, dt, wire, body, headers = fn(i)
        case.add(status, dt, wire, body, headers)
    return case


def measure(backend: str, url: str, info: dict, args) -> list[Case]:
    log = Path(f"/tmp/posyandu-bench-{backend}-server.log")
    server = Server(url, log, args.threads)
    print(f"[{backend}] waitress on http://{HOST}:{server.port} (log {log})", flush=True)
    try:
        return _measure(server.port, info, args)
    finally:
        server.stop()


def _measure(port: int, info: dict, args) -> list[Case]:
    hb = info["hb_id"]
    kids = info["children"]
    need = args.saves + 2 + 1
    if len(kids) < need:
        raise RuntimeError(f"only {len(kids)} unqueued children with a weighing at {info['posyandu']}; "
                           f"need {need} (rebuild without --reuse)")
    c = Client(port, args.accept_encoding)
    cases = []
    bare = run_case(Case("GET /healthz (bare, no login, no DB)"), args.polls, args.max_seconds,
                    lambda i: c.request("GET", "/healthz"), warmup=10)
    cases.append(bare)
    cases.append(run_case(Case("GET /masuk (login page)"), args.polls, args.max_seconds,
                          lambda i: c.request("GET", "/masuk"), warmup=10))
    cases.append(run_case(Case("GET /healthz on a new TCP connection each"), args.polls, args.max_seconds,
                          lambda i: c.request("GET", "/healthz", new_connection=True), warmup=10))
    c.login("kader", PASSWORD)
    c.refresh_token(f"/hari-buka/{hb}/meja/1")

    # Meja 1: queue the children (each enqueue is also timed; each one bumps the day's version).
    enq = Case("POST antri (meja 1 enqueue)")
    queue = kids[:need]

    def enqueue(i):
        return c.request("POST", f"/hari-buka/{hb}/antri", {"csrf_token": c.token,
                                                             "person_id": queue[i]["person_id"]})

    run_case(enq, len(queue), args.max_seconds * 2, enqueue)
    cases.append(enq)
    if enq.status.get(303, 0) < need:
        raise RuntimeError(f"enqueue answered {enq.status}")
    visits = _visit_ids(c, hb, [k["person_id"] for k in queue])

    # The queue poll of meja 2, as htmx sends it every 5 s.
    hx = {"HX-Request": "true", "HX-Target": "queue-meja-2", "HX-Current-URL": f"http://{HOST}:{port}/"}
    _, _, _, frag, _ = c.request("GET", f"/hari-buka/{hb}/meja/2/antrian?v=-1", headers=hx)
    version = int(re.search(rb"antrian\?v=(\d+)", frag).group(1))
    waiting = frag.count(b"<li>")
    cases.append(run_case(Case("GET antrian, unchanged (204)"), args.polls, args.max_seconds,
                          lambda i: c.request("GET", f"/hari-buka/{hb}/meja/2/antrian?v={version}", headers=hx),
                          warmup=5))
    cases.append(run_case(Case(f"GET antrian, changed (200, {waiting} waiting)"), args.polls, args.max_seconds,
                          lambda i: c.request("GET", f"/hari-buka/{hb}/meja/2/antrian?v={version - 1}",
                                              headers=hx), warmup=5))

    # Meja 2: save each child's weighing (a new visit and measurement each time), then re-post one.
    def save(kid, visit_id):
        form = {"csrf_token": c.token, "weight_kg": kid["weight_kg"], "length_cm": kid["length_cm"],
                "position": kid["position"]}
        return c.request("POST", f"/hari-buka/{hb}/kunjungan/{visit_id}/meja/2", form)

    for i in range(2):  # warm-up saves, kept out of the figures
        save(queue[i], visits[queue[i]["person_id"]])
    cases.append(run_case(Case("POST meja 2 save, new visit (303)"), args.saves, args.max_seconds * 2,
                          lambda i: save(queue[i + 2], visits[queue[i + 2]["person_id"]])))
    again = queue[need - 1]
    save(again, visits[again["person_id"]])
    cases.append(run_case(Case("POST meja 2 re-post, same visit (303)"), args.saves, args.max_seconds * 2,
                          lambda i: save(again, visits[again["person_id"]])))
    c.close()
    for cs in cases:
        bad = {s: n for s, n in cs.status.items() if s not in (200, 204, 303)}
        if bad:
            print(f"  warning: {cs.name}: statuses {cs.status}", flush=True)
    return cases


def _visit_ids(c: Client, hb: int, person_ids: list[int]) -> dict[int, int]:
    """Visit ids from the meja-2 page (links /kunjungan/<visit>/meja/2), matched to people in queue order."""
    _, _, _, html, _ = c.request("GET", f"/hari-buka/{hb}/meja/2")
    ids = [int(x) for x in re.findall(rb"/kunjungan/(\d+)/meja/2", html)]
    ids = list(dict.fromkeys(ids))
    if len(ids) < len(person_ids):
        raise RuntimeError(f"meja 2 lists {len(ids)} visits, expected at least {len(person_ids)}")
    # The queue is in queue-number order and the people were queued in order after any earlier visits.
    return dict(zip(person_ids, ids[-len(person_ids):]))


# ---------------------------------------------------------------- report

def table(backend: str, cases: list[Case], meta: dict) -> str:
    bare = cases[0].median
    login = cases[1].median
    lines = [f"### {backend}", "",
             f"{meta['line']}", "",
             ("| request | n | status | median ms | p95 ms | mean ms | bytes (wire / body) | conn. closed "
              "| × healthz | × /masuk |"),
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for cs in cases:
        st = ", ".join(f"{s}×{n}" for s, n in sorted(cs.status.items()))
        wire = statistics.median(cs.wire) if cs.wire else 0
        raw = statistics.median(cs.raw) if cs.raw else 0
        lines.append(f"| {cs.name} | {len(cs.times)} | {st} | {cs.median:.2f} | {cs.p95():.2f} | "
                     f"{statistics.fmean(cs.times):.2f} | {wire:,.0f} / {raw:,.0f} | {cs.closed} | "
                     f"{cs.median / bare:.1f} | {cs.median / login:.2f} |")
    lines += ["", ("Times are client-side over HTTP/1.1 keep-alive on 127.0.0.1, including a new TCP connection "
                   "whenever the server closed the last one ('conn. closed': waitress closes after every 204). "
                   "The meja-2 POST is sent as a plain form (303); htmx sends HX-Request and gets 204 + "
                   "HX-Location for the same work.")]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--children", type=int, default=150_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--reuse", action="store_true", help="keep an existing seeded database")
    ap.add_argument("--build-only", action="store_true", help="build the database(s) and stop")
    ap.add_argument("--polls", type=int, default=200, help="requests per GET case")
    ap.add_argument("--saves", type=int, default=100, help="requests per meja-2 case")
    ap.add_argument("--max-seconds", type=float, default=120, help="time limit per case")
    ap.add_argument("--threads", type=int, default=8, help="waitress threads")
    ap.add_argument("--accept-encoding", default="gzip, deflate, br", help="as a browser sends it")
    ap.add_argument("--sqlite-path", default="/tmp/posyandu-bench.sqlite")
    ap.add_argument("--pg-database", default="posyandu_bench")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not _can_import("psycopg"):
        sys.exit("PostgreSQL needs psycopg (in requirements.txt)")

    out = []
    for backend in backends:
        built = build(backend, args)
        if args.build_only:
            continue
        info = prepare(built["url"], args.saves + 10)
        counts = info["counts"]
        shown = ["district", "posyandu", "kader", "person", "measurement", "hari_buka", "duty", "visit",
                 "pregnancy", "audit_log"]
        print(f"[{backend}] rows: " + ", ".join(f"{t} {counts[t]:,}" for t in shown if t in counts), flush=True)
        print(f"[{backend}] hari buka {info['hb_id']} at Posyandu {info['posyandu']} (today), "
              f"{info['queued_before']} visits before this run", flush=True)
        cases = measure(backend, built["url"], info, args)
        seed = ("seed time unknown" if built["seed_s"] is None else f"seed_demo took {built['seed_s']:.0f} s"
                + (" (reused database)" if built["reused"] else ""))
        meta = {"line": f"{args.children:,} children, {args.months} months; {seed}; rows: "
                        + ", ".join(f"{t} {counts[t]:,}" for t in ("person", "measurement", "hari_buka", "visit")
                                    if t in counts)
                        + f"; waitress {args.threads} threads; Accept-Encoding: {args.accept_encoding}"}
        out.append(table(backend, cases, meta))
        print("\n" + out[-1] + "\n", flush=True)
    if len(out) > 1:
        print("\n\n".join(out))


def _can_import(name: str) -> bool:
    try:
        __import__(name)
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
