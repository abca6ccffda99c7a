"""NIK (Nomor Induk Kependudukan) and No. KK checks."""
import re
from datetime import date

_DIGITS16 = re.compile(r"^[0-9]{16}$")


def normalise(value: str | None) -> str | None:
    """Strip spaces and dots people type into a NIK; None when empty."""
    if value is None:
        return None
    value = re.sub(r"[\s.\-]", "", value)
    return value or None


def nik_problem(nik: str) -> str | None:
    """Why this NIK cannot be right, or None. Codes: length, digits, region, birth, serial."""
    if len(nik) != 16:
        return "length"
    if not _DIGITS16.match(nik):
        return "digits"
    if nik[:2] < "11" or nik[2:4] == "00" or nik[4:6] == "00":
        return "region"
    day, month = int(nik[6:8]), int(nik[8:10])
    if day > 40:  # women: day + 40
        day -= 40
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return "birth"
    if nik[12:] == "0000":
        return "serial"
    return None


def nik_birth(nik: str) -> tuple[int, int, int, str]:
    """(day, month, two-digit year, sex L/P) encoded in a valid NIK."""
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        day, sex = day - 40, "P"
    return day, month, yy, sex


def nik_matches(nik: str, birth_date: date, sex: str) -> bool:
    """Whether the birth date and sex encoded in the NIK agree with the record."""
    day, month, yy, nik_sex = nik_birth(nik)
    return (day, month, yy) == (birth_date.day, birth_date.month, birth_date.year % 100) and nik_sex == sex


def kk_problem(kk: str) -> str | None:
    """Why this No. KK cannot be right, or None."""
    if len(kk) != 16:
        return "length"
    if not _DIGITS16.match(kk):
        return "digits"
    return None


def nik_birth_date(nik: str, today: date) -> tuple[date, str] | None:
    """The birth date and sex a valid NIK encodes, or None. The NIK holds a two-digit year: the century is the
    latest that does not put the birth in the future (a NIK of someone born in 1925 reads as 2025, so the kader
    sees the date and corrects it)."""
    if nik_problem(nik):
        return None
    day, month, yy, sex = nik_birth(nik)
    year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        born = date(year, month, day)
    except ValueError:  # 31 February
        return None
    if born > today:
        born = date(year - 100, month, day) if not (month == 2 and day == 29) else None
    return (born, sex) if born else None
