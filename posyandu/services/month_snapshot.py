"""The numbers of one Posyandu-month, frozen on approval, and their hash.

A snapshot is plain JSON data with one section per reader, so every report of a closed month reads it and never
the live tables (a closed month prints the same documents forever):

- `versions`: the rules and tables that produced the numbers (growth reference, rules, the KBM tables the month's
  weighings used, the snapshot format and the app version);
- `report`: the monthly report's figures of the Posyandu (domain.reports.Area as data, see `from_plain`);
- `trend`: the month's prevalence cell as the twelve-month trend counts it (under five at the measurement);
- `kader`: the kader with a role at the month's end, and those trained (ids: a kader of two Posyandu counts once);
- `lists`: the people behind each number — per metric, [person id, band, sex, detail] rows in the list's order;
- `eppgbm`: the month's e-PPGBM rows (the "Data Dasar" and "Pertumbuhan" sheets without their running number),
  exactly the values services.report_exports writes.

Other features add their own section through `SECTIONS` (name → function(posyandu_ids, month) → {id: data}).
`build_many` computes every section for many Posyandu at once in a fixed number of set-based queries (approving a
kelurahan's 25 Posyandu, or seeding two years of a district, runs no query per Posyandu). The hash is over the
canonical JSON (sorted keys, no spaces). The small sections (FIGURES) are also stored apart, so a report over a
whole district reads 80 small documents, not 80 snapshots with their lists and rows.
"""
import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, fields
from datetime import date

from sqlalchemy import select

from ..domain import reports as dom
from ..extensions import db
from ..models import Measurement, Posyandu, PosyanduMonth

FORMAT = 2
APP_VERSION = "posyandu-1"  # the app's data format; bump when a number's meaning changes


def versions(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    """Per Posyandu: the reference and rule versions, and the KBM tables used by the month's weighings."""
    from ..domain import growth, rules

    first, last = dom.month_start(month), dom.month_end(month)
    kbm: dict = defaultdict(list)
    for pid, kid in db.session.execute(
            select(Measurement.posyandu_id, Measurement.kbm_table_id).distinct()
            .where(Measurement.posyandu_id.in_(posyandu_ids), Measurement.measured_on >= first,
                   Measurement.measured_on <= last, Measurement.kbm_table_id.is_not(None))):
        kbm[pid].append(kid)
    base = {"snapshot": FORMAT, "app": APP_VERSION,
            "growth_reference": getattr(growth, "REFERENCE", "WHO 2006/2007"), "rules": getattr(rules, "VERSION", "1")}
    return {pid: {**base, "kbm_tables": sorted(kbm.get(pid, []))} for pid in posyandu_ids}


def _report(posyandu_ids: list[int], month: date) -> dict[int, dict | None]:
    from . import reports

    areas = reports.live_by_posyandu(_ids(posyandu_ids), month, wide=len(posyandu_ids) > 1, risk=True)
    return {pid: (to_plain(areas[pid]) if pid in areas else None) for pid in posyandu_ids}


def _trend(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import reports

    cells = reports.trend_by_posyandu(_ids(posyandu_ids), month, 1, wide=len(posyandu_ids) > 1)
    return {pid: asdict(cells.get((pid, dom.month_start(month)), dom.Cell())) for pid in posyandu_ids}


def _lists(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import reports

    lists = reports.lists_by_posyandu(_ids(posyandu_ids), month, wide=len(posyandu_ids) > 1)
    return {pid: lists.get(pid, {}) for pid in posyandu_ids}


def _eppgbm(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import report_exports

    rows = report_exports.eppgbm_by_posyandu(_ids(posyandu_ids), month)
    return {pid: rows.get(pid, {"base": [], "growth": []}) for pid in posyandu_ids}


def _kader(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import reports

    kader = reports.kader_by_posyandu(_ids(posyandu_ids), min(dom.month_end(month), date.today()))
    return {pid: kader.get(pid, {"current": [], "trained": []}) for pid in posyandu_ids}


def _versions(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    return versions(posyandu_ids, month)


def _incentive(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import incentive_inputs

    return incentive_inputs.sections(posyandu_ids, month)


# Section name → function(posyandu ids, month) → {posyandu id: plain data}. A feature that needs its own frozen
# numbers of the month (the incentives, say) registers a section here; readers find it under the same name.
SECTIONS = {"versions": _versions, "report": _report, "trend": _trend, "kader": _kader, "lists": _lists,
            "eppgbm": _eppgbm, "incentive": _incentive}


def _ids(posyandu_ids):
    return select(Posyandu.id).where(Posyandu.id.in_(list(posyandu_ids)))


# The small sections, also stored apart (PosyanduMonth.figures): what a report over many Posyandu reads.
FIGURES = ("report", "trend", "kader")


def figures(snapshot: dict) -> dict:
    return {name: snapshot.get(name) for name in FIGURES}


def build_many(posyandu_ids, month: date) -> dict[int, dict]:
    """The snapshots of many Posyandu for one month, each section computed for all of them at once."""
    ids = sorted(set(posyandu_ids))
    month = dom.month_start(month)
    out = {pid: {"month": month.isoformat(), "posyandu_id": pid} for pid in ids}
    if not ids:
        return out
    for name, fn in SECTIONS.items():
        data = fn(ids, month)
        for pid in ids:
            out[pid][name] = data.get(pid)
    return out


def build(posyandu_id: int, month: date) -> dict:
    return build_many([posyandu_id], month)[posyandu_id]


# --- reading ---------------------------------------------------------------------------------------------------

def read(posyandu_ids, month: date, section: str) -> dict[int, object]:
    """One section of the stored snapshots of the approved months among `posyandu_ids` (a select or a collection):
    {posyandu id: section data}. Only that section leaves the database. A section the snapshot lacks (an older
    format) reads None (for `report`, None also means a month without figures): see `present`."""
    column = PosyanduMonth.figures if section in FIGURES else PosyanduMonth.snapshot
    rows = db.session.execute(select(PosyanduMonth.posyandu_id, column[section]).where(
        PosyanduMonth.posyandu_id.in_(posyandu_ids), PosyanduMonth.month == dom.month_start(month),
        PosyanduMonth.state == "approved"))
    return {pid: data for pid, data in rows}


def present(frozen: dict) -> dict:
    """The snapshots that hold the section (a reader counts the others live, as if not approved)."""
    return {pid: data for pid, data in frozen.items() if data is not None}


def read_months(posyandu_ids, first: date, last: date, section: str) -> dict[tuple[int, date], object]:
    """A section of the approved snapshots of a range of months: {(posyandu id, month): data}."""
    column = PosyanduMonth.figures if section in FIGURES else PosyanduMonth.snapshot
    rows = db.session.execute(select(PosyanduMonth.posyandu_id, PosyanduMonth.month, column[section])
                              .where(PosyanduMonth.posyandu_id.in_(posyandu_ids),
                                     PosyanduMonth.month >= dom.month_start(first), PosyanduMonth.month <= last,
                                     PosyanduMonth.state == "approved"))
    return {(pid, m): data for pid, m, data in rows if data is not None}


# --- plain data ------------------------------------------------------------------------------------------------

def to_plain(area: dom.Area) -> dict:
    """An Area as JSON data: cells as [band, sex, counts] rows in a fixed order."""
    data = asdict(area)
    data["cells"] = [[band, sex, asdict(cell)] for (band, sex), cell in sorted(area.cells.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))]
    return data


_plain = to_plain  # the core's name


def from_plain(data: dict) -> dom.Area:
    """The domain Area back from its JSON data (unknown keys of a newer format are ignored)."""
    names = {f.name for f in fields(dom.Cell)}
    cells = {(band, sex): dom.Cell(**{k: v for k, v in counts.items() if k in names})
             for band, sex, counts in data.get("cells", [])}
    area = dom.Area(cells=cells)
    area.vitamin_a = dict(data.get("vitamin_a", area.vitamin_a))
    for key in ("ibu_hamil", "kek", "lila_measured", "duties", "present"):
        setattr(area, key, int(data.get(key, 0)))
    area.ilp_registered = dict(data.get("ilp_registered", {}))
    area.ilp_visited = dict(data.get("ilp_visited", {}))
    return area


def cell_from_plain(data: dict | None) -> dom.Cell:
    names = {f.name for f in fields(dom.Cell)}
    return dom.Cell(**{k: v for k, v in (data or {}).items() if k in names})


def canonical(snapshot: dict) -> bytes:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def digest(snapshot: dict) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()
