"""KMS rules on a child's weighing history: N/T/O/B, 2T, BGM, new stunting, and changes that cannot be real.

Plain Python. Dates are datetime.date; weights in kg; z-scores from domain.growth.
"""
from dataclasses import dataclass
from datetime import date

from . import rules

# KBM (kenaikan berat badan minimal) in grams by month of age, as printed in the KMS of Permenkes 155/2010.
# Sources differ, so the app keeps versions of this table in the database; this is the first version's data.
KBM_KMS_2010 = {1: 800, 2: 900, 3: 800, 4: 600, 5: 500, 6: 400, 7: 400, 8: 300, 9: 300, 10: 300, 11: 200,
                **{m: 200 for m in range(12, 61)}}


@dataclass(frozen=True)
class Weighing:
    on: date
    weight_kg: float
    code: str | None = None  # N/T/O/B as computed when it was recorded


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def kbm_grams(table: dict, age_months: int) -> int:
    """Minimal gain for a weighing at this age (completed months); month 0 uses month 1's value."""
    month = str(min(max(age_months, 1), 60))
    return int(table[month] if month in table else table[int(month)])


def previous_weighing(history: list[Weighing], on: date) -> Weighing | None:
    """The latest weighing in a calendar month before this one (a second weighing in the same month is not a
    new month)."""
    earlier = [w for w in history if _month_index(w.on) < _month_index(on)]
    return max(earlier, key=lambda w: w.on) if earlier else None


def ntob(history: list[Weighing], on: date, weight_kg: float, age_months: int, kbm: dict) -> str:
    """B first weighing ever; O not weighed last month; N gained at least the KBM; otherwise T."""
    prev = previous_weighing(history, on)
    if prev is None:
        return "B"
    if _month_index(prev.on) != _month_index(on) - 1:
        return "O"
    gain_g = round((weight_kg - prev.weight_kg) * 1000)
    return "N" if gain_g >= kbm_grams(kbm, age_months) else "T"


def is_two_t(history: list[Weighing], on: date, code: str) -> bool:
    """Two consecutive weighings coded T: this one, and last month's."""
    prev = previous_weighing(history, on)
    return code == "T" and prev is not None and prev.code == "T"


def is_bgm(waz: float | None) -> bool:
    """Bawah Garis Merah: weight-for-age below −3 SD."""
    return waz is not None and waz < rules.Z_SEVERE


def is_new_stunting(previous_lhaz: float | None, lhaz: float | None) -> bool:
    """Stunted now (< −2 SD) while the previous valid length/height-for-age was not."""
    return (previous_lhaz is not None and lhaz is not None and previous_lhaz >= rules.Z_MODERATE
            and lhaz < rules.Z_MODERATE)


def implausible_change(prev_on: date | None, prev_weight: float | None, prev_length: float | None,
                       on: date, weight: float | None, length: float | None) -> list[str]:
    """Changes since the previous measurement that a child cannot make; codes for the kader to check.

    Limits are generous on purpose (a sick child can lose weight fast): they catch typing slips like 8.5 for
    5.8 or 76 for 67, not real illness. `length` values must be comparable (both lying or both standing).
    """
    if prev_on is None:
        return []
    days = max((on - prev_on).days, 1)
    months = days / rules.DAYS_PER_MONTH
    problems = []
    if weight is not None and prev_weight:
        change = weight - prev_weight
        if change < -max(0.15 * prev_weight, 0.5):
            problems.append("weight_drop")
        if change > max(1.5 * months, 1.0):
            problems.append("weight_jump")
    if length is not None and prev_length:
        change = length - prev_length
        if change < -1.5:
            problems.append("length_shrink")
        if change > 5.0 * max(months, 1.0):
            problems.append("length_jump")
    return problems


@dataclass(frozen=True)
class Gain:
    """This month's weight against the previous weighing, in grams, beside the KBM for the age."""

    grams: int
    kbm: int
    since: date
    last_month: bool  # the previous weighing was in the month before (only then does the KBM apply)


def gain(history: list[Weighing], on: date, weight_kg: float, age_months: int, kbm: dict) -> Gain | None:
    """The gain the kader copies into the KMS (+300 g), from the same previous weighing as N/T/O/B."""
    prev = previous_weighing(history, on)
    if prev is None:
        return None
    return Gain(round((weight_kg - prev.weight_kg) * 1000), kbm_grams(kbm, age_months), prev.on,
                _month_index(prev.on) == _month_index(on) - 1)
