"""The laptops of a district: registered with a one-time code, enrolled for a credential, revocable.

The code and the credential are random and only their SHA-256 is stored: both are high-entropy secrets, so a
slow password hash adds nothing; the code is also short-lived, single-use and its guesses are throttled.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import Device, Kecamatan, Kelurahan, Posyandu, User
from ..models.base import utcnow
from ..services.audit import acting
from .protocol import Refused

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone
CODE_LENGTH = 10
CODE_HOURS = 72
# A pull (a GET, several per sync run) writes the device's last contact only when the stored one is older than
# this: the devices page shows it to the minute, and a sync run's pages do not each write a row.
SEEN_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """What the person typed ("abcd-efgh-jk ") as the code that was issued ("ABCDEFGHJK")."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def district_of(posyandu_id: int | None, kelurahan_id: int | None) -> int | None:
    kel = kelurahan_id or db.session.scalar(select(Posyandu.kelurahan_id).where(Posyandu.id == posyandu_id))
    return db.session.scalar(select(Kecamatan.district_id).join(Kelurahan, Kelurahan.kecamatan_id == Kecamatan.id)
                             .where(Kelurahan.id == kel))


def register(actor: User | None, name: str, posyandu_id: int | None = None,
             kelurahan_id: int | None = None) -> tuple[Device, str]:
    """A new laptop for one Posyandu or one kelurahan, and its one-time enrolment code (shown once). Flushes."""
    if (posyandu_id is None) == (kelurahan_id is None):
        raise ValueError("a device has one scope: a Posyandu or a kelurahan")
    district_id = district_of(posyandu_id, kelurahan_id)
    if district_id is None:
        raise ValueError("unknown Posyandu or kelurahan")
    acting(db.session, actor)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    device = Device(name=name.strip()[:100], district_id=district_id, posyandu_id=posyandu_id,
                    kelurahan_id=kelurahan_id if posyandu_id is None else None, code_hash=_digest(code),
                    code_expires_at=utcnow() + timedelta(hours=CODE_HOURS),
                    created_by_id=actor.id if actor is not None else None)
    db.session.add(device)
    db.session.flush()
    return device, format_code(code)


def enrol(code: str, label: str | None) -> tuple[Device, str]:
    """Burn a valid enrolment code and hand out the device's credential (`<uuid>:<token>`). Flushes."""
    device = db.session.scalar(select(Device).where(Device.code_hash == _digest(normalise_code(code))))
    if device is None or device.revoked_at is not None or device.code_expires_at < utcnow():
        raise Refused(400, "code_invalid", "enrolment code unknown, used or expired")
    token = secrets.token_urlsafe(32)
    device.code_hash, device.code_expires_at = None, None
    device.token_hash, device.enrolled_at, device.last_seen_at = _digest(token), utcnow(), utcnow()
    device.label = (label or "")[:100] or None
    check_scope(device)
    db.session.flush()
    return device, f"{device.uuid}:{token}"


def authenticate(header: str | None, seen_every: timedelta = timedelta(0)) -> Device:
    """The device named by `Authorization: Device <uuid>:<token>`, or Refused (401 / 403 with a code). Its last
    contact is written when older than `seen_every` (a pull passes SEEN_EVERY; a push writes anyway)."""
    scheme, _, credential = (header or "").partition(" ")
    if scheme != "Device" or ":" not in credential:
        raise Refused(401, "no_credential", "Authorization: Device <uuid>:<token> expected")
    device_uuid, _, token = credential.strip().partition(":")
    device = db.session.scalar(select(Device).where(Device.uuid == device_uuid))
    if device is None or device.token_hash is None or not secrets.compare_digest(device.token_hash, _digest(token)):
        raise Refused(401, "bad_credential", "unknown device or wrong token")
    if device.revoked_at is not None:
        raise Refused(401, "device_revoked", "this laptop was revoked by the district; enrol it again")
    check_scope(device)
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at >= seen_every:
        device.last_seen_at = now
    return device


def check_scope(device: Device) -> None:
    """Refuse a device whose Posyandu (or kelurahan) no longer exists as an active scope."""
    if device.posyandu_id is not None:
        pos = db.session.get(Posyandu, device.posyandu_id)
        if pos is None or not pos.active:
            raise Refused(403, "out_of_scope", "the device's Posyandu is not active")
    elif device.kelurahan_id is None or db.session.get(Kelurahan, device.kelurahan_id) is None:
        raise Refused(403, "out_of_scope", "the device has no scope")


def posyandu_ids(device: Device):
    """A select of the ids of the Posyandu the device holds."""
    if device.posyandu_id is not None:
        return select(Posyandu.id).where(Posyandu.id == device.posyandu_id)
    return select(Posyandu.id).where(Posyandu.kelurahan_id == device.kelurahan_id)


def revoke(actor: User, device: Device) -> None:
    """Refuse the device from now on (its credential and any unused code stop working). Flushes."""
    if device.revoked_at is not None:
        return
    acting(db.session, actor)
    device.revoked_at, device.revoked_by_id = utcnow(), actor.id if actor is not None else None
    device.code_hash, device.code_expires_at = None, None
    db.session.flush()


def of_district(district_id: int) -> list[Device]:
    """The district's laptops, newest first."""
    return list(db.session.scalars(select(Device).where(Device.district_id == district_id)
                                   .order_by(Device.revoked_at.is_not(None), Device.created_at.desc(), Device.id.desc())))
