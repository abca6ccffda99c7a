"""The Posyandu's kit: kinds of equipment, conditions, and when a scale or tensimeter is due for its check.

Plain Python: no Flask, no database. Scales and tensimeters are calibrated or checked against a known weight or a
reference; the interval is data (12 months by default), overridable per item.
"""
from datetime import date

KINDS = ("laptop", "baby_scale", "dacin", "standing_scale", "length_board", "stadiometer", "lila_tape", "head_tape",
         "tensimeter")
# Kinds with a calibration or check date; a scale past its check warns on the hari buka.
CHECKED = ("baby_scale", "dacin", "standing_scale", "tensimeter")
SCALES = ("baby_scale", "dacin", "standing_scale")
CONDITIONS = ("baik", "rusak_ringan", "rusak_berat", "hilang")
USABLE = ("baik", "rusak_ringan")
DEFAULT_CHECK_MONTHS = 12
DUE_SOON_DAYS = 30


def add_months(d: date, months: int) -> date:
    """The same day `months` later (the last day of the month when it has fewer days)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def next_check(checked_on: date | None, months: int | None = None) -> date | None:
    """When the next check is due; None when it was never checked."""
    if checked_on is None:
        return None
    return add_months(checked_on, months or DEFAULT_CHECK_MONTHS)


def check_state(kind: str, checked_on: date | None, months: int | None, on: date) -> str | None:
    """ok, due_soon (within 30 days), overdue (past its check), never (no check recorded); None for a kind that has
    no check (laptops, tapes, boards)."""
    if kind not in CHECKED:
        return None
    due = next_check(checked_on, months)
    if due is None:
        return "never"
    if due < on:
        return "overdue"
    return "due_soon" if (due - on).days <= DUE_SOON_DAYS else "ok"


def needs_warning(kind: str, condition: str, checked_on: date | None, months: int | None, on: date) -> bool:
    """A usable scale (not broken beyond use, not lost) that is past its check or was never checked."""
    return (kind in SCALES and condition in USABLE
            and check_state(kind, checked_on, months, on) in ("overdue", "never"))
