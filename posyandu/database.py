"""Transactions: reads never wait for writes, writes one record at a time, races end in idempotent answers.

SQLite (a Posyandu laptop): WAL and a busy timeout. A request that only reads (GET) runs a deferred transaction,
so a long district export never holds the write lock; a request that writes (POST …) and the CLI's write commands
begin IMMEDIATE, taking the write lock first — a deferred transaction that reads and then writes would fail with
SQLITE_BUSY_SNAPSHOT when another meja committed in between, and waiting on the lock cannot.

PostgreSQL (a district server): READ COMMITTED; a write request locks the record it acts on (`get_or_404` →
`SELECT … FOR UPDATE`), so two posts to the same record run one after the other and the second sees the first's
result. What is left — two inserts racing for one unique key, a deadlock — is retried (`retry_races`).
"""
import contextvars
import functools
import random
import time
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

_WRITING = contextvars.ContextVar("posyandu_writing", default=None)  # None: as the request's method says
_UNIT = "posyandu_unit_of_work"  # session.info key: how deep in units of work the session is
READ_METHODS = ("GET", "HEAD", "OPTIONS")
RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
ATTEMPTS = 4


@contextmanager
def unit_of_work(session=None):
    """One use case, one transaction: commit when the block ends, roll back everything if anything in it raises
    (a domain error after a flush leaves nothing behind). Services only flush; requests, CLI commands and the
    sync use this. Inside another unit of work it is a savepoint of the outer one: a sync batch applies each
    change in its own, so one refused change leaves the others, and the outer one commits them all once."""
    if session is None:
        from .extensions import db

        session = db.session
    depth = session.info.get(_UNIT, 0)  # per session: a job run inside a request has its own, and commits
    session.info[_UNIT] = depth + 1
    try:
        if depth:
            with session.begin_nested():
                yield session
            return
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        session.info[_UNIT] = depth


@contextmanager
def writing():
    """Transactions begun inside write (the CLI's seed, restore, create-admin): IMMEDIATE on SQLite."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


@contextmanager
def reading():
    """Transactions begun inside only read (a background job's long export, even when a test runs it inside the
    POST that started it): a deferred BEGIN on SQLite, so they never hold the write lock."""
    token = _WRITING.set(False)
    try:
        yield
    finally:
        _WRITING.reset(token)


def wants_write() -> bool:
    """A request that may change data (any method but GET/HEAD/OPTIONS), or code inside `writing()`; never code
    inside `reading()`."""
    forced = _WRITING.get()
    if forced is not None:
        return forced
    from flask import has_request_context, request

    return has_request_context() and request.method not in READ_METHODS


def configure_engine(engine: Engine) -> None:
    """WAL, a busy timeout, private files and deferred-or-IMMEDIATE transactions on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, open transactions (so we can choose how they begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so a search for "āyu" missed "Āyu"; PostgreSQL folds Unicode.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        _private_files(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _private_files(path: str | None) -> None:
    """Health data: the database and its WAL/SHM files readable by the app's user only (0600)."""
    import os

    if not path or path == ":memory:" or path.startswith("file:"):
        return
    for name in (path, path + "-wal", path + "-shm"):
        try:
            if os.path.exists(name) and os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except OSError:  # not ours to change (e.g. a read-only copy): leave it
            pass


def lock_for_write(session, obj):
    """On a write request, reload `obj` locking its row (PostgreSQL `SELECT … FOR UPDATE`; SQLite's IMMEDIATE
    transaction already holds the database), so its state is current and stays so until the commit."""
    if obj is None or not wants_write() or session.get_bind().dialect.name != "postgresql":
        return obj
    cls = type(obj)
    return session.get(cls, obj.id, with_for_update={"of": cls}, populate_existing=True)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and code in RETRY_SQLSTATES


def retry_races(view, session):
    """Run a write view again when it lost a race in the database (a twin request inserted the same unique
    key first, a serialization failure, a deadlock): the rerun sees the twin's result and answers as for a
    repeated post — the record that exists, "already done" — instead of a server error."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not wants_write():
            return view(*args, **kwargs)
        for attempt in range(ATTEMPTS):
            try:
                return view(*args, **kwargs)
            except DBAPIError as e:
                session.rollback()
                if attempt == ATTEMPTS - 1 or not _retryable(e):
                    raise
                time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))

    return wrapper


def private_file(path) -> None:
    """Create (or narrow) a file readable by the app's user only, before health data is written into it."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics on PostgreSQL after bulk loading (restore, demo seed): without them the district
    report planned as if tables were empty (16 s instead of 0.15 s)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")


def concurrently(calls: list[tuple]) -> list:
    """Independent reads at once: `[(function, *args), ...]` → their results, in order. On PostgreSQL every call
    but the first runs in a worker thread with an app context, session and connection of its own (a deferred,
    reading transaction) while this thread runs the first, and the server works on them in a backend process
    each: a district report's heavy queries share the two cores instead of queuing on one. Each statement of a
    READ COMMITTED transaction takes its own snapshot anyway, so the results are as consistent as the same calls
    one after another. The calls must only read, and must not need uncommitted changes of this session (a report
    page's read, not a month's approval). On SQLite they run one after another in this session: its deferred
    transaction reads one snapshot, which other connections would not share, and each connection keeps a page
    cache of its own (measured at 150 000 children: more CPU, no gain)."""
    from concurrent.futures import ThreadPoolExecutor

    from flask import current_app

    from .extensions import db

    if len(calls) < 2 or db.engine.dialect.name != "postgresql":
        return [fn(*args) for fn, *args in calls]
    app = current_app._get_current_object()

    def run(fn, args):
        with app.app_context(), reading():  # its own session (scoped to the app context), given back at the end
            return fn(*args)

    with ThreadPoolExecutor(max_workers=len(calls) - 1, thread_name_prefix="report-part") as pool:
        futures = [pool.submit(run, fn, args) for fn, *args in calls[1:]]
        first = calls[0][0](*calls[0][1:])
        return [first] + [f.result() for f in futures]
