"""The job queue (Huey): long work runs in a consumer, never in a request thread.

Where the queue lives comes from the config: `JOBS_URL` unset keeps it in a SQLite file in instance/ (a laptop:
no extra server); `redis://…` uses Redis and `postgresql://…` a PostgreSQL database (a district server).
`flask serve` starts the consumer's threads inside the server process, so `make run` needs no second command;
with gunicorn, run `flask --app app jobs-worker` beside it. `JOBS_IMMEDIATE` (the tests) runs each job at once,
in the thread that starts it.

A job runs as the user who started it: in a request context of its own (GET, the base URL of the request that
started it, so certificate QR codes carry the same address) with the user's language, and the same scope checks
as the page it came from. Its reads are deferred transactions (`reading`), so on SQLite it never holds the write
lock a meja save needs; its progress is written in short transactions of their own.
"""
import logging
import os
from pathlib import Path
from typing import Callable, BinaryIO

from flask import Flask, current_app, g
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# kind → runner(params, out, progress): writes the job's file into `out`, reports progress(done, total)
RUNNERS: dict[str, Callable[[dict, BinaryIO, Callable[[int, int], None]], None]] = {}


def runner(kind: str):
    """Register the function that does the work of one kind of job."""
    def decorate(fn):
        RUNNERS[kind] = fn
        return fn
    return decorate


def make_huey(app: Flask):
    """The Huey instance for this app's config."""
    from huey import MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey

    name = "posyandu"
    if app.config["JOBS_IMMEDIATE"]:
        return MemoryHuey(name, immediate=True)
    url = app.config.get("JOBS_URL")
    if not url:
        path = Path(app.config["JOBS_DIR"]).parent / "jobs.sqlite"
        return SqliteHuey(name, filename=str(path))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresHuey(name, dsn=url.replace("postgres://", "postgresql://", 1))
    raise ValueError(f"JOBS_URL: unknown queue {url.split(':', 1)[0]!r} (redis:// or postgresql://)")


def init_app(app: Flask) -> None:
    """Create the queue and its tasks for this app."""
    from huey import crontab

    os.makedirs(app.config["JOBS_DIR"], mode=0o700, exist_ok=True)
    huey = make_huey(app)

    @huey.task(name="run_job")
    def run_job(job_id: int) -> None:
        with app.app_context():
            run(job_id)

    @huey.periodic_task(crontab(minute="17"), name="clean_jobs")
    def clean_jobs() -> None:
        from .database import writing
        from .extensions import db
        from .services import jobs

        with app.app_context(), writing():
            jobs.clean_expired()
            db.session.commit()

    app.extensions["huey"] = huey
    app.extensions["run_job"] = run_job


def enqueue(job_id: int) -> None:
    """Hand a committed job to the queue."""
    current_app.extensions["run_job"](job_id)


def run(job_id: int) -> None:
    """Do a queued job: write its file, then mark it done (or failed, with a reason the page can show)."""
    from .database import private_file, reading
    from .extensions import db
    from .models import Job, User
    from .models.base import utcnow
    from .services import jobs

    with reading():
        job = db.session.get(Job, job_id)
        if job is None or job.status != "queued":
            db.session.rollback()
            return
        kind, params, user_id = job.kind, dict(job.params or {}), job.user_id
        path = jobs.file_path(job)
        db.session.rollback()  # nothing held while the work runs
    part = path.with_suffix(".part")
    jobs.set_state(job_id, status="running", started_at=utcnow())
    app = current_app._get_current_object()
    try:
        with app.app_context(), app.test_request_context(base_url=params.get("base_url")), \
                force_locale(params.get("locale") or "id"), reading():
            g._login_user = db.session.get(User, user_id)  # current_user: the page's own scope checks
            private_file(part)
            with open(part, "wb") as out:
                RUNNERS[kind](params, out, jobs.Progress(job_id))
            db.session.rollback()
        os.replace(part, path)
        jobs.set_state(job_id, status="done", finished_at=utcnow())
    except Exception as e:  # noqa: BLE001  (any failure ends the job as failed, with its reason kept)
        part.unlink(missing_ok=True)
        if isinstance(e, HTTPException):
            reason = f"{e.code}"
        else:
            log.exception("job %s (%s) failed", job_id, kind)
            reason = type(e).__name__
        jobs.set_state(job_id, status="failed", error=reason, finished_at=utcnow())


def start_consumer(app: Flask, workers: int | None = None):
    """Start the consumer's worker and scheduler threads in this process (daemon threads: they end with it)."""
    from huey.consumer import Consumer

    class InProcess(Consumer):
        def _set_signal_handlers(self):  # Ctrl-C and SIGTERM stay waitress's
            pass

    huey = app.extensions["huey"]
    consumer = InProcess(huey, workers=workers or app.config["JOBS_WORKERS"], worker_type="thread")
    consumer.start()
    return consumer


def start(kind: str, params: dict, title: str, file_name: str, mimetype: str):
    """From a POST view: queue a job of `kind` for the current user and answer with a redirect to its page."""
    from flask import redirect, request, url_for
    from flask_babel import get_locale
    from flask_login import current_user

    from .extensions import db
    from .services import jobs

    params = {**params, "base_url": request.host_url, "locale": str(get_locale())}
    job = jobs.create(current_user, kind, params, title, file_name, mimetype)
    job_id, token = job.id, job.token
    db.session.commit()  # the job must exist before a worker (or, in tests, this thread) picks it up
    enqueue(job_id)  # and this request holds no transaction (on SQLite, no write lock) while it runs
    return redirect(url_for("jobs.show", token=token), 303)
