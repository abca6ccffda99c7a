"""Benchmark: the laptop ↔ district sync (docs/sync.md) for one Posyandu of the demo district, over real HTTP.

    .venv/bin/python bench/bench_sync.py [--children 4000] [--months 6] [--reuse]

Builds the demo district on a SQLite file under /tmp (seed_demo), serves it with waitress on a free local port,
registers a laptop for the demo Posyandu with the most sasaran, and drives a laptop app (its own SQLite file)
through posyandu.sync: the first pull, an idle sync, then a session day on the laptop — 70 % of the balita
weighed, measured and given vitamin A where due, every ibu hamil weighed, ten home visits closing open tasks,
two pregnancies registered — pushed, and the pull that follows.
Prints bytes on the wire (gzip bodies as sent and received), round trips and seconds for each.
"""
import argparse
import os
import random
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DISTRICT_DB = Path("/tmp/bench_sync_district.sqlite")
LAPTOP_DB = Path("/tmp/bench_sync_laptop.sqlite")
CREDENTIAL = Path("/tmp/bench_sync_laptop.json")


def config(path: Path, **extra) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1, **extra}


def build_district(children: int, months: int):
    from flask_migrate import upgrade

    from posyandu import create_app
    from posyandu.database import writing
    from posyandu.extensions import db
    from posyandu.seed import seed_demo

    for p in (DISTRICT_DB, Path(f"{DISTRICT_DB}-wal"), Path(f"{DISTRICT_DB}-shm")):
        p.unlink(missing_ok=True)
    app = create_app(config(DISTRICT_DB, SYNC_LAPTOP=False))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        start = time.perf_counter()
        with writing():
            seed_demo(children=children, months=months)
        print(f"district seeded in {time.perf_counter() - start:.0f} s ({children} children, {months} months)")
        db.session.remove()
        db.engine.dispose()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--children", type=int, default=4000)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--reuse", action="store_true", help="keep an already seeded district database")
    args = ap.parse_args()
    if not (args.reuse and DISTRICT_DB.exists()):
        build_district(args.children, args.months)

    from flask_migrate import upgrade
    from sqlalchemy import func, select
    from waitress import create_server

    from posyandu import create_app
    from posyandu.database import writing
    from posyandu.extensions import db
    from posyandu.models import Person, Posyandu, User
    from posyandu.sync import devices, laptop
    from posyandu.sync.client import Transport, enrol

    district = create_app(config(DISTRICT_DB, SYNC_LAPTOP=False))
    with district.app_context():
        upgrade(directory=str(ROOT / "migrations"))  # a reused database may predate the newest migration
        pos_id, sasaran = db.session.execute(
            select(Person.posyandu_id, func.count()).where(Person.deleted_at.is_(None))
            .group_by(Person.posyandu_id).order_by(func.count().desc()).limit(1)).one()
        with writing():
            _dev, code = devices.register(None, "Laptop bench", pos_id)
            db.session.commit()
        name = db.session.get(Posyandu, pos_id).name
        pos_uuid = db.session.get(Posyandu, pos_id).uuid
        db.session.remove()
    server = create_server(district, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"

    for p in (LAPTOP_DB, Path(f"{LAPTOP_DB}-wal"), Path(f"{LAPTOP_DB}-shm"), CREDENTIAL):
        p.unlink(missing_ok=True)
    lap = create_app(config(LAPTOP_DB, SYNC_LAPTOP=True, SYNC_CREDENTIAL_FILE=str(CREDENTIAL)))
    with lap.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        answer = enrol(url, code, "bench")
        print(f"Posyandu {name} (id {pos_id}): {sasaran} sasaran on the district")

        def measure(label, fn):
            t = Transport(url, answer["credential"])
            report = laptop.Report()
            start = time.perf_counter()
            fn(t, report)
            took = time.perf_counter() - start
            print(f"{label:<34} sent {t.sent:>8,} B  received {t.received:>9,} B  round trips {t.round_trips:>3}"
                  f"  {took:6.2f} s  (pushed {dict(report.pushed) or 0}, pulled {report.pulled})")
            return t

        measure("first pull", laptop.pull)
        measure("idle sync (push + pull)", lambda t, r: (laptop.push(t, r), laptop.pull(t, r)))

        from posyandu.services import session_day
        from posyandu.services.people import group_of

        rng = random.Random(7)
        today = date.today()
        with writing():
            pos = db.session.scalar(select(Posyandu).where(Posyandu.uuid == pos_uuid))
            pos_id = pos.id
            ketua = db.session.scalar(select(User).where(User.posyandu_id == pos_id, User.role == "ketua")) or \
                db.session.scalar(select(User).where(User.posyandu_id == pos_id))
            if ketua is None:  # a Posyandu without its own accounts in the demo: a local one records the visits
                ketua = User(username="bench_kader", display_name="Bench", role="kader", posyandu_id=pos_id,
                             district_id=db.session.scalar(select(User.district_id).limit(1)), password_hash="-")
                db.session.add(ketua)
                db.session.flush()
            hb = session_day.open_session(ketua, pos, today)
            people = db.session.scalars(select(Person).where(Person.posyandu_id == pos_id,
                                                             Person.deleted_at.is_(None), Person.left_on.is_(None)))
            came = 0
            for p in people:
                group = group_of(p, today)
                if group not in ("balita", "ibu_hamil") or (group == "balita" and rng.random() > 0.7):
                    continue
                visit = session_day.add_to_queue(ketua, hb, p)
                age = (today - p.birth_date).days
                if group == "balita":
                    kg = round(3.3 + age / 365.25 * 2.4 + rng.uniform(-0.8, 0.8), 1)
                    cm = round(50 + age / 365.25 * 12 + rng.uniform(-3, 3), 1)
                    values = {"weight_kg": kg, "length_cm": cm, "position": "l" if age < 731 else "h"}
                else:
                    values = {"weight_kg": round(rng.uniform(50, 70), 1), "muac_cm": 25.0, "systolic": 110,
                              "diastolic": 70}
                try:
                    session_day.save_measurement(ketua, visit, values, confirmed=True)
                except session_day.NotApplicable:
                    pass
                if group == "balita" and 180 <= age < 1826 and today.month in (2, 8):
                    session_day.record_services(ketua, visit, [("vitamin_a", "biru" if age < 365 else "merah",
                                                                None)], done=False)
                came += 1
            db.session.commit()
            # the rest of a month on the laptop: home visits closing the open tasks, pregnancies registered
            from posyandu.services import home_visits
            from posyandu.services import people as people_service

            tasks = home_visits.open_tasks(pos_id, today)[:10]
            for t in tasks:
                home_visits.record(ketua, db.session.get(Person, t.person_id),
                                   {"visited_on": today, "task_key": t.key, "findings": "dikunjungi, sehat"})
            women = [p for p in db.session.scalars(select(Person).where(
                Person.posyandu_id == pos_id, Person.sex == "P", Person.deleted_at.is_(None)))
                if group_of(p, today) == "dewasa" and (today - p.birth_date).days < 40 * 365][:2]
            for p in women:
                people_service.add_pregnancy(ketua, p, {"hpht": date.fromordinal(today.toordinal() - 45)})
        print(f"session day on the laptop: {came} visits; {len(tasks)} home visits, {len(women)} pregnancies")
        measure("push of the session day", laptop.push)
        measure("pull after it (server's versions)", laptop.pull)
        measure("idle sync again", lambda t, r: (laptop.push(t, r), laptop.pull(t, r)))
        print(laptop.status())
    server.close()


if __name__ == "__main__":
    main()
