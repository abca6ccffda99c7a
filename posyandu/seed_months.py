"""The demo's closed months: every past month of the history submitted (on time mostly, a few late), verified and
approved for every Posyandu, with its snapshot; the current month stays open, so the demo shows both. Both demo
districts (Bontang, `seed`, and Kukar, `seed_kukar`) close theirs here.

Bulk inserts and one `month_snapshot.build_many` per month (a fixed number of queries for all Posyandu), so two
years of a district close in seconds. Runs at the END of seeding: an approved month's records cannot be written
afterwards (services.month_lock). The demo nakes verifies her Puskesmas' Posyandu and the demo kelurahan clerk
approves hers; the district admin takes the steps for the other Posyandu (the demo has no other such accounts).
"""
import random
from datetime import date, datetime, time, timedelta
from time import perf_counter

from sqlalchemy import insert, select

from .domain import months as month_rules
from .domain.reports import month_start, shift_month
from .extensions import db
from .models.base import utcnow
from .models import District, HariBuka, Kelurahan, MonthEvent, Posyandu, PosyanduMonth, PosyanduMonthSection, User
from .services import month_snapshot
from .services.months import local_date

LATE_SHARE = 0.08  # about one Posyandu-month in twelve is submitted after the deadline
WITA = timedelta(hours=8)  # the demo district's time zone (the months' times are stored in UTC)


def _at(day: date, hour: int, rng: random.Random) -> datetime:
    """A stored (UTC) time on a district-time day, during office hours."""
    return datetime.combine(day, time(hour, rng.randint(0, 59))) - WITA


BONTANG_ACCOUNTS = ("admin", "bidan", "kelurahan", "ketua")  # district admin, nakes, kelurahan clerk, ketua


def close_past_months(district_id: int, today: date, rng: random.Random, accounts=BONTANG_ACCOUNTS,
                      since: date | None = None, echo=lambda s: None) -> dict:
    """Submit, verify and approve every month before today's of every Posyandu of the district, from its first
    hari buka (or from `since`, for a district seeded without sessions); returns how many Posyandu-months were
    approved. `accounts`: the usernames of the district admin, the nakes, the kelurahan clerk and the ketua;
    `echo` hears how long each month took."""
    district = db.session.get(District, district_id)
    users = {u.username: u for u in db.session.scalars(select(User).where(User.district_id == district_id))}
    admin, nakes, clerk, ketua = (users[name] for name in accounts)
    places = db.session.execute(
        select(Posyandu.id, Posyandu.kelurahan_id, Kelurahan.puskesmas_id)
        .join(Kelurahan, Kelurahan.id == Posyandu.kelurahan_id).where(Kelurahan.kecamatan.has(district_id=district_id))
        .order_by(Posyandu.id)).all()
    first = since or db.session.scalar(select(HariBuka.held_on).where(HariBuka.posyandu_id.in_([p[0] for p in places]))
                                       .order_by(HariBuka.held_on).limit(1))
    current = month_start(today)
    if first is None:
        return {"approved_months": 0}
    now = utcnow()
    month, n, pm_id = month_start(first), 0, (db.session.scalar(select(db.func.max(PosyanduMonth.id))) or 0)
    while month < current:
        started = perf_counter()
        snapshots = month_snapshot.build_many([p[0] for p in places], month)
        after = shift_month(month, 1)
        rows, events, sections = [], [], []
        for pid, kel_id, pkm_id in places:
            late = rng.random() < LATE_SHARE
            day = after + timedelta(days=(rng.randint(district.timely_days, district.timely_days + 6) if late
                                          else rng.randint(0, district.timely_days - 1)))
            submitted = _at(day, rng.randint(8, 15), rng)
            verified = submitted + timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 5))
            approved = verified + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 5))
            if approved >= now:  # last month, early in this one: the steps all happened just now
                approved = now - timedelta(minutes=5)
                verified = min(verified, approved - timedelta(minutes=30))
                submitted = min(submitted, verified - timedelta(minutes=30))
            submitter = ketua if pid == ketua.posyandu_id else admin
            verifier = nakes if pkm_id == nakes.puskesmas_id else admin
            approver = clerk if kel_id == clerk.kelurahan_id else admin
            snap = snapshots[pid]
            pm_id += 1
            figures, parts = month_snapshot.rows_of(pm_id, snap)
            sections.extend(parts)
            rows.append({"id": pm_id, "posyandu_id": pid, "month": month, "state": "approved",
                         "first_submitted_at": submitted, "submitted_at": submitted, "submitted_by_id": submitter.id,
                         "on_time": month_rules.on_time(local_date(submitted), month, district.timely_days),
                         "verified_at": verified if district.month_verify else None,
                         "verified_by_id": verifier.id if district.month_verify else None,
                         "approved_at": approved, "approved_by_id": approver.id,
                         "snapshot_sha256": month_snapshot.digest(snap), "figures": figures})
            steps = [("submit", "open", "submitted", submitter, submitted)]
            if district.month_verify:
                steps.append(("verify", "submitted", "verified", verifier, verified))
            steps.append(("approve", steps[-1][2], "approved", approver, approved))
            events.extend({"posyandu_month_id": pm_id, "action": a, "from_state": f, "to_state": t,
                           "actor_id": u.id, "at": at} for a, f, t, u, at in steps)
        db.session.execute(insert(PosyanduMonth), rows)
        db.session.execute(insert(MonthEvent), events)
        db.session.execute(insert(PosyanduMonthSection), sections)
        n += len(rows)
        echo(f"{month:%Y-%m}: {len(rows)} Posyandu-months approved in {perf_counter() - started:.1f} s, "
             f"{sum(len(s['data']) for s in sections) / 2**20:.2f} MB of packed sections")
        month = after
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('posyandu_month', 'id'), "
                                   "(SELECT COALESCE(MAX(id), 1) FROM posyandu_month))"))
    db.session.commit()
    return {"approved_months": n}
