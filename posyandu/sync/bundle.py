"""A bundle: the laptop's pending changes in a file (USB stick, WhatsApp) for a district with no link to it.

Gzip JSON `{"protocol", "device", "changes", "mac"}`; the MAC is HMAC-SHA256 of the changes keyed with the SHA-256
of the device's token — the value the district stores — so the district can check that the enrolled laptop made
the file and nobody changed it on the way. Importing applies the changes exactly as a push (docs/sync.md).

The other way, a pull bundle `{"protocol", "kind": "pull", "device", "since", "seq", "pages", "answers", "mac"}`:
the district writes the pull of one device above a cursor (the pages a pull would answer) and the answers to the
changes that device pushed or sent in a bundle, signed the same way; the laptop checks it and takes it through
the code of a pull (`laptop.take_page`), so a second import changes nothing and a pending local change is never
overwritten."""
import gzip
import hashlib
import hmac
import json

from sqlalchemy import select

from ..database import unit_of_work
from ..extensions import db
from ..models import Device, SyncReceipt, SyncState
from . import apply
from .protocol import MAX_CHANGES, MIN_PROTOCOL, PROTOCOL, Refused


def _mac(key_hex: str, changes: list) -> str:
    body = json.dumps(changes, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(bytes.fromhex(key_hex), body, hashlib.sha256).hexdigest()


def export(credential: str) -> tuple[bytes, int]:
    """The pending changes of this laptop as a signed bundle, and how many it holds."""
    from .laptop import _order, change_of

    device_uuid, _, token = credential.partition(":")
    states = sorted(db.session.scalars(select(SyncState).where(SyncState.state == "pending")), key=_order)
    changes = [c for c in (change_of(s) for s in states) if c is not None]
    key = hashlib.sha256(token.encode()).hexdigest()
    doc = {"protocol": PROTOCOL, "device": device_uuid, "changes": changes, "mac": _mac(key, changes)}
    return gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), mtime=0), len(changes)


def _read(raw: bytes) -> dict:
    try:
        doc = json.loads(gzip.decompress(raw))
    except (OSError, ValueError, EOFError):
        raise Refused(400, "bad_request", "not a sync bundle") from None
    if not isinstance(doc, dict):
        raise Refused(400, "bad_request", "not a sync bundle")
    version = doc.get("protocol")
    if not isinstance(version, int) or version < MIN_PROTOCOL:
        raise Refused(426, "protocol_outdated", "the bundle was made by an older app: update it")
    if version > PROTOCOL:
        raise Refused(400, "protocol_unknown", "the bundle was made by a newer app: update this one")
    return doc


def kind_of(raw: bytes) -> str:
    """"pull" (district → laptop) or "push" (laptop → district)."""
    return "pull" if _read(raw).get("kind") == "pull" else "push"


RECEIPT_DAYS = 120  # the answers a pull bundle carries: the device's changes the district applied this recently


def export_pull(device_uuid: str, since: int = 0) -> tuple[bytes, int, int]:
    """On the district: the pull of one device above `since` as a signed bundle; (bytes, records, cursor)."""
    from datetime import timedelta

    from ..models.base import utcnow
    from . import devices, serve
    from .protocol import PULL_LIMIT

    device = db.session.scalar(select(Device).where(Device.uuid == device_uuid))
    if device is None or device.token_hash is None:
        raise Refused(400, "unknown_device", "no enrolled laptop has this UUID")
    if device.revoked_at is not None:
        raise Refused(401, "device_revoked", "this laptop was revoked")
    devices.check_scope(device)
    pages, cursor, ref = [], since, None
    while True:
        page = serve.pull(device, cursor, PULL_LIMIT, ref)
        ref = page.get("ref", ref)
        pages.append(page)
        cursor = page["seq"]
        if not page.get("more"):
            break
    receipts = db.session.scalars(select(SyncReceipt).where(
        SyncReceipt.device_id == device.id, SyncReceipt.at >= utcnow() - timedelta(days=RECEIPT_DAYS))
        .order_by(SyncReceipt.id))
    answers = apply.with_sequence([{"id": r.change_id, "status": "duplicate", "entity": r.entity,
                                    "uuid": r.server_uuid or r.record_uuid} for r in receipts])
    body = {"protocol": PROTOCOL, "kind": "pull", "device": device.uuid, "since": since, "seq": cursor,
            "pages": pages, "answers": answers}
    doc = {**body, "mac": _mac(device.token_hash, body)}
    raw = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), mtime=0)
    return raw, sum(len(p["records"]) for p in pages), cursor


def import_pull(raw: bytes, credential: str):
    """On the laptop: check a pull bundle made for this laptop and take it as a pull (answers first, as a sync
    run pushes before it pulls). Returns the report, or None when the laptop already holds all of it."""
    from . import laptop

    doc = _read(raw)
    device_uuid, _, token = credential.partition(":")
    body = {k: v for k, v in doc.items() if k != "mac"}
    if doc.get("kind") != "pull" or doc.get("device") != device_uuid or not hmac.compare_digest(
            _mac(hashlib.sha256(token.encode()).hexdigest(), body), str(doc.get("mac"))):
        raise Refused(401, "bad_signature", "the bundle was not made for this laptop by its district, or was changed")
    cursor = int(laptop.meta("pull_seq", "0"))
    if int(doc["since"]) > cursor:
        raise Refused(400, "gap", f"the bundle starts after record {doc['since']} but this laptop holds only up to "
                                  f"{cursor}: export it again with --since {cursor}", cursor=cursor)
    report = laptop.Report()
    pending = {s.change_id: s for s in db.session.scalars(select(SyncState).where(SyncState.state == "pending"))}
    answers = [a for a in doc.get("answers", []) if a.get("id") in pending]
    if answers:
        from ..database import writing

        with writing():
            laptop._record(answers, pending, report)
    if int(doc["seq"]) <= cursor and not answers:
        return None
    for page in doc["pages"]:
        laptop.take_page(page, report)
    return report


def import_(raw: bytes) -> list[dict]:
    """Check and apply a bundle on the district (one unit of work per batch); the answers, per change."""
    doc = _read(raw)
    if not isinstance(doc.get("changes"), list):
        raise Refused(400, "bad_request", "not a sync bundle")
    device = db.session.scalar(select(Device).where(Device.uuid == str(doc.get("device"))))
    if device is None or device.token_hash is None or not hmac.compare_digest(
            _mac(device.token_hash, doc["changes"]), str(doc.get("mac"))):
        raise Refused(401, "bad_signature", "the bundle was not made by an enrolled laptop or was changed")
    if device.revoked_at is not None:
        raise Refused(401, "device_revoked", "this laptop was revoked by the district")
    from . import devices

    devices.check_scope(device)
    answers = []
    changes = doc["changes"]
    for i in range(0, len(changes), MAX_CHANGES):
        with unit_of_work():
            batch = apply.apply_changes(device, changes[i:i + MAX_CHANGES])
        answers += apply.with_sequence(batch)
        db.session.commit()
    return answers
