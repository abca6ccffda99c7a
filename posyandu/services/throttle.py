"""Failure counters with backoff, for logins and signing PINs: never a hard lock.

A key gets `free` attempts; after that each further failure doubles the wait before the next attempt (`base`,
2 × base, 4 × base … up to `cap` seconds), and the count starts over after `window` seconds without an attempt.
An attempt is counted *before* the password or PIN is checked, in one atomic statement (INSERT … ON CONFLICT DO
UPDATE … WHERE … RETURNING), so concurrent guesses cannot all slip through on a count read before any of them
was written; a success then clears the key.

`attempt(..., commit=False)` keeps the count in the caller's transaction (signing with a PIN): the counter row
stays locked until the request commits, so concurrent tries of one key run one after another, a success clears
the count in the same transaction as the signature, and the caller commits a failure before refusing. Committing
the count mid-request released the request's row locks; 50 concurrent signings then deadlocked on PostgreSQL
(the kader row against the counter row), and the retried victims found the free tries used: none signed.
"""
import time
from dataclasses import dataclass

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import Throttle


@dataclass(frozen=True)
class Rule:
    free: int  # attempts allowed without waiting
    base: float  # the first wait, in seconds
    cap: float  # the longest wait, in seconds
    window: float  # seconds without an attempt after which the count starts over

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after this many counted failures."""
        if failures < self.free:
            return 0.0
        return min(self.base * 2 ** min(failures - self.free, 30), self.cap)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, for the message and the Retry-After header


def _wait_sql(rule: Rule, failures):
    """wait_after() as a SQL expression of the new failure count (no pow() in SQLite)."""
    whens, n = [], rule.free
    while rule.wait_after(n) < rule.cap:
        whens.append((failures == n, literal(rule.wait_after(n))))
        n += 1
    whens.insert(0, (failures < rule.free, literal(0.0)))
    return case(*whens, else_=literal(float(rule.cap)))


def attempt(key: str, rule: Rule, now: float | None = None, commit: bool = True) -> Verdict:
    """Count an attempt on `key` if one is allowed now, else say how long to wait. The count is committed at once
    unless `commit` is false (then the caller commits it, with a failure, or drops it with a success).

    A deliberate commit inside a service (outside the caller's unit of work): a failed login or enrolment must be
    counted even though the use case then refuses and rolls back."""
    now = time.time() if now is None else now
    key = key[:200]
    t = Throttle.__table__
    dialect = db.session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(t)
    stale = t.c.last_at < now - rule.window
    failures = case((stale, 1), else_=t.c.failures + 1)
    stmt = ins.values(key=key, failures=1, last_at=now, next_at=now + rule.wait_after(1)).on_conflict_do_update(
        index_elements=[t.c.key],
        set_={"failures": failures, "last_at": now, "next_at": now + _wait_sql(rule, failures)},
        where=(t.c.failures < rule.free) | (t.c.next_at <= now) | stale,
    ).returning(t.c.failures)
    counted = db.session.execute(stmt).first()
    if counted is not None:
        if commit:
            db.session.commit()
        return Verdict(True)
    next_at = db.session.scalar(Throttle.__table__.select().with_only_columns(t.c.next_at).where(t.c.key == key))
    db.session.commit()  # nothing was written; end the transaction (on SQLite it holds the write lock)
    return Verdict(False, max(1, int((next_at or now) - now + 0.999)))


def refund(key: str) -> None:
    """Take back one counted attempt that turned out not to be a failure (a success, or refused elsewhere)."""
    db.session.execute(update(Throttle).where(Throttle.key == key[:200], Throttle.failures > 0)
                       .values(failures=Throttle.failures - 1))


def clear(key: str) -> None:
    """Forget the failures of a key (after a success); the caller commits."""
    db.session.execute(delete(Throttle).where(Throttle.key == key[:200]))


def prune(older_than: float) -> int:
    """Drop counters idle longer than `older_than` seconds (they would start over anyway); the caller commits."""
    return db.session.execute(delete(Throttle).where(Throttle.last_at < time.time() - older_than)).rowcount
