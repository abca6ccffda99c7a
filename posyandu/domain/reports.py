"""Monthly report arithmetic: months, age bands as birth-date cut-offs, SKDN cells and their ratios, prevalence.

Plain Python, no Flask. The counting itself happens in SQL (services.reports); this module says what the
numbers mean and how they add up, so the same rules hold on screen, in the PDF and in the XLSX.

Conventions (DESIGN §3):
- S = balita 0–59 months registered (not deleted) at the Posyandu at the end of the month; age is in completed
  months on the month's last day (lifecycle.age_in_months), so a child is in one band all month.
- K = S with a KMS / Buku KIA; D = S weighed in the month; N/T/O/B from the stored code of the child's last
  weighing in the month, so D = N + T + O + B (a weighing with no code would break it: counted as O).
- tidak hadir = the K children not weighed in the month. This is K − D whenever every weighed child has a
  KMS/Buku KIA (the usual case); counting it directly keeps the number equal to the list of names behind it.
- Prevalence on the latest valid (not flagged) measurement per child in the month; a flagged value is left out.
"""
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

from .immunisation import add_months
from .lifecycle import age_in_months
from .rules import KEK_MUAC_CM, Z_MODERATE, Z_SEVERE  # noqa: F401 - KEK_MUAC_CM: the SQL builders read it here
from ..parsing import parse_int

# (label, first month, last month)
AGE_BANDS = (("0-5", 0, 5), ("6-11", 6, 11), ("12-23", 12, 23), ("24-35", 24, 35), ("36-59", 36, 59))
SEXES = ("L", "P")
STUNTED = WASTED = UNDERWEIGHT = Z_MODERATE  # prevalence: TB/U, BB/TB, BB/U below −2 SD
# PMK 2/2020: gizi buruk and gizi kurang are BB/PB or BB/TB categories (BB/U < −3 SD is "berat badan sangat
# kurang", counted as BGM): gizi buruk below −3 SD, gizi kurang from −3 to below −2 SD.
GIZI_BURUK, GIZI_KURANG = Z_SEVERE, Z_MODERATE
LOW_WHZ = -1.0  # "T with low BB/TB": weight not gained and BB/TB already below −1 SD
FALLING_LHAZ = 0.3  # at risk: TB/U fell over the last three valid measurements by at least this much


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def month_end(d: date) -> date:
    return add_months(month_start(d), 1) - timedelta(days=1)


def shift_month(d: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) d's month."""
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, 1)


def months_back(month: date, n: int) -> list[date]:
    """n month starts ending with `month`, oldest first."""
    return [shift_month(month, -k) for k in range(n - 1, -1, -1)]


def parse_month(text: str | None, default: date) -> date:
    """'2026-11' → date(2026, 11, 1); anything else (or a year outside 2000–2100) → the default month."""
    y, _sep, m = (text or "").partition("-")
    year, month = parse_int(y, 2000, 2100), parse_int(m, 1, 12)
    if year is None or month is None:
        return month_start(default)
    return date(year, month, 1)


def latest_birth_for_age(on: date, months: int) -> date:
    """The latest birth date of a child at least `months` completed months old on `on`.

    age_in_months is monotonic in the birth date, so "age ≥ m" is "birth ≤ this date": a cut-off SQL can use."""
    candidate = add_months(on, -months) if months else on
    # add_months rolls a missing day forward; step to the exact edge.
    while age_in_months(candidate, on) < months:
        candidate -= timedelta(days=1)
    while age_in_months(candidate + timedelta(days=1), on) >= months:
        candidate += timedelta(days=1)
    return candidate


def band_cutoffs(on: date) -> list[tuple[str, date, date]]:
    """Each age band as (label, born after, born on or before) on the date."""
    out = []
    for label, lo, hi in AGE_BANDS:
        out.append((label, latest_birth_for_age(on, hi + 1), latest_birth_for_age(on, lo)))
    return out


def band_of(age_months: int) -> str | None:
    for label, lo, hi in AGE_BANDS:
        if lo <= age_months <= hi:
            return label
    return None


def pct(num: int | None, den: int | None) -> float | None:
    """A percentage with one decimal, None when there is nothing to divide by."""
    if not den:
        return None
    return round(100.0 * (num or 0) / den + 1e-9, 1)


def fmt_pct(value: float | None) -> str:
    """12.5 → '12,5%', 40.0 → '40%' (Indonesian decimal comma, no ',0' on a whole number, no space before the
    sign); None → '–'."""
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return text.removesuffix(".0").replace(".", ",") + "%"


@dataclass
class Cell:
    """SKDN and nutrition counts for one Posyandu, age band and sex (or any sum of them)."""

    S: int = 0
    K: int = 0
    D: int = 0
    N: int = 0
    T: int = 0
    O: int = 0  # noqa: E741 - the code's own letter
    B: int = 0
    tidak_hadir: int = 0  # K children not weighed (= K − D whenever every weighed child has a KMS/Buku KIA)
    bgm: int = 0
    two_t: int = 0
    gizi_buruk: int = 0
    gizi_kurang: int = 0
    # Prevalence: children with a valid z-score, and those below −2 SD.
    lhaz_n: int = 0
    stunted: int = 0
    whz_n: int = 0
    wasted: int = 0
    waz_n: int = 0
    underweight: int = 0
    new_stunting: int = 0
    at_risk: int = 0  # 2T, T with low BB/TB, or TB/U falling

    def add(self, other: "Cell") -> "Cell":
        mine, theirs = self.__dict__, other.__dict__
        for name in CELL_FIELDS:
            mine[name] += theirs[name]
        return self

    @property
    def ks(self):
        return pct(self.K, self.S)

    @property
    def ds(self):
        return pct(self.D, self.S)

    @property
    def dk(self):
        return pct(self.D, self.K)

    @property
    def nd(self):
        return pct(self.N, self.D)

    @property
    def stunting_pct(self):
        return pct(self.stunted, self.lhaz_n)

    @property
    def wasting_pct(self):
        return pct(self.wasted, self.whz_n)

    @property
    def underweight_pct(self):
        return pct(self.underweight, self.waz_n)

    def consistent(self) -> bool:
        """D = N + T + O + B, and no count exceeds its whole."""
        return (self.D == self.N + self.T + self.O + self.B and self.K <= self.S and self.D <= self.S
                and self.stunted <= self.lhaz_n and self.wasted <= self.whz_n and self.underweight <= self.waz_n)


CELL_FIELDS = tuple(f.name for f in fields(Cell))


@dataclass
class Area:
    """A month's figures for an area (a Posyandu or any roll-up): cells by (band, sex), and the rest."""

    cells: dict = field(default_factory=dict)  # (band, sex) → Cell
    vitamin_a: dict = field(default_factory=lambda: {"biru": 0, "merah": 0})
    ibu_hamil: int = 0
    kek: int = 0
    lila_measured: int = 0
    ilp_registered: dict = field(default_factory=dict)  # group → count
    ilp_visited: dict = field(default_factory=dict)  # group → count
    duties: int = 0
    present: int = 0

    def cell(self, band: str, sex: str) -> Cell:
        return self.cells.setdefault((band, sex), Cell())

    def total(self, band: str | None = None, sex: str | None = None) -> Cell:
        out = Cell()
        for (b, s), c in self.cells.items():
            if (band is None or b == band) and (sex is None or s == sex):
                out.add(c)
        return out

    def add(self, other: "Area") -> "Area":
        for key, c in other.cells.items():
            self.cells.setdefault(key, Cell()).add(c)
        for k, v in other.vitamin_a.items():
            self.vitamin_a[k] = self.vitamin_a.get(k, 0) + v
        self.ibu_hamil += other.ibu_hamil
        self.kek += other.kek
        self.lila_measured += other.lila_measured
        for target, src in ((self.ilp_registered, other.ilp_registered), (self.ilp_visited, other.ilp_visited)):
            for k, v in src.items():
                target[k] = target.get(k, 0) + v
        self.duties += other.duties
        self.present += other.present
        return self

    @property
    def attendance(self):
        return pct(self.present, self.duties)

    def ilp_coverage(self, group: str):
        return pct(self.ilp_visited.get(group, 0), self.ilp_registered.get(group, 0))


def rank(rows: list[tuple[object, Cell]], key: str = "stunting_pct") -> list[tuple[object, Cell]]:
    """Posyandu ordered worst first by a percentage (stunting, wasting, underweight: high is bad; ds, nd: low
    is bad); those without data last."""
    low_is_bad = key in ("ds", "nd", "ks", "dk")
    with_value = [r for r in rows if getattr(r[1], key) is not None]
    without = [r for r in rows if getattr(r[1], key) is None]
    with_value.sort(key=lambda r: (getattr(r[1], key) if low_is_bad else -getattr(r[1], key), str(r[0])))
    return with_value + without


def falling(lhaz_values: list[float]) -> bool:
    """At risk of stunting: the last three valid TB/U z-scores (oldest first) fall each time, by at least
    FALLING_LHAZ in all, and the child is not (yet) stunted."""
    if len(lhaz_values) < 3:
        return False
    a, b, c = lhaz_values[-3:]
    return a > b > c and a - c >= FALLING_LHAZ and c >= STUNTED
