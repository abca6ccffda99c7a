"""Background jobs as records: start one for a user, follow its progress, find it for its owner, forget it once
its file has expired. Running one is posyandu.jobs' work (a queue consumer, outside the request threads).

A job's file is kept in instance/jobs/ under its token, readable by the app's user only, and only the user who
started the job may download it (`of_owner`). Files and rows are removed `JOBS_KEEP_HOURS` after they were asked
for (`clean_expired`, run by the consumer every hour and whenever a job starts)."""
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from ..database import writing
from ..extensions import db
from ..models import Job, User
from ..models.base import utcnow

PROGRESS_EVERY = 0.5  # seconds between two progress writes: a small write, never one per row


def create(user: User, kind: str, params: dict, title: str, file_name: str, mimetype: str) -> Job:
    """A queued job of `kind` for `user` (flushed, not committed: the caller commits before enqueueing)."""
    clean_expired()
    hours = current_app.config["JOBS_KEEP_HOURS"]
    job = Job(token=secrets.token_urlsafe(32), kind=kind, user_id=user.id, params=params, title=title[:300],
              file_name=file_name, mimetype=mimetype, status="queued", done=0, total=0,
              expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(job)
    db.session.flush()
    return job


def of_owner(user: User, token: str) -> Job | None:
    """The job with this token if `user` started it and it has not expired; None otherwise (the caller answers
    404, so another user cannot even learn that the job exists)."""
    job = db.session.scalar(select(Job).where(Job.token == token, Job.user_id == user.id))
    if job is None or job.expires_at <= utcnow():
        return None
    return job


def recent(user: User, limit: int = 10) -> list[Job]:
    """The user's jobs that have not expired, newest first."""
    return list(db.session.scalars(select(Job).where(Job.user_id == user.id, Job.expires_at > utcnow())
                                   .order_by(Job.id.desc()).limit(limit)))


def file_path(job: Job) -> Path:
    """Where the job's file is kept (the token names it; the download name is the job's file_name)."""
    return Path(current_app.config["JOBS_DIR"]) / f"{job.token}.bin"


def set_state(job_id: int, **values) -> None:
    """Write a job's state in a short transaction of its own, on its own connection: the long read of the job
    goes on, and the job page sees the change at once."""
    with writing(), db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


class Progress:
    """Reports a job's progress (done of total), written at most every PROGRESS_EVERY seconds."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY or done >= total:
            self.last = now
            set_state(self.job_id, done=done, total=total)


def clean_expired() -> int:
    """Remove the files and rows of expired jobs; how many."""
    expired = list(db.session.scalars(select(Job).where(Job.expires_at <= utcnow())))
    for job in expired:
        file_path(job).unlink(missing_ok=True)
        db.session.delete(job)
    if expired:
        db.session.flush()
    return len(expired)
