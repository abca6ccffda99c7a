"""A bundle: the laptop's pending changes in a file (USB stick, WhatsApp) for a district with no link to it.

Gzip JSON `{"protocol", "device", "changes", "mac"}`; the MAC is HMAC-SHA256 of the changes keyed with the SHA-256
of the device's token — the value the district stores — so the district can check that the enrolled laptop made
the file and nobody changed it on the way. Importing applies the changes exactly as a push (docs/sync.md)."""
import gzip
import hashlib
import hmac
import json

from sqlalchemy import select

from ..database import unit_of_work
from ..extensions import db
from ..models import Device, SyncState
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


def import_(raw: bytes) -> list[dict]:
    """Check and apply a bundle on the district (one unit of work per batch); the answers, per change."""
    try:
        doc = json.loads(gzip.decompress(raw))
    except (OSError, ValueError, EOFError):
        raise Refused(400, "bad_request", "not a sync bundle") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("changes"), list):
        raise Refused(400, "bad_request", "not a sync bundle")
    version = doc.get("protocol")
    if not isinstance(version, int) or version < MIN_PROTOCOL:
        raise Refused(426, "protocol_outdated", "the laptop must update the app")
    if version > PROTOCOL:
        raise Refused(400, "protocol_unknown", "this server speaks an older protocol")
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
