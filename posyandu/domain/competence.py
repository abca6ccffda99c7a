"""Kader competence: the 25 basic skills as data, the stratum rule and the trained-kader share.

Plain Python: no Flask, no database. The stratum rule is data so a district can use its own.
"""
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SKILLS_FILE = Path(__file__).resolve().parents[1] / "data" / "kader_skills.json"
STRATA = ("purwa", "madya", "utama")  # lowest to highest

# DESIGN §3: Purwa = management + balita + one more group; Madya = management + balita + ibu hamil + one more;
# Utama = all five. Checked from the highest stratum down; the first that holds is the kader's stratum.
DEFAULT_STRATUM_RULE = [
    {"stratum": "utama", "required": ["manajemen", "balita", "ibu_hamil", "remaja", "dewasa_lansia"], "extra": 0},
    {"stratum": "madya", "required": ["manajemen", "balita", "ibu_hamil"], "extra": 1},
    {"stratum": "purwa", "required": ["manajemen", "balita"], "extra": 1},
]
DEFAULT_TRAINED_TARGET = 0.10  # the national target: 10 % of kader trained


@dataclass(frozen=True)
class Skill:
    code: str
    group: str
    name: str


@dataclass(frozen=True)
class Catalogue:
    version: str
    groups: tuple[tuple[str, str], ...]  # (code, name) in order
    skills: tuple[Skill, ...]

    def by_group(self) -> dict[str, list[Skill]]:
        out = {g: [] for g, _ in self.groups}
        for s in self.skills:
            out[s.group].append(s)
        return out

    @property
    def codes(self) -> set[str]:
        return {s.code for s in self.skills}


def parse_catalogue(data: dict) -> Catalogue:
    """A skills catalogue from its JSON form; codes must be unique."""
    groups, skills = [], []
    for g in data["groups"]:
        groups.append((g["code"], g["name"]))
        skills.extend(Skill(s["code"], g["code"], s["name"]) for s in g["skills"])
    if len({s.code for s in skills}) != len(skills):
        raise ValueError("duplicate skill code")
    return Catalogue(data["version"], tuple(groups), tuple(skills))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The shipped catalogue (data/kader_skills.json)."""
    return parse_catalogue(json.loads(SKILLS_FILE.read_text(encoding="utf-8")))


def completed_groups(passed_codes, cat: Catalogue) -> set[str]:
    """The groups whose every skill the kader has passed."""
    passed = set(passed_codes)
    return {g for g, skills in cat.by_group().items() if skills and all(s.code in passed for s in skills)}


def validate_rule(rule: list[dict], group_codes) -> None:
    """Refuse a rule that names an unknown stratum or group (a typo would silently make nobody trained)."""
    known = set(group_codes)
    for step in rule:
        if step["stratum"] not in STRATA:
            raise ValueError(f"unknown stratum {step['stratum']!r}")
        unknown = set(step["required"]) - known
        if unknown:
            raise ValueError(f"unknown groups {sorted(unknown)}")
        if int(step.get("extra", 0)) < 0:
            raise ValueError("extra must not be negative")


def stratum_for(groups: set[str], rule: list[dict] | None = None) -> str | None:
    """The highest stratum whose rule the completed groups meet, or None (not yet trained)."""
    for step in rule or DEFAULT_STRATUM_RULE:
        required = set(step["required"])
        if required <= groups and len(groups - required) >= int(step.get("extra", 0)):
            return step["stratum"]
    return None


def stratum_of(passed_codes, cat: Catalogue | None = None, rule: list[dict] | None = None) -> str | None:
    """A kader's stratum from the skills she passed."""
    cat = cat or catalogue()
    return stratum_for(completed_groups(passed_codes, cat), rule)


@dataclass(frozen=True)
class Share:
    key: object
    label: str
    total: int
    trained: int
    target: float

    @property
    def share(self) -> float:
        return self.trained / self.total if self.total else 0.0

    @property
    def meets_target(self) -> bool:
        return self.total > 0 and self.share >= self.target


def shares(kader_units: dict[int, tuple], strata: dict[int, str | None], target: float = DEFAULT_TRAINED_TARGET,
           labels: dict | None = None) -> list[Share]:
    """Trained share per unit. kader_units maps kader id → the units it counts in (a kader serving two
    kelurahan counts once in each, and once in a unit they share)."""
    totals: dict = {}
    trained: dict = {}
    for kader_id, units in kader_units.items():
        for unit in set(units):
            totals[unit] = totals.get(unit, 0) + 1
            if strata.get(kader_id):
                trained[unit] = trained.get(unit, 0) + 1
    labels = labels or {}
    return sorted((Share(u, labels.get(u, str(u)), n, trained.get(u, 0), target) for u, n in totals.items()),
                  key=lambda s: s.label)
