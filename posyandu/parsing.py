"""The one way to read numbers and digit strings typed or posted by people and programs.

Python's own `str.isdigit()` and `int()` accept far more than a person means: "²" and "①" are digits to
`isdigit()` but not to `int()`, `int()` reads Arabic-Indic and full-width digits, underscores and spaces, and
either happily makes numbers of any length (a 40-digit id overflows every database integer). Here a digit is an
ASCII 0–9, and a number fits the column it is meant for.
"""
import re

MAX_ID = 2**31 - 1  # an INTEGER column on PostgreSQL and the largest id we ever hand out
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_INT = re.compile(r"-?[0-9]{1,10}", re.ASCII)


def is_digits(text, max_len: int | None = None) -> bool:
    """Only ASCII digits 0–9 (at least one, at most max_len)."""
    return (isinstance(text, str) and _DIGITS.fullmatch(text) is not None
            and (max_len is None or len(text) <= max_len))


def parse_int(text, lo: int = 0, hi: int = MAX_ID) -> int | None:
    """The whole number written as ASCII digits (an optional leading minus) within [lo, hi]; None otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and _INT.fullmatch(text.strip()):
        value = int(text.strip())
    else:
        return None
    return value if lo <= value <= hi else None


def parse_id(text) -> int | None:
    """A database id (1 … MAX_ID) from text; None when it cannot be one."""
    return parse_int(text, 1, MAX_ID)
