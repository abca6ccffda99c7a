"""Hari buka dates from a Posyandu's schedule."""
import calendar
from datetime import date


def open_day(year: int, month: int, kind: str, day: int | None, week: int | None, weekday: int | None) -> date | None:
    """The hari buka in a month: a fixed day, or the n-th weekday (week 1–4, weekday 0 Monday)."""
    if kind == "day_of_month" and day:
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))
    if kind == "nth_weekday" and week and weekday is not None:
        first = date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return date(year, month, 1 + offset + 7 * (week - 1))
    return None


def next_open_day(today: date, kind: str, day: int | None, week: int | None, weekday: int | None) -> date | None:
    """The next hari buka on or after today."""
    for add in (0, 1):
        y, m = today.year + (today.month - 1 + add) // 12, (today.month - 1 + add) % 12 + 1
        d = open_day(y, m, kind, day, week, weekday)
        if d is None:
            return None
        if d >= today:
            return d
    return None
