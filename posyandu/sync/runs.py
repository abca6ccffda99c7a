"""The laptop's *Sinkronkan* page: what it tells the ketua/kader (server, device, last success, what waits, what
the district refused and why) and the background run behind its button.

A run is a background job (posyandu.jobs), never a request thread. Its outcome is kept on the laptop
(`sync_meta` "last_run"): a run cut or timed out is a failure, with how many changes the district answered before
the cut and how many still wait — never "berhasil" (CHT's worst complaint)."""
import json
import re
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..database import writing
from ..extensions import db
from ..models import HariBuka, Job, Person, SyncState
from ..models.base import utcnow
from . import laptop, records
from .client import Transport, load_credential
from .protocol import Refused

JOB_KIND = "sync_run"
STALE = timedelta(minutes=30)  # a run "running" longer than this was lost with its process


def credential() -> dict | None:
    """This laptop's device credential (instance/sync.json), or None when it is not enrolled."""
    return load_credential(current_app.config["SYNC_CREDENTIAL_FILE"])


def transport(cred: dict) -> Transport:
    """The link to the district (tests replace it)."""
    return Transport(cred["url"], cred["credential"])


@dataclass
class Problem:
    entity: str
    uuid: str
    state: str  # conflict | refused
    code: str | None
    message: str | None
    what: str  # the record in words (a person's name, a date)
    month: str | None  # month_closed: YYYY-MM


def _what(entity: str, uuid: str) -> str:
    spec = records.SPEC.get(entity)
    if spec is None:
        return ""
    obj = db.session.scalar(select(spec[0]).where(spec[0].uuid == uuid))
    if obj is None:
        return ""
    if isinstance(obj, Person):
        return obj.name
    if isinstance(obj, HariBuka):
        return obj.held_on.isoformat()
    person_id = getattr(obj, "person_id", None)
    if person_id is not None:
        person = db.session.get(Person, person_id)
        return person.name if person is not None else ""
    return ""


MONTH = re.compile(r"\b(\d{4}-\d{2})\b")


def problems(limit: int = 200) -> list[Problem]:
    """Records the district refused or flagged, with what they are (the newest first)."""
    rows = db.session.scalars(select(SyncState).where(SyncState.state.in_(("conflict", "refused")))
                              .order_by(SyncState.device_time.desc()).limit(limit))
    out = []
    for s in rows:
        month = MONTH.search(s.message or "") if s.code == "month_closed" else None
        out.append(Problem(s.entity, s.uuid, s.state, s.code, s.message, _what(s.entity, s.uuid),
                           month.group(1) if month else None))
    return out


def waiting() -> list[tuple[str, int]]:
    """Changes waiting to be sent, per kind of record (in the order a push sends them)."""
    counts = Counter(db.session.scalars(select(SyncState.entity).where(SyncState.state == "pending")))
    order = {name: i for i, name in enumerate(records.ORDER)}
    return sorted(counts.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))


def last_run() -> dict | None:
    raw = laptop.meta("last_run")
    try:
        run = json.loads(raw) if raw else None
    except ValueError:
        return None
    if run is not None:
        run["at"] = _parse_time(run.get("at"))
    return run


def current_job() -> Job | None:
    """The newest sync run started on this laptop (any user's): its state is the page's news."""
    return db.session.scalar(select(Job).where(Job.kind == JOB_KIND).order_by(Job.id.desc()).limit(1))


def busy(job: Job | None) -> bool:
    """A run queued or running (and not lost with a process that died)."""
    return job is not None and job.status in ("queued", "running") and job.created_at > utcnow() - STALE


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def status() -> dict:
    """Everything the page shows."""
    st = laptop.status()
    return {"last_success": _parse_time(st["last_success"]), "pending": st["pending"],
            "conflict": st["conflict"], "refused": st["refused"], "waiting": waiting(), "problems": problems(),
            "last_run": last_run()}


def _reason(e: BaseException) -> str:
    if isinstance(e, Refused):
        return "outdated" if e.code == "protocol_outdated" else f"refused:{e.code}"[:40]
    if isinstance(e, (TimeoutError, socket.timeout)) or "timed out" in str(e):
        return "timeout"
    if isinstance(e, OSError):
        return "no_connection"
    return "error"


def _save_outcome(ok: bool, report: laptop.Report, reason: str | None, started: datetime) -> None:
    db.session.rollback()
    outcome = {"at": started.isoformat(timespec="seconds"), "ok": ok, "stage": report.stage,
               "answered": sum(report.pushed.values()), "accepted": report.pushed["applied"]
               + report.pushed["duplicate"], "problems": len(report.problems), "pulled": report.pulled}
    if reason:
        outcome["error"] = reason
    with writing():
        laptop.set_meta("last_run", json.dumps(outcome, separators=(",", ":"))[:200])
        db.session.commit()


class SyncFailed(Exception):
    """The run did not finish (its job is marked failed; the page reads why from `last_run`)."""


def run_now(link=None) -> laptop.Report:
    """Push then pull, keeping the outcome — success only when both finished. Raises SyncFailed otherwise."""
    cred = credential()
    report, started = laptop.Report(), utcnow()
    if cred is None:
        _save_outcome(False, report, "not_enrolled", started)
        raise SyncFailed("not_enrolled")
    current_app.config["SYNC_LAPTOP"] = True
    try:
        laptop.run(link or transport(cred), report)
    except Exception as e:  # noqa: BLE001  (whatever cut it, the run failed and says where)
        _save_outcome(False, report, _reason(e), started)
        raise SyncFailed(_reason(e)) from e
    _save_outcome(True, report, None, started)
    return report
