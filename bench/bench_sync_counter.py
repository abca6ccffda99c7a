"""Benchmark: does the server sequence serialise every write? Meja-2 saves (a visit and its measurement, one
commit each, through posyandu.services.session_day as the form does) from N processes on PostgreSQL, with the sync
tracking on (every commit numbers its records) and off (the listeners removed), as commits per second.

    .venv/bin/python bench/bench_sync_counter.py [--processes 1 2 4] [--seconds 8] [--database posyandu_bench_seq]
                                                 [--backend postgresql|sqlite]

Builds a small database (one district, one Posyandu per thread, 3 000 children each) with `flask db upgrade`;
each worker process saves for its own Posyandu and hari buka, so the only thing the workers share is the sync numbering.
If the numbering serialises, commits/s with tracking stay flat from 1 to N processes while without it they grow.

    .venv/bin/python bench/bench_sync_counter.py --sql [--processes 1 2 4 8]

measures the database alone (the app's Python is most of a meja-2 save): N processes each commit a small row and
its numbered sync row in a loop, numbered by the counter row (the old way), by the SEQUENCE under a shared
advisory lock (tracking.py today), or not at all; commits/s and how many backends wait on a lock.
"""
import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
CHILDREN = 3000


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def make_app(url: str, pool: int):
    from posyandu import create_app
    from posyandu.config import normalise_database_url

    opts = {"pool_size": pool + 2} if url.startswith("postgres") else {}
    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "SECRET_KEY": "bench",
                       "SQLALCHEMY_ENGINE_OPTIONS": opts})


def build(app, posyandu_count: int) -> list[int]:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from posyandu.extensions import db
    from posyandu.models import District, Kecamatan, Kelurahan, Person, Posyandu
    from posyandu.sync.tracking import number_unnumbered

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        d = District(name="Kota Bench", kind="kota")
        kec = Kecamatan(district=d, name="Kecamatan Bench")
        kel = Kelurahan(kecamatan=kec, name="Kelurahan Bench")
        pos = [Posyandu(kelurahan=kel, name=f"Posyandu {i}", schedule_kind="day_of_month", schedule_day=10)
               for i in range(posyandu_count)]
        db.session.add_all([d, kec, kel, *pos])
        db.session.flush()
        born = date.today() - timedelta(days=500)
        for p in pos:
            db.session.execute(insert(Person), [
                {"posyandu_id": p.id, "name": f"Anak {p.id}-{i}", "sex": "LP"[i % 2], "birth_date": born}
                for i in range(CHILDREN)])
        number_unnumbered(db.session)
        db.session.commit()
        ids = [p.id for p in pos]
        db.session.remove()
    return ids


def worker(app, posyandu_id: int, day: date, stop, counts, slot: int, errors: list):
    from sqlalchemy import select

    from posyandu.extensions import db
    from posyandu.models import Person, Posyandu
    from posyandu.services import session_day as sd

    with app.app_context():
        pos = db.session.get(Posyandu, posyandu_id)
        hb = sd.open_session(None, pos, day)
        db.session.commit()
        people = list(db.session.scalars(select(Person.id).where(Person.posyandu_id == posyandu_id)
                                         .order_by(Person.id)))
        i = 0
        while not stop.is_set() and i < len(people):
            try:
                person = db.session.get(Person, people[i])
                visit = sd.add_to_queue(None, hb, person)
                db.session.commit()
                sd.save_measurement(None, visit, {"weight_kg": 9.5 + (i % 10) / 10, "length_cm": 76.0,
                                                  "position": "l"}, True)
                db.session.commit()
                counts[slot] += 2
            except Exception as e:  # noqa: BLE001 - a bench counts failures instead of stopping
                db.session.rollback()
                errors.append(repr(e)[:200])
            i += 1
        db.session.remove()


def _process(url, pool, on, posyandu_id, day, stop, counts, slot, errors):
    tracking(on)
    app = make_app(url, pool)
    errs: list = []

    class Counter:
        def __setitem__(self, _k, v):
            counts[slot] = v

        def __getitem__(self, _k):
            return counts[slot]
    worker(app, posyandu_id, day, stop, Counter(), 0, errs)
    errors.value += len(errs)


def run(url, posyandu_ids: list[int], n: int, seconds: float, round_no: int, on: bool,
        sample_url: str | None) -> tuple[float, int, float]:
    """Commits/s of n worker processes, failures, and the share of samples in which a backend waited on a lock."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    stop, counts, errors = ctx.Event(), ctx.Array("l", n), ctx.Value("l", 0)
    day = date.today() - timedelta(days=round_no)  # a fresh hari buka per round
    ps = [ctx.Process(target=_process, args=(url, n, on, posyandu_ids[k], day, stop, counts, k, errors))
          for k in range(n)]
    for p in ps:
        p.start()
    time.sleep(3.0)  # warm up: apps created, sessions opened, first queries planned
    samples = waits = 0
    start_counts, t0 = sum(counts), time.perf_counter()
    if sample_url:
        import psycopg

        with psycopg.connect(sample_url, autocommit=True) as conn:
            while time.perf_counter() - t0 < seconds:
                waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock'").fetchone()[0]
                samples += 1
                waits += waiting
                time.sleep(0.005)
    else:
        time.sleep(seconds)
    done, elapsed = sum(counts) - start_counts, time.perf_counter() - t0
    stop.set()
    for p in ps:
        p.join()
    return done / elapsed, errors.value, waits / max(samples, 1)


def tracking(on: bool) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from posyandu.sync import tracking as tr

    for name, fn in (("after_flush", tr._collect), ("before_commit", tr._number)):
        if on and not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
        elif not on and event.contains(Session, name, fn):
            event.remove(Session, name, fn)


SQL_VARIANTS = {
    "counter row": ["UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value"],
    "sequence": ["SELECT pg_advisory_xact_lock_shared(1937337955)", "SELECT nextval('sync_seq')"],
    "no numbering": [],
}


def _sql_loop(url, variant, stop, counts, slot):
    import uuid

    import psycopg

    with psycopg.connect(url) as conn:
        n = 0
        while not stop.is_set():
            with conn.transaction():
                conn.execute("INSERT INTO bench_fact (note) VALUES ('meja 2')")
                seq = 0
                for sql in SQL_VARIANTS[variant]:
                    row = conn.execute(sql).fetchone()
                    seq = row[0] if row and isinstance(row[0], int) else seq
                conn.execute("INSERT INTO sync_row (entity, uuid, seq, posyandu_id) VALUES ('bench', %s, %s, 1)",
                             (str(uuid.uuid4()), seq or None))
            n += 1
            counts[slot] = n


def sql_bench(args) -> None:
    import multiprocessing as mp

    import psycopg

    url = f"{PG_SERVER}/{args.database}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_fact (id bigserial PRIMARY KEY, note text)")
        conn.execute("ALTER TABLE sync_row ALTER COLUMN seq DROP NOT NULL")
        # the counter row's numbers far above the sequence's, so both variants can write sync rows here
        conn.execute("UPDATE sync_counter SET value = 1000000000000 + (SELECT COALESCE(MAX(seq), 0) FROM sync_row) "
                     "WHERE id = 1")
    print(f"postgresql, the database alone: a row and its sync row per commit, commits/s over {args.seconds:.0f} s")
    ctx = mp.get_context("fork")
    for n in args.threads:
        for variant in SQL_VARIANTS:
            stop, counts = ctx.Event(), ctx.Array("l", n)
            ps = [ctx.Process(target=_sql_loop, args=(url, variant, stop, counts, k)) for k in range(n)]
            for p in ps:
                p.start()
            time.sleep(1.0)
            start, t0 = sum(counts), time.perf_counter()
            samples = waits = 0
            with psycopg.connect(url, autocommit=True) as conn:
                while time.perf_counter() - t0 < args.seconds:
                    waits += conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'").fetchone()[0]
                    samples += 1
                    time.sleep(0.005)
            rate = (sum(counts) - start) / (time.perf_counter() - t0)
            stop.set()
            for p in ps:
                p.join()
            print(f"  processes {n}  {variant:13s} {rate:8.1f} commits/s  backends waiting on a lock "
                  f"{waits / max(samples, 1):5.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="postgresql", choices=["postgresql", "sqlite"])
    ap.add_argument("--processes", dest="threads", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--database", default="posyandu_bench_seq")
    ap.add_argument("--sql", action="store_true", help="the database alone (needs the database built by a run)")
    args = ap.parse_args()
    if args.sql:
        return sql_bench(args)
    if args.backend == "postgresql":
        _pg_admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{args.database}"')
        url = f"{PG_SERVER}/{args.database}"
    else:
        path = Path("/tmp") / f"{args.database}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    top = max(args.threads)
    app = make_app(url, top)
    ids = build(app, top)
    print(f"{args.backend}: meja-2 saves (visit + measurement, one commit each), commits/s over {args.seconds:.0f} s",
          flush=True)
    round_no = 0
    results = {}
    for n in args.threads:
        for on in (True, False):
            rate, errors, waiting = run(url, ids, n, args.seconds, round_no, on,
                                        url if args.backend == "postgresql" else None)
            round_no += 1
            results[(n, on)] = rate
            print(f"  processes {n}  sync tracking {'on ' if on else 'off'}  {rate:7.1f} commits/s  "
                  f"backends waiting on a lock (mean of samples) {waiting:5.2f}"
                  + (f"  ({errors} failed)" if errors else ""), flush=True)
    for n in args.threads:
        print(f"  processes {n}: tracking costs {(1 - results[(n, True)] / results[(n, False)]) * 100:5.1f}% "
              f"of the commits/s")


if __name__ == "__main__":
    main()
