"""Who is signing: a kader proves she is herself with her own account (linked to her kader record) or, on a shared
Posyandu login, with her personal PIN (set by the ketua or the kelurahan, kept as an argon2id hash, throttled with
backoff). A typed signature must be her own name."""
import re
import unicodedata
from datetime import date

from flask import current_app
from sqlalchemy import or_, select

from ..domain.errors import Invalid
from ..extensions import db
from ..models import Kader, KaderRole, KaderSigner, User
from ..models.base import utcnow
from . import throttle
from .accounts import check_password, hash_password
from .audit import acting

PIN_LENGTH = 6
SET_PIN = ("kelurahan_clerk", "ketua")
LINK = ("district_admin", "kelurahan_clerk")
ACCOUNT_ROLES = ("kader", "ketua")  # the accounts a kader may have


class IdentityError(Invalid):
    """The signer is not identified (the code says why: pin_needed, no_pin, wrong_pin, throttled, pin_format,
    taken, role …); `retry_after` in seconds when throttled."""

    def __init__(self, code: str, retry_after: int = 0):
        super().__init__(code)
        self.retry_after = retry_after


def signer_of(kader_id: int) -> KaderSigner | None:
    return db.session.scalar(select(KaderSigner).where(KaderSigner.kader_id == kader_id))


def linked_kader_id(user: User) -> int | None:
    """The kader record the account belongs to, if linked."""
    return db.session.scalar(select(KaderSigner.kader_id).where(KaderSigner.user_id == user.id))


def _row(kader: Kader) -> KaderSigner:
    row = signer_of(kader.id)
    if row is None:
        row = KaderSigner(kader_id=kader.id)
        db.session.add(row)
    return row


def pin_problem(pin: str | None) -> str | None:
    """Why a new PIN will not do: six ASCII digits, not one digit repeated nor a run like 123456."""
    if not pin or not re.fullmatch(r"[0-9]{%d}" % PIN_LENGTH, pin):
        return "pin_format"
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in zip(digits, digits[1:])}
    if steps in ({0}, {1}, {-1}):
        return "pin_weak"
    return None


def set_pin(actor: User, kader: Kader, pin: str) -> None:
    """The ketua or the kelurahan sets (or replaces) the kader's signing PIN; audited without the PIN."""
    if actor.role not in SET_PIN:
        raise IdentityError("role")
    if (problem := pin_problem(pin)) is not None:
        raise IdentityError(problem)
    _store_pin(actor, kader, pin, by_herself=False)


def change_own_pin(actor: User, kader: Kader, current: str | None, new: str) -> None:
    """The kader replaces her PIN with one only she knows: on her own account without the old PIN, on a shared
    login by typing the old one (throttled like signing). The record says she set it herself."""
    if actor.role not in ACCOUNT_ROLES:
        raise IdentityError("role")
    if (problem := pin_problem(new)) is not None:
        raise IdentityError(problem)
    identify(actor, kader, current)
    _store_pin(actor, kader, new, by_herself=True)


def _store_pin(actor: User, kader: Kader, pin: str, by_herself: bool) -> None:
    acting(db.session, actor)
    row = _row(kader)
    row.pin_hash, row.pin_set_at, row.pin_set_by_id = hash_password(pin), utcnow(), actor.id
    row.pin_self_set = by_herself
    db.session.flush()
    throttle.clear(f"pin:{kader.id}")
    db.session.flush()


def account_choices(kader: Kader, posyandu_ids: set[int]) -> list[User]:
    """Kader and ketua accounts of the Posyandu where she serves now (and in scope) that are not someone else's."""
    today = date.today()
    where = set(db.session.scalars(select(KaderRole.posyandu_id).where(
        KaderRole.kader_id == kader.id, KaderRole.start_date <= today,
        or_(KaderRole.end_date.is_(None), KaderRole.end_date >= today)))) & posyandu_ids
    taken = select(KaderSigner.user_id).where(KaderSigner.user_id.is_not(None), KaderSigner.kader_id != kader.id)
    return list(db.session.scalars(select(User).where(
        User.role.in_(ACCOUNT_ROLES), User.posyandu_id.in_(where), User.active, User.id.not_in(taken))
        .order_by(User.username)))


def link_account(actor: User, kader: Kader, user: User | None) -> None:
    """Link the kader to her own account (or unlink with None): signing from it then needs no PIN."""
    if actor.role not in LINK:
        raise IdentityError("role")
    if user is not None and (user.role not in ACCOUNT_ROLES or user.district_id != actor.district_id):
        raise IdentityError("role")
    other = db.session.scalar(select(KaderSigner).where(KaderSigner.user_id == user.id)) if user else None
    if other is not None and other.kader_id != kader.id:
        raise IdentityError("taken")
    acting(db.session, actor)
    _row(kader).user_id = user.id if user else None
    db.session.flush()


def pin_rule() -> throttle.Rule:
    free, base, cap = current_app.config["PIN_THROTTLE"]
    return throttle.Rule(free, base, cap, 86400)


def identify(actor: User, kader: Kader, pin: str | None) -> str:
    """How the kader at the screen is known to be `kader`: "account" when the logged-in account is hers, "pin" when
    her PIN was typed; raises IdentityError otherwise. A wrong PIN counts toward her PIN's backoff."""
    row = signer_of(kader.id)
    if row is not None and row.user_id == actor.id:
        return "account"
    if row is None or not row.pin_hash:
        raise IdentityError("no_pin")
    if not pin:
        raise IdentityError("pin_needed")
    key = f"pin:{kader.id}"
    # Counted in this transaction (call before writing anything): a wrong PIN commits its count before the refusal;
    # a right one clears the count with the signature, and a signature that fails leaves the count as it was.
    verdict = throttle.attempt(key, pin_rule(), commit=False)
    if not verdict.allowed:
        raise IdentityError("throttled", verdict.retry_after)
    if len(pin) > 32 or not check_password(row.pin_hash, pin):
        # The one deliberate commit inside a use case: the wrong PIN's count must outlive the refusal (the
        # caller's unit of work rolls back), or guessing would cost nothing. Nothing else is written before it.
        db.session.commit()
        raise IdentityError("wrong_pin")
    throttle.clear(key)
    return "pin"


def _folded(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def same_name(typed: str | None, name: str) -> bool:
    """A typed signature names the signer: the same words, whatever the case and spacing."""
    return bool(typed) and _folded(typed) == _folded(name)


def ketua_of(posyandu_id: int, on: date) -> Kader | None:
    """The kader holding the ketua position of the Posyandu on the date."""
    return db.session.scalar(select(Kader).join(KaderRole).where(
        KaderRole.posyandu_id == posyandu_id, KaderRole.role == "ketua", KaderRole.start_date <= on,
        or_(KaderRole.end_date.is_(None), KaderRole.end_date >= on), Kader.deleted_at.is_(None))
        .order_by(KaderRole.start_date.desc()).limit(1))
