"""Screening questionnaires kept as versioned JSON, and one generic scorer for all of them.

Scoring methods (the "scoring" object of a questionnaire):
- {"method": "sum"}: the score is the sum of the chosen options' points.
- {"method": "count_positive"}: the score is the number of answers whose option has points > 0.
- {"method": "rule", "rules": [{"questions": [ids], "min_positive": n}, ...]}: the score is the number of
  rules met, a rule being met when at least n of its questions have a positive answer (points > 0).
Bands are inclusive integer ranges [min, max] over the score that tile its whole range.
"""
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from posyandu.domain.lifecycle import GROUPS

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "data" / "questionnaires"
METHODS = ("sum", "count_positive", "rule")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    points: int


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]
    domain: str | None = None   # e.g. SKILAS' six domains, for display and follow-up

    def option(self, value: str) -> Option:
        """The option with this value; ValueError for an unknown one."""
        for o in self.options:
            if o.value == value:
                return o
        raise ValueError(f"{self.id}: unknown answer {value!r}")


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    code: str
    label: str
    refer: bool


@dataclass(frozen=True)
class Questionnaire:
    code: str
    version: str
    title: str
    groups: tuple[str, ...]
    min_age_months: int | None
    max_age_months: int | None
    questions: tuple[Question, ...]
    method: str
    rules: tuple[tuple[tuple[str, ...], int], ...]
    bands: tuple[Band, ...]
    source: str = ""

    def score_range(self) -> tuple[int, int]:
        """The lowest and highest score the questionnaire can give."""
        if self.method == "sum":
            return (sum(min(o.points for o in q.options) for q in self.questions),
                    sum(max(o.points for o in q.options) for q in self.questions))
        if self.method == "count_positive":
            return 0, sum(1 for q in self.questions if any(o.points > 0 for o in q.options))
        return 0, len(self.rules)


@dataclass(frozen=True)
class ScreeningResult:
    code: str
    version: str
    score: int
    band: str
    label: str
    refer: bool
    missing: list[str]            # unanswered question ids; the score counts only what was answered
    positive: list[str]           # question ids answered with points > 0 (SKILAS domains to follow up)


def _parse(raw: dict) -> Questionnaire:
    questions = tuple(
        Question(q["id"], q["text"], tuple(Option(o["value"], o["label"], int(o["points"])) for o in q["options"]),
                 q.get("domain"))
        for q in raw["questions"])
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{raw['code']}: duplicate question id")
    for q in questions:
        if len({o.value for o in q.options}) != len(q.options) or not q.options:
            raise ValueError(f"{raw['code']}.{q.id}: options missing or repeated")
    scoring = raw["scoring"]
    if scoring["method"] not in METHODS:
        raise ValueError(f"{raw['code']}: unknown scoring method {scoring['method']}")
    rules = tuple((tuple(r["questions"]), int(r["min_positive"])) for r in scoring.get("rules", ()))
    for qs, _ in rules:
        if not set(qs) <= set(ids):
            raise ValueError(f"{raw['code']}: rule names an unknown question")
    groups = tuple(raw["groups"])
    if not set(groups) <= set(GROUPS):
        raise ValueError(f"{raw['code']}: unknown group")
    bands = tuple(sorted((Band(int(b["min"]), int(b["max"]), b["code"], b["label"], bool(b["refer"]))
                          for b in raw["bands"]), key=lambda b: b.min))
    q = Questionnaire(raw["code"], raw["version"], raw["title"], groups, raw.get("min_age_months"),
                      raw.get("max_age_months"), questions, scoring["method"], rules, bands, raw.get("source", ""))
    # Bands must tile the score range exactly, so every possible score has one band.
    low, high = q.score_range()
    expected = low
    for b in bands:
        if b.min != expected or b.max < b.min:
            raise ValueError(f"{q.code}: bands leave a gap or overlap at {expected}")
        expected = b.max + 1
    if expected != high + 1:
        raise ValueError(f"{q.code}: bands do not end at the highest score {high}")
    return q


@lru_cache(maxsize=8)
def _load(directory: str) -> dict[str, Questionnaire]:
    out = {}
    for path in sorted(Path(directory).glob("*.json")):
        q = _parse(json.loads(path.read_text(encoding="utf-8")))
        if q.code in out:
            raise ValueError(f"questionnaire {q.code} defined twice")
        out[q.code] = q
    return out


def load_questionnaires(dir: str | Path | None = None) -> dict[str, Questionnaire]:
    """All questionnaires in a directory (the packaged ones by default) by code, read once per directory."""
    return _load(str(dir or DEFAULT_DIR))


def applicable(questionnaires: dict[str, Questionnaire], group: str, age_months: int) -> list[Questionnaire]:
    """The questionnaires for a life-cycle group and age, in code order."""
    return [q for _, q in sorted(questionnaires.items())
            if group in q.groups
            and (q.min_age_months is None or age_months >= q.min_age_months)
            and (q.max_age_months is None or age_months <= q.max_age_months)]


def score(q: Questionnaire, answers: dict[str, str]) -> ScreeningResult:
    """Score the answers (question id → option value); ValueError for an unknown question or value."""
    known = {x.id: x for x in q.questions}
    for qid in answers:
        if qid not in known:
            raise ValueError(f"{q.code}: unknown question {qid!r}")
    points: dict[str, int] = {}
    missing = []
    for question in q.questions:
        value = answers.get(question.id)
        if value is None or value == "":   # an untouched radio group posts nothing or an empty string
            missing.append(question.id)
        else:
            points[question.id] = question.option(value).points
    positive = [qid for qid, p in points.items() if p > 0]
    if q.method == "sum":
        total = sum(points.values())
    elif q.method == "count_positive":
        total = len(positive)
    else:
        total = sum(1 for qs, n in q.rules if sum(1 for qid in qs if points.get(qid, 0) > 0) >= n)
    # With answers missing a partial sum can fall below the range when some option minimum is above 0.
    low, high = q.score_range()
    clamped = min(max(total, low), high)
    band = next(b for b in q.bands if b.min <= clamped <= b.max)
    return ScreeningResult(q.code, q.version, total, band.code, band.label, band.refer, missing, positive)
