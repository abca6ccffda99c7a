"""Life-cycle groups of Integrasi Layanan Primer (ILP)."""
from datetime import date, timedelta

GROUPS = ("ibu_hamil", "nifas", "balita", "usia_sekolah_remaja", "dewasa", "lansia")
NIFAS_DAYS = 42
BALITA_UNTIL_MONTHS = 60
CHILD_UNTIL_MONTHS = 19 * 12  # usia sekolah & remaja end at 18 completed years
ADULT_UNTIL_MONTHS = 60 * 12
CHILDBEARING_YEARS = (10, 55)  # who is asked about a pregnancy at registration


def age_in_months(birth: date, on: date) -> int:
    """Completed months of age on a date."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    return months


def age_in_years(birth: date, on: date) -> int:
    return age_in_months(birth, on) // 12


def group_for(birth: date, on: date, pregnant: bool = False, delivered_on: date | None = None) -> str:
    """The person's group on a date: pregnancy and the 42 days after birth come first, then age."""
    if pregnant:
        return "ibu_hamil"
    if delivered_on is not None and delivered_on <= on <= delivered_on + timedelta(days=NIFAS_DAYS):
        return "nifas"
    months = age_in_months(birth, on)
    if months < BALITA_UNTIL_MONTHS:
        return "balita"
    if months < CHILD_UNTIL_MONTHS:
        return "usia_sekolah_remaja"
    if months < ADULT_UNTIL_MONTHS:
        return "dewasa"
    return "lansia"


def hpl_from_hpht(hpht: date) -> date:
    """Naegele's rule: the due date is 280 days after the last menstrual period."""
    return hpht + timedelta(days=280)


def pregnancy_is_active(hpht: date, ended_on: date | None, on: date) -> bool:
    """A pregnancy counts until it ends, and no longer than 44 weeks after HPHT."""
    return ended_on is None and hpht <= on <= hpht + timedelta(weeks=44)


def gestational_age(hpht: date, on: date) -> tuple[int, int]:
    """Weeks and days of pregnancy on a date, counted from HPHT (the usual obstetric count)."""
    days = (on - hpht).days
    return days // 7, days % 7
