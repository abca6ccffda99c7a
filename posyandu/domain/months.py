"""The month of a Posyandu as a report: open → submitted → verified → approved, and who may move it.

Plain rules, no database: which action leads where, which role acts at which level, when a report is on time.
The verification level (Puskesmas nakes) is a district setting; without it a submitted month goes straight to
the kelurahan/desa for approval.
"""
from datetime import date, datetime, timedelta

from .reports import month_end

STATES = ("open", "submitted", "verified", "approved")
ACTIONS = ("submit", "verify", "approve", "reopen")

# Roles that act at each level; the district acts at every level (and alone may undo a higher level's step).
SUBMIT_ROLES = ("ketua", "kelurahan_clerk", "district_admin")
VERIFY_ROLES = ("nakes", "district_admin")
APPROVE_ROLES = ("kelurahan_clerk", "district_admin")
# Sending back / reopening: the level that took the month to its present state, or the district.
REOPEN_ROLES = {"submitted": ("nakes", "kelurahan_clerk", "district_admin"),
                "verified": ("nakes", "kelurahan_clerk", "district_admin"),
                "approved": ("kelurahan_clerk", "district_admin")}


def levels(verify: bool) -> tuple[str, ...]:
    """The states a month passes through in a district (the verify level is the district's choice)."""
    return STATES if verify else ("open", "submitted", "approved")


def target(action: str, state: str, verify: bool) -> str | None:
    """The state `action` leads to from `state`, or None when the action does not apply there."""
    if action == "submit" and state == "open":
        return "submitted"
    if action == "verify" and state == "submitted" and verify:
        return "verified"
    if action == "approve" and state == ("verified" if verify else "submitted"):
        return "approved"
    if action == "approve" and not verify and state == "verified":  # verified before the district dropped the level
        return "approved"
    if action == "reopen" and state in REOPEN_ROLES:
        return "open"
    return None


def role_may(role: str, action: str, state: str) -> bool:
    """Whether a role acts at the level of this action (scope is checked elsewhere)."""
    if action == "submit":
        return role in SUBMIT_ROLES
    if action == "verify":
        return role in VERIFY_ROLES
    if action == "approve":
        return role in APPROVE_ROLES
    if action == "reopen":
        return role in REOPEN_ROLES.get(state, ())
    return False


def deadline(month: date, timely_days: int) -> date:
    """The last day a report of `month` counts as on time: `timely_days` after the month ends."""
    return month_end(month) + timedelta(days=timely_days)


def on_time(submitted_local: datetime | date, month: date, timely_days: int) -> bool:
    """Submitted (local date, the district's time zone) no later than the deadline."""
    day = submitted_local.date() if isinstance(submitted_local, datetime) else submitted_local
    return day <= deadline(month, timely_days)


def frozen(state: str | None) -> bool:
    """Approved months are frozen: their records cannot change until the month is reopened."""
    return state == "approved"
