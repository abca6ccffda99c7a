"""Measurements as a kader types them: a decimal comma or point, and a value in the unit the field asks for.

A value far outside what the person's group can weigh or measure is almost always a slip of unit or comma
(3200 typed for 3,2 kg, 0,85 m for 85 cm, 124 for 12,4 kg): it is said as such, with the unit expected and the
likely value, before any WHO plausibility check calls it an implausible child.
"""
import re
from dataclasses import dataclass

# ASCII digits (Python's \d also takes "٩" and "１"), at most six before the separator and four after: every real
# measurement and any unit slip of one fit, a 40-digit number (which no formatter can show back) does not.
_NUMBER = re.compile(r"^[+-]?([0-9]{1,6}([.,][0-9]{0,4})?|[.,][0-9]{1,4})$", re.ASCII)

# What each field can hold, by life-cycle group: (low, high). Wide enough for every real person of the group,
# narrow enough to catch a unit slip. Unit per field below.
UNITS = {"weight_kg": "kg", "length_cm": "cm", "head_cm": "cm", "muac_cm": "cm", "waist_cm": "cm"}
_ADULT = {"weight_kg": (20, 250), "length_cm": (100, 220), "muac_cm": (13, 50), "waist_cm": (40, 200)}
RANGES = {
    "balita": {"weight_kg": (1, 50), "length_cm": (40, 130), "head_cm": (28, 58), "muac_cm": (7, 25)},
    "usia_sekolah_remaja": {"weight_kg": (8, 180), "length_cm": (80, 210), "muac_cm": (10, 50),
                            "waist_cm": (35, 200)},
    "ibu_hamil": _ADULT,
    "nifas": _ADULT,
    "dewasa": _ADULT,
    "lansia": _ADULT,
}


def parse_decimal(text: str | None) -> float | None:
    """ "12,4", "12.4", " 12 " → a float; "" → None; anything else (two separators, letters) → ValueError."""
    if text is None or not text.strip():
        return None
    text = text.strip().replace(" ", "")
    if not _NUMBER.match(text):
        raise ValueError(text)
    return float(text.replace(",", "."))


@dataclass(frozen=True)
class UnitSlip:
    """A value outside the group's range: what is expected and, when a power of ten fits, what was meant."""

    field: str
    value: float
    low: float
    high: float
    unit: str
    likely: float | None


def unit_slip(field: str, value: float | None, group: str, previous: float | None = None) -> UnitSlip | None:
    """The slip, or None when the value fits (or the field has no range for the group). The likely value is the
    value moved by a power of ten into the range: the one nearest last month's value when there is one, else the
    smallest move."""
    bounds = RANGES.get(group, {}).get(field)
    if value is None or bounds is None:
        return None
    low, high = bounds
    if low <= value <= high:
        return None
    fits = [round(value * f, 3) for f in (0.1, 10, 0.01, 100, 0.001, 1000) if low <= value * f <= high]
    if fits and previous is not None:
        fits.sort(key=lambda v: abs(v - previous))
    return UnitSlip(field, value, low, high, UNITS[field], fits[0] if fits else None)
