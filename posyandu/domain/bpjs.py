"""BPJS Ketenagakerjaan for kader (Bukan Penerima Upah): the monthly premium and a kader's enrolment state.

Plain Python: no Flask, no database. A BPU member declares an income; the premium is JKK (work-accident cover, a
rate of that income) plus JKM (death benefit, a fixed amount). The district sets the declared income and both
rates; the defaults are the BPU scheme's: JKK 1 % and JKM Rp6.800 of Rp1.000.000 → Rp10.000 + Rp6.800 = Rp16.800.
"""
from dataclasses import dataclass
from datetime import date

FULL_BP = 10_000  # basis points in 100 %
DEFAULT_INCOME = 1_000_000
DEFAULT_JKK_BP = 100  # 1 %
DEFAULT_JKM = 6_800
STATES = ("active", "not_yet", "expired", "not_enrolled")


@dataclass(frozen=True)
class Premium:
    jkk: int
    jkm: int

    @property
    def total(self) -> int:
        return self.jkk + self.jkm


def premium(income: int = DEFAULT_INCOME, jkk_bp: int = DEFAULT_JKK_BP, jkm: int = DEFAULT_JKM) -> Premium:
    """The monthly premium in whole Rupiah: JKK = income × rate (rounded half up), JKM as set."""
    if income < 0 or jkm < 0 or not 0 <= jkk_bp <= FULL_BP:
        raise ValueError("income, rate or JKM out of range")
    return Premium(jkk=(income * jkk_bp + FULL_BP // 2) // FULL_BP, jkm=jkm)


def enrolment_state(number: str | None, since: date | None, until: date | None, on: date) -> str:
    """A kader's enrolment on a day: active, not_yet (enrolled from a later date), expired (active until an earlier
    date), or not_enrolled (no membership number)."""
    if not (number or "").strip():
        return "not_enrolled"
    if since is not None and since > on:
        return "not_yet"
    if until is not None and until < on:
        return "expired"
    return "active"
