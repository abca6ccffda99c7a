"""One person, one record: leaving the roll, transfers, and what a NIK says about its holder."""
from datetime import date

from .nik import nik_matches, nik_problem

# Why a person leaves the roll. Deleting is only for a record entered by mistake.
LEAVE_REASONS = ("pindah", "meninggal", "lainnya")
# A transfer (pindah) between Posyandu: asked by the receiving one, decided by the sending one (or above).
TRANSFER_REQUESTED, TRANSFER_APPROVED, TRANSFER_REJECTED = "requested", "approved", "rejected"


def on_roll(left_on: date | None, first_day: date) -> bool:
    """Whether a person is on the roll in the period starting on first_day: someone who left in March still
    counts in February (and in March, the month they left)."""
    return left_on is None or left_on > first_day


def nik_disagrees(nik: str | None, birth_date: date | None, sex: str | None) -> bool:
    """The birth date or sex coded in a (well-formed) NIK differ from the form's."""
    if not nik or birth_date is None or sex not in ("L", "P") or nik_problem(nik):
        return False
    return not nik_matches(nik, birth_date, sex)


def initial(name: str | None) -> str:
    """What a user outside a person's scope may see of the name: its first letter."""
    name = (name or "").strip()
    return f"{name[0].upper()}." if name else "—"
