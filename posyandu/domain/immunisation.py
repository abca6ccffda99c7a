"""The national immunisation schedule (kept as data) and which doses a child needs on a date."""
import calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "immunisation_schedule.json"
STATUSES = ("given", "overdue", "due", "not_yet")


@dataclass(frozen=True)
class Dose:
    code: str
    name: str
    due_month: int
    overdue_after_days: int | None
    regional: bool
    min_interval_days: int | None
    after: str | None
    max_age_days: int | None = None  # past this age the dose is no longer given (HB0, BCG, rotavirus)


@dataclass(frozen=True)
class Schedule:
    version: str
    source: str
    doses: tuple[Dose, ...]
    basic_complete: tuple[str, ...]

    def dose(self, code: str) -> Dose:
        """One dose by code."""
        for d in self.doses:
            if d.code == code:
                return d
        raise KeyError(code)


@dataclass(frozen=True)
class DoseStatus:
    code: str
    name: str
    status: str            # given | overdue | due | not_yet | missed (past the dose's age limit)
    due_date: date         # earliest date the dose may be given (age and interval after the previous dose)
    given_on: date | None


@lru_cache(maxsize=8)
def _load(path: str) -> Schedule:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    doses = tuple(Dose(**d) for d in raw["doses"])
    codes = {d.code for d in doses}
    if len(codes) != len(doses):
        raise ValueError("duplicate dose code in schedule")
    for d in doses:
        if d.after is not None and d.after not in codes:
            raise ValueError(f"{d.code}: unknown previous dose {d.after}")
    if not set(raw["basic_complete"]) <= codes:
        raise ValueError("basic_complete names an unknown dose")
    return Schedule(raw["version"], raw["source"], doses, tuple(raw["basic_complete"]))


def load_schedule(path: str | Path | None = None) -> Schedule:
    """The schedule from JSON (the packaged one by default), read once per path."""
    return _load(str(path or DEFAULT_PATH))


def add_months(d: date, months: int) -> date:
    """The date `months` calendar months later; a day the month lacks rolls to the 1st of the next month.

    This matches lifecycle.age_in_months, so a child is "n months old" exactly from add_months(birth, n).
    """
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    length = calendar.monthrange(y, m)[1]
    if d.day > length:
        return date(y, m, length) + timedelta(days=1)
    return date(y, m, d.day)


def due_doses(schedule: Schedule, birth_date: date, on_date: date, given: dict[str, date],
              include_regional: bool = False) -> list[DoseStatus]:
    """Each dose's status on a date; 'not_yet' doses only when due within the next month.

    Doses given after on_date are ignored (so past dates can be replayed); unknown codes in `given` are
    ignored because the register may hold vaccines outside this schedule.
    """
    given = {code: d for code, d in given.items() if d <= on_date}
    horizon = add_months(on_date, 1)
    out = []
    for dose in schedule.doses:
        given_on = given.get(dose.code)
        if dose.regional and not include_regional and given_on is None:
            continue
        due = add_months(birth_date, dose.due_month)
        previous_given = True
        if dose.after is not None:
            prev = given.get(dose.after)
            if prev is None:
                previous_given = False
            else:
                due = max(due, prev + timedelta(days=dose.min_interval_days or 0))
        if given_on is not None:
            status = "given"
        elif dose.max_age_days is not None and (on_date - birth_date).days > dose.max_age_days:
            status = "missed"
        elif not previous_given or due > on_date:
            status = "not_yet"
        elif dose.overdue_after_days is not None:
            status = "overdue" if (on_date - due).days > dose.overdue_after_days else "due"
        else:
            status = "overdue" if on_date > add_months(due, 1) else "due"
        if status == "not_yet" and due > horizon:
            continue
        out.append(DoseStatus(dose.code, dose.name, status, due, given_on))
    return out


def complete_basic(given: dict[str, date] | set[str], schedule: Schedule | None = None) -> bool:
    """Imunisasi dasar lengkap: every dose in the schedule's basic_complete list was given."""
    schedule = schedule or load_schedule()
    return set(schedule.basic_complete) <= set(given)
