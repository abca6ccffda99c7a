"""WHO growth z-scores (WHO Child Growth Standards 2006 and WHO Reference 2007), vectorised with numpy.

Reproduces WHO's own R packages: `anthro` (children under 60 months) and `anthroplus` (60 months up
to, but excluding, 229 months; weight-for-age below 121 months). Plain Python + numpy, no Flask.
"""
from __future__ import annotations

import datetime as _dt
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import rules
from .rules import DAYS_PER_MONTH, LYING_STANDING_CM, LYING_STANDING_DAY, WHO_2006_LAST_DAY

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "who"
INDICATORS = ("waz", "lhaz", "whz", "baz", "hcz", "acz")
# (low, high) limits; a z-score outside them is flagged as implausible (WHO anthro/anthroplus).
FLAG_LIMITS = {"waz": (-6, 5), "lhaz": (-6, 6), "whz": (-5, 5), "baz": (-5, 5), "hcz": (-5, 5), "acz": (-5, 5)}

# file name and key scale (10 for tables indexed in 0.1 cm steps)
_TABLES = {
    "wei": ("weianthro.txt", 1), "len": ("lenanthro.txt", 1), "bmi": ("bmianthro.txt", 1),
    "hc": ("hcanthro.txt", 1), "ac": ("acanthro.txt", 1),
    "wfl": ("wflanthro.txt", 10), "wfh": ("wfhanthro.txt", 10),
    "wfa07": ("wfawho2007.txt", 1), "hfa07": ("hfawho2007.txt", 1), "bfa07": ("bfawho2007.txt", 1),
}


@lru_cache(maxsize=None)
def _table(name: str) -> tuple[np.ndarray, int, int]:
    """Load one LMS table once: rows (L, M, S) x [boys' keys, girls' keys, NaN sentinel], first key, keys per sex."""
    fname, scale = _TABLES[name]
    rows = [line.split("\t") for line in (DATA_DIR / fname).read_text().splitlines()[1:] if line.strip()]
    sex = np.array([int(r[0]) for r in rows])
    key = np.rint(np.array([float(r[1]) for r in rows]) * scale).astype(int)
    first, size = int(key.min()), int(key.max() - key.min() + 1)
    flat = np.full((3, 2 * size + 1), np.nan)  # the last column stays NaN for "no such row"
    flat[:, (sex - 1) * size + key - first] = np.array([[float(v) for v in r[2:5]] for r in rows]).T
    return flat, first, size


def _lookup(name: str, sex: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S for integer keys (NaN key or row missing -> NaN)."""
    flat, first, size = _table(name)
    idx = key - first
    ok = (idx >= 0) & (idx < size) & ((sex == 1) | (sex == 2))  # False for NaN
    pos = np.where(ok, (sex - 1) * size + idx, 2 * size).astype(np.intp)
    return flat[0].take(pos), flat[1].take(pos), flat[2].take(pos)


def _lookup_interp(name: str, sex: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L, M, S linearly interpolated between neighbouring rows, exactly as WHO's R code does it."""
    scale = _TABLES[name][1]
    k = np.trunc(x * scale)
    # WHO's upper row is trunc(x * scale + 1), not low + 1: near a power of two the "+ 1" rounds, e.g.
    # 102.39999999999999 cm * 10 = 1023.9999999999999, + 1 = 1025.0, so WHO interpolates towards 102.5 cm
    upp_k = np.trunc(x * scale + 1)
    diff = (x - k / scale) / (0.1 if scale == 10 else 1.0)  # same float steps as anthro/anthroplus
    low, upp = _lookup(name, sex, k), _lookup(name, sex, upp_k)
    pos = diff > 0  # an exact table row needs no upper neighbour
    return tuple(np.where(pos, lo + diff * (up - lo), lo) for lo, up in zip(low, upp))


def _z_lms(y, l, m, s):
    """Plain LMS z-score (length/height-for-age, head circumference-for-age)."""
    return ((y / m) ** l - 1) / (s * l)


def _sd(l, m, s, k):
    """Measurement at k SD."""
    return m * (1 + l * s * k) ** (1 / l)


def _z_restricted(y, l, m, s):
    """LMS z-score with WHO's restricted extrapolation beyond +/-3 SD (fixed SD distance of the 2-3 SD band)."""
    z = _z_lms(y, l, m, s)
    hi, lo = z > 3, z < -3
    if hi.any():
        sd3, sd2 = _sd(l[hi], m[hi], s[hi], 3), _sd(l[hi], m[hi], s[hi], 2)
        z[hi] = 3 + (y[hi] - sd3) / (sd3 - sd2)
    if lo.any():
        sd3, sd2 = _sd(l[lo], m[lo], s[lo], -3), _sd(l[lo], m[lo], s[lo], -2)
        z[lo] = -3 + (y[lo] - sd3) / (sd2 - sd3)
    return z


def _y_restricted(z, l, m, s):
    """Inverse of _z_restricted: measurement for a z-score."""
    y = _sd(l, m, s, z)
    hi, lo = z > 3, z < -3
    y = np.where(hi, _sd(l, m, s, 3) + (z - 3) * (_sd(l, m, s, 3) - _sd(l, m, s, 2)), y)
    return np.where(lo, _sd(l, m, s, -3) + (z + 3) * (_sd(l, m, s, -2) - _sd(l, m, s, -3)), y)


def _floats(x) -> np.ndarray:
    """Float array; None and non-numeric-like values become NaN."""
    a = np.asarray(x)
    if a.dtype == object:
        a = np.array([np.nan if v is None else v for v in a.ravel()], dtype=float).reshape(a.shape)
    return a.astype(float)


def _positive(x) -> np.ndarray:
    """Measurements <= 0 or non-finite count as missing (WHO: measure <= 0 -> NA)."""
    a = _floats(x).copy()
    a[~np.isfinite(a) | (a <= 0)] = np.nan
    return a


def _codes(x, yes: tuple[str, ...], n: int) -> np.ndarray:
    """Boolean array: which entries (strings, case-insensitive) are in `yes`."""
    if x is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(x)
    if a.dtype.kind == "b":
        return np.broadcast_to(a, (n,)).copy()
    if a.dtype.kind in "iuf":  # numeric oedema codes: 1 = yes, 2 = no (as in WHO anthro)
        return np.broadcast_to((a == 1) & ("1" in yes), (n,)).copy()
    a = np.broadcast_to(a.astype(str), (n,))
    return np.isin(a, yes)


def _round_up(x: np.ndarray) -> np.ndarray:
    """WHO's age rounding: .5 and above goes up (not banker's rounding)."""
    f = np.floor(x)
    return f + ((x - f) >= 0.5)


def score_arrays(sex, age_days, weight_kg, length_cm, measure=None, head_cm=None, muac_cm=None,
                 oedema=None, decimals: int | None = 2) -> dict[str, np.ndarray]:
    """Vectorised z-scores and implausibility flags for many children (NaN where missing or not applicable)."""
    sex = _floats(sex)
    n = np.broadcast(sex, _floats(age_days), _floats(weight_kg), _floats(length_cm)).size
    b = lambda a: np.broadcast_to(a, (n,)).astype(float)  # noqa: E731
    sex = b(sex)
    sex[(sex != 1) & (sex != 2)] = np.nan
    age = b(_floats(age_days))
    age[age < 0] = np.nan
    weight, length = b(_positive(weight_kg)), b(_positive(length_cm))
    head = b(_positive(np.nan if head_cm is None else head_cm))
    muac = b(_positive(np.nan if muac_cm is None else muac_cm))
    oed = _codes(oedema, ("y", "Y", "1"), n)
    is_l = _codes(measure, ("l", "L"), n)
    is_h = _codes(measure, ("h", "H"), n)

    with np.errstate(all="ignore"):
        months = age / DAYS_PER_MONTH  # unrounded months decide which reference applies
        days = _round_up(age)  # tables are indexed by whole days
        no_age = np.isnan(age)
        # WHO: standing height before 9 months is implausible -> position treated as unknown
        is_h &= ~(months < 9)
        # lying length from 731 days on is 0.7 cm longer than standing height, and vice versa
        to_l = (days < LYING_STANDING_DAY) & is_h
        to_h = (days >= LYING_STANDING_DAY) & is_l
        clen = length + np.where(to_l, LYING_STANDING_CM, 0.0) - np.where(to_h, LYING_STANDING_CM, 0.0)
        w_ok = np.where(oed, np.nan, weight)  # oedema inflates weight: no weight-based z-scores

        # WHO 2006 standards: age < 60 months, unrounded (current anthro; older versions went to 1856 days)
        young = (months < 60) & (days <= WHO_2006_LAST_DAY)
        d06 = np.where(young, days, np.nan)
        out = {
            "waz": _z_restricted(w_ok, *_lookup("wei", sex, d06)),
            "lhaz": _z_lms(clen, *_lookup("len", sex, d06)),
            "baz": _z_restricted(w_ok / (clen / 100) ** 2, *_lookup("bmi", sex, d06)),
            "hcz": _z_lms(head, *_lookup("hc", sex, d06)),
            "acz": _z_restricted(muac, *_lookup("ac", sex, np.where(days >= 91, d06, np.nan))),
        }
        # weight-for-length below 731 days, weight-for-height from 731 days; unknown age: measure, then 87 cm
        no_measure = ~is_l & ~is_h
        use_l = (days < LYING_STANDING_DAY) | (no_age & is_l) | (no_age & no_measure & (clen < 87))
        use_h = (days >= LYING_STANDING_DAY) | (no_age & is_h) | (no_age & no_measure & (clen >= 87))
        lms_l = _lookup_interp("wfl", sex, np.where(use_l & (clen >= 45) & (clen <= 110), clen, np.nan))
        lms_h = _lookup_interp("wfh", sex, np.where(use_h & (clen >= 65) & (clen <= 120), clen, np.nan))
        whz = _z_restricted(w_ok, *(np.where(use_l, a, c) for a, c in zip(lms_l, lms_h)))
        out["whz"] = np.where(no_age | young, whz, np.nan)

        # WHO 2007 reference: 60 <= months < 229 (weight-for-age < 121); anthroplus takes height as measured
        m07 = np.where((months >= 60) & (months < 229), months, np.nan)
        old = ~np.isnan(m07)
        if old.any():  # Posyandu data is mostly under five: skip the work when nobody is older
            w07 = _z_restricted(w_ok, *_lookup_interp("wfa07", sex, np.where(m07 < 121, m07, np.nan)))
            out["waz"] = np.where(old, w07, out["waz"])
            out["lhaz"] = np.where(old, _z_lms(length, *_lookup_interp("hfa07", sex, m07)), out["lhaz"])
            b07 = _z_restricted(w_ok / (length / 100) ** 2, *_lookup_interp("bfa07", sex, m07))
            out["baz"] = np.where(old, b07, out["baz"])

        result = {}
        for key in INDICATORS:
            z = out[key]
            z[~np.isfinite(z)] = np.nan
            z2 = np.round(z, 2)  # WHO flags the z-score after rounding it to 2 decimals
            lo, hi = FLAG_LIMITS[key]
            result[key] = z if decimals is None else np.round(z, decimals) + 0.0  # + 0.0 drops "-0.0"
            result[key + "_flag"] = np.where(np.isnan(z2), np.nan, ((z2 < lo) | (z2 > hi)).astype(float))
    return result


def score(sex, age_days, weight_kg, length_cm, measure, head_cm=None, muac_cm=None, oedema=False) -> dict:
    """Z-scores (float or None) and flags (bool or None) for one child; see score_arrays."""
    nan = lambda v: np.nan if v is None else v  # noqa: E731
    res = score_arrays(
        np.array([_sex_code(sex)]), np.array([nan(age_days)], dtype=float),
        np.array([nan(weight_kg)], dtype=float), np.array([nan(length_cm)], dtype=float),
        np.array([measure or ""]), np.array([nan(head_cm)], dtype=float),
        np.array([nan(muac_cm)], dtype=float), np.array([bool(oedema) and oedema not in ("n", "N")]),
    )
    return {k: (None if np.isnan(v[0]) else (bool(v[0]) if k.endswith("_flag") else float(v[0])))
            for k, v in res.items()}


def _sex_code(sex) -> float:
    """1 (male) / 2 (female) from 1, 2, '1', '2', 'm', 'f', 'L' (laki-laki), 'P' (perempuan)."""
    s = str(sex).strip().lower() if sex is not None else ""
    return {"1": 1.0, "m": 1.0, "l": 1.0, "2": 2.0, "f": 2.0, "p": 2.0}.get(s, np.nan)


# indicator -> (2006 table, 2007 table or None, restricted extrapolation?)
_AGE_INDICATORS = {
    "wfa": ("wei", "wfa07", True), "lhfa": ("len", "hfa07", False), "bfa": ("bmi", "bfa07", True),
    "hcfa": ("hc", None, False), "acfa": ("ac", None, True),
}


def value_for_z(indicator: str, sex, age_days, z, measure: str | None = None):
    """Measurement at z-score z (inverse LMS): 'wfa' kg, 'lhfa' cm, 'bfa' kg/m2, 'hcfa' / 'acfa' cm."""
    t06, t07, restricted = _AGE_INDICATORS[indicator]
    scalar = np.ndim(age_days) == 0 and np.ndim(z) == 0
    age, z = np.broadcast_arrays(np.atleast_1d(_floats(age_days)), np.atleast_1d(_floats(z)))
    sex = np.full(age.shape, _sex_code(sex))
    with np.errstate(all="ignore"):
        months, days = age / DAYS_PER_MONTH, _round_up(age)
        young = (months < 60) & (days <= WHO_2006_LAST_DAY)
        lms = _lookup(t06, sex, np.where(young, days, np.nan))
        if t07:
            upper = 121 if indicator == "wfa" else 229
            lms07 = _lookup_interp(t07, sex, np.where((months >= 60) & (months < upper), months, np.nan))
            lms = tuple(np.where(young, a, c) for a, c in zip(lms, lms07))
        y = _y_restricted(z, *lms) if restricted else _sd(*lms, z)
        if indicator == "lhfa" and measure:  # the value a child measured this way would show (see score)
            m = measure.lower()
            y = y - np.where(young & (days < LYING_STANDING_DAY) & (m == "h") & ~(months < 9), LYING_STANDING_CM, 0.0)
            y = y + np.where(young & (days >= LYING_STANDING_DAY) & (m == "l"), LYING_STANDING_CM, 0.0)
    return float(y[0]) if scalar else y


def sd_curves(indicator: str, sex, max_age_days: int = rules.UNDER_FIVE_DAYS, step_days: int = 1) -> dict:
    """-3..+3 SD lines for a growth chart: {'age_days': [...], 'sd': {-3: [...], ..., 3: [...]}} (JSON-ready)."""
    ages = np.arange(0, max_age_days + 1, step_days, dtype=float)
    if ages[-1] != max_age_days:
        ages = np.append(ages, float(max_age_days))
    lines = {k: [None if math.isnan(v) else round(v, 3) for v in value_for_z(indicator, sex, ages, float(k)).tolist()]
             for k in range(-3, 4)}
    return {"age_days": ages.astype(int).tolist(), "sd": lines}


def age_in_days(birth_date: _dt.date, on_date: _dt.date) -> int:
    """Whole days between birth and measurement date (ValueError if measured before birth)."""
    if isinstance(birth_date, _dt.datetime):
        birth_date = birth_date.date()
    if isinstance(on_date, _dt.datetime):
        on_date = on_date.date()
    days = (on_date - birth_date).days
    if days < 0:
        raise ValueError("measurement date is before birth date")
    return days


# --- PMK 2/2020 (Standar Antropometri Anak) categories; None or NaN in -> None out ---------------

def _missing(z) -> bool:
    return z is None or (isinstance(z, float) and math.isnan(z))


def category_waz(z: float | None) -> str | None:
    """BB/U, 0-60 months: 'sangat_kurang' < -3 <= 'kurang' < -2 <= 'normal' <= +1 < 'risiko_lebih'."""
    if _missing(z):
        return None
    if z < rules.Z_SEVERE:
        return "sangat_kurang"
    if z < rules.Z_MODERATE:
        return "kurang"
    return "normal" if z <= rules.Z_RISK_OVER else "risiko_lebih"


def category_lhaz(z: float | None) -> str | None:
    """PB/U or TB/U, 0-60 months: 'sangat_pendek' < -3 <= 'pendek' < -2 <= 'normal' <= +3 < 'tinggi'."""
    if _missing(z):
        return None
    if z < rules.Z_SEVERE:
        return "sangat_pendek"
    if z < rules.Z_MODERATE:
        return "pendek"
    return "normal" if z <= rules.Z_OBESE else "tinggi"


def category_whz(z: float | None) -> str | None:
    """BB/PB or BB/TB, 0-60 months: gizi_buruk < -3 <= gizi_kurang < -2 <= gizi_baik <= +1 < berisiko_gizi_lebih
    <= +2 < gizi_lebih <= +3 < obesitas."""
    if _missing(z):
        return None
    if z < rules.Z_SEVERE:
        return "gizi_buruk"
    if z < rules.Z_MODERATE:
        return "gizi_kurang"
    if z <= rules.Z_RISK_OVER:
        return "gizi_baik"
    if z <= rules.Z_OVER:
        return "berisiko_gizi_lebih"
    return "gizi_lebih" if z <= rules.Z_OBESE else "obesitas"


def category_baz(z: float | None, age_months: float | None = None) -> str | None:
    """IMT/U. 0-60 months: the BB/TB categories (category_whz). 5-18 years (PMK 2/2020): gizi_buruk < -3 <=
    gizi_kurang < -2 <= gizi_baik <= +1 < gizi_lebih <= +2 < obesitas."""
    if age_months is None or age_months < rules.SCHOOL_AGE_MONTHS:
        return category_whz(z)
    if _missing(z):
        return None
    if z < rules.Z_SEVERE:
        return "gizi_buruk"
    if z < rules.Z_MODERATE:
        return "gizi_kurang"
    if z <= rules.Z_RISK_OVER:
        return "gizi_baik"
    return "gizi_lebih" if z <= rules.Z_OVER else "obesitas"
