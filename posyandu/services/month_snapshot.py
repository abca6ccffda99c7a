"""The numbers of one Posyandu-month, frozen on approval, and their hash.

`build` returns plain JSON data: the versions of the rules and tables that produced the numbers and one section
per reader (the monthly report's figures for now). Readers of a closed month use the stored snapshot and never
the live tables. The hash is over the canonical JSON (sorted keys, no spaces).
"""
import hashlib
import json
from dataclasses import asdict
from datetime import date

from sqlalchemy import select

from ..domain import reports as dom
from ..models import Posyandu

FORMAT = 1


def versions() -> dict:
    from ..domain import growth, rules

    return {"snapshot": FORMAT, "growth_reference": getattr(growth, "REFERENCE", "WHO 2006/2007"),
            "rules": getattr(rules, "VERSION", "1")}


def build(posyandu_id: int, month: date) -> dict:
    from . import reports

    pos = select(Posyandu.id).where(Posyandu.id == posyandu_id)
    area = reports.monthly_by_posyandu(pos, month).get(posyandu_id)
    return {"versions": versions(), "month": month.isoformat(), "posyandu_id": posyandu_id,
            "report": _plain(area) if area is not None else None}


def _plain(area: dom.Area) -> dict:
    """An Area as JSON data: cells as [band, sex, counts] rows in a fixed order."""
    data = asdict(area)
    data["cells"] = [[band, sex, asdict(cell)] for (band, sex), cell in sorted(area.cells.items())]
    return data


def canonical(snapshot: dict) -> bytes:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def digest(snapshot: dict) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()
