"""Counselling (penyuluhan) topics for meja 4, chosen from a visit's findings and the person's group."""
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from posyandu.domain.lifecycle import GROUPS

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "counselling_topics.json"


@dataclass(frozen=True)
class Topic:
    code: str
    title: str
    message: str
    groups: tuple[str, ...]
    findings: tuple[str, ...]


@dataclass(frozen=True)
class TopicSet:
    version: str
    topics: tuple[Topic, ...]
    defaults: dict[str, tuple[str, ...]]

    def topic(self, code: str) -> Topic:
        """One topic by code."""
        for t in self.topics:
            if t.code == code:
                return t
        raise KeyError(code)

    def findings(self) -> set[str]:
        """Every finding code some topic responds to."""
        return {f for t in self.topics for f in t.findings}


@lru_cache(maxsize=8)
def _load(path: str) -> TopicSet:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    topics = tuple(Topic(t["code"], t["title"], t["message"], tuple(t["groups"]), tuple(t["findings"]))
                   for t in raw["topics"])
    codes = {t.code for t in topics}
    if len(codes) != len(topics):
        raise ValueError("duplicate topic code")
    defaults = {g: tuple(c) for g, c in raw["defaults"].items()}
    for group, chosen in defaults.items():
        if group not in GROUPS or not set(chosen) <= codes:
            raise ValueError(f"defaults for {group}: unknown group or topic")
    return TopicSet(raw["version"], topics, defaults)


def load_topics(path: str | Path | None = None) -> TopicSet:
    """The topics from JSON (the packaged file by default), read once per path."""
    return _load(str(path or DEFAULT_PATH))


def suggest_topics(findings: set[str], group: str, topics: TopicSet | None = None) -> list[Topic]:
    """Topics for a group: those the findings call for (in file order), then the group's defaults.

    Finding codes no topic knows are ignored, so a new finding elsewhere never breaks the visit page.
    """
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    topics = topics or load_topics()
    findings = set(findings)
    chosen = [t for t in topics.topics if group in t.groups and findings & set(t.findings)]
    seen = {t.code for t in chosen}
    for code in topics.defaults.get(group, ()):
        if code not in seen:
            chosen.append(topics.topic(code))
            seen.add(code)
    return chosen
