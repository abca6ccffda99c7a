"""The numbers of one Posyandu-month, frozen on approval, and their hash.

A snapshot is plain JSON data with one section per reader, so every report of a closed month reads it and never
the live tables (a closed month prints the same documents forever):

- `versions`: the rules and tables that produced the numbers (growth reference, rules, the KBM tables the month's
  weighings used, the snapshot format and the app version);
- `report`: the monthly report's figures of the Posyandu (domain.reports.Area as data, see `from_plain`);
- `trend`: the month's prevalence cell as the twelve-month trend counts it (under five at the measurement);
- `kader`: the kader with a role at the month's end, and those trained (ids: a kader of two Posyandu counts once);
- `lists`: the people behind each number — per metric, {"posyandu": the Posyandu's name at approval, "ids": person
  ids in the list's order, "detail": the value the list shows beside each, and for the children's lists "band" and
  "sex" (to filter by)}; a person's name, NIK and birth date are read live (they are not month records);
- `eppgbm`: the month's e-PPGBM rows (the "Data Dasar" and "Pertumbuhan" sheets without their running number),
  exactly the values services.report_exports writes, column by column (see `sheet_rows`).

Other features add their own section through `SECTIONS` (name → function(posyandu_ids, month) → {id: data}).
`build_many` computes every section for many Posyandu at once in a fixed number of set-based queries (approving a
kelurahan's 25 Posyandu, or seeding two years of a district, runs no query per Posyandu).

Storage (format 3): the small sections (FIGURES) sit in PosyanduMonth.figures (JSON), which a report over a whole
district reads for 80 Posyandu at once; every other section is a PosyanduMonthSection row holding the zlib of its
canonical JSON, and `lists` one row per metric ("lists/D", with a "lists" row naming the metrics), so a reader
loads and unpacks only the section — or the one list — it needs. The hash is the SHA-256 of the canonical JSON
(sorted keys, no spaces) of the whole snapshot, as built: `assemble` puts the stored parts back together into the
same dict, byte for byte.
"""
import hashlib
import json
import zlib
from collections import defaultdict
from dataclasses import asdict, fields
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from ..domain import reports as dom
from ..extensions import db
from ..models import Measurement, Posyandu, PosyanduMonth, PosyanduMonthSection

FORMAT = 3
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
    names = dict(db.session.execute(select(Posyandu.id, Posyandu.name).where(Posyandu.id.in_(posyandu_ids))).all())
    return {pid: {metric: compact(rows, names.get(pid)) for metric, rows in lists.get(pid, {}).items()}
            for pid in posyandu_ids}


def compact(rows: list, posyandu: str | None) -> dict:
    """A list's [person id, band, sex, detail] rows as columns, with the Posyandu's name at approval; band and sex
    only where a row has them (the children's lists)."""
    out = {"posyandu": posyandu, "ids": [r[0] for r in rows], "detail": [r[3] for r in rows]}
    if any(r[1] is not None or r[2] is not None for r in rows):
        out["band"], out["sex"] = [r[1] for r in rows], [r[2] for r in rows]
    return out


def columns(part, band: str | None = None, sex: str | None = None) -> tuple[tuple[list, list], str | None]:
    """A stored list as ((person ids, details), Posyandu name at approval or None), only the rows of the band and
    sex asked. The columns as stored when nothing is filtered (a list of 1 500 children is not rebuilt row by row
    to show 25 of them)."""
    if isinstance(part, dict) and band is None and sex is None:
        return (part["ids"], part["detail"]), part.get("posyandu")
    rows, name = entries(part)
    rows = [r for r in rows if (band is None or r[1] == band) and (sex is None or r[2] == sex)]
    return ([r[0] for r in rows], [r[3] for r in rows]), name


def entries(part) -> tuple[list, str | None]:
    """A stored list (format 3 columns, or format 2 rows) as ([person id, band, sex, detail] rows, Posyandu name
    at approval or None when the snapshot did not keep it)."""
    if not part:
        return [], None
    if isinstance(part, list):  # format 2
        return part, None
    n = len(part["ids"])
    band, sex = part.get("band") or [None] * n, part.get("sex") or [None] * n
    return [list(r) for r in zip(part["ids"], band, sex, part["detail"])], part.get("posyandu")


def _eppgbm(posyandu_ids: list[int], month: date) -> dict[int, dict]:
    from . import report_exports

    rows = report_exports.eppgbm_by_posyandu(_ids(posyandu_ids), month)
    return {pid: {"layout": "columns", **{sheet: [list(col) for col in zip(*part)]
                                          for sheet, part in rows.get(pid, {"base": [], "growth": []}).items()}}
            for pid in posyandu_ids}


def sheet_rows(section: dict | None, sheet: str) -> list[list]:
    """The rows of one e-PPGBM sheet from the section (stored column by column since format 3: a column such as
    the Posyandu's or the kelurahan's name packs to nearly nothing)."""
    section = section or {}
    if section.get("layout") == "columns":
        return [list(row) for row in zip(*section.get(sheet, []))]
    return section.get(sheet, [])


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


# The small sections, stored as JSON in PosyanduMonth.figures: what a report over many Posyandu reads.
FIGURES = ("report", "trend", "kader")
# Sections stored one part per key ("lists/D"), with an index part ("lists": the keys) so an empty one is known.
SPLIT = ("lists",)


def build_many(posyandu_ids, month: date) -> dict[int, dict]:
    """The snapshots of many Posyandu for one month, each section computed for all of them at once (as plain JSON
    data: what `assemble` gives back from storage)."""
    ids = sorted(set(posyandu_ids))
    month = dom.month_start(month)
    out = {pid: {"month": month.isoformat(), "posyandu_id": pid} for pid in ids}
    if not ids:
        return out
    for name, fn in SECTIONS.items():
        data = fn(ids, month)
        for pid in ids:
            out[pid][name] = data.get(pid)
    return {pid: json.loads(canonical(snap)) for pid, snap in out.items()}


def build(posyandu_id: int, month: date) -> dict:
    return build_many([posyandu_id], month)[posyandu_id]


# --- storage ---------------------------------------------------------------------------------------------------

def pack(value) -> bytes:
    return zlib.compress(canonical(value), 6)


def unpack(data: bytes | None):
    return None if data is None else json.loads(zlib.decompress(data))


def split(snapshot: dict) -> tuple[dict, dict[str, bytes]]:
    """A snapshot as stored: (figures: the FIGURES sections and the top-level keys as JSON, {part name: packed
    section}) — every other section packed, a SPLIT one per key."""
    small = {k: v for k, v in snapshot.items() if k in FIGURES or k not in SECTIONS}
    parts = {}
    for name, value in snapshot.items():
        if name in small:
            continue
        if name in SPLIT and isinstance(value, dict):
            parts[name] = pack(sorted(value))
            parts.update({f"{name}/{key}": pack(part) for key, part in value.items()})
        else:
            parts[name] = pack(value)
    return small, parts


def assemble(small: dict, parts: dict[str, bytes]) -> dict:
    """The whole snapshot from its stored figures and parts (the inverse of `split`)."""
    out = dict(small)
    for name, data in parts.items():
        if "/" in name:
            continue
        value = unpack(data)
        if name in SPLIT and isinstance(value, list):
            value = {key: unpack(parts[f"{name}/{key}"]) for key in value}
        out[name] = value
    return out


def rows_of(posyandu_month_id: int, snapshot: dict) -> tuple[dict, list[dict]]:
    """(figures, section rows) for a bulk insert of an approved month (the seed)."""
    small, parts = split(snapshot)
    return small, [{"posyandu_month_id": posyandu_month_id, "name": name, "data": data}
                   for name, data in sorted(parts.items())]


# --- reading ---------------------------------------------------------------------------------------------------

def _approved(posyandu_ids, first: date, last: date):
    return (PosyanduMonth.posyandu_id.in_(posyandu_ids), PosyanduMonth.month >= dom.month_start(first),
            PosyanduMonth.month <= last, PosyanduMonth.state == "approved")


def _read(posyandu_ids, first: date, last: date, section: str):
    """Rows (posyandu id, month, data) of the approved months in the range: the section's data or None."""
    if section in FIGURES:
        rows = db.session.execute(select(PosyanduMonth.posyandu_id, PosyanduMonth.month,
                                         PosyanduMonth.figures[section]).where(*_approved(posyandu_ids, first, last)))
        return [(pid, m, data) for pid, m, data in rows]
    part = aliased(PosyanduMonthSection)
    cols = [PosyanduMonth.posyandu_id, PosyanduMonth.month, part.data]
    q = select(*cols).outerjoin(part, and_(part.posyandu_month_id == PosyanduMonth.id, part.name == section))
    group = section.split("/", 1)[0]
    if group != section:  # one key of a SPLIT section: known empty when the section's index is there
        index = aliased(PosyanduMonthSection)
        q = q.add_columns(index.id).outerjoin(index, and_(index.posyandu_month_id == PosyanduMonth.id,
                                                          index.name == group))
    out = []
    for pid, m, data, *indexed in db.session.execute(q.where(*_approved(posyandu_ids, first, last))):
        if data is not None:
            value = unpack(data)
            if section in SPLIT and isinstance(value, list):  # the whole of a SPLIT section: all its parts
                value = _whole(pid, m, section, value)
        else:
            value = [] if indexed and indexed[0] is not None else None
        out.append((pid, m, value))
    return out


def _whole(posyandu_id: int, month: date, section: str, keys: list) -> dict:
    rows = db.session.execute(select(PosyanduMonthSection.name, PosyanduMonthSection.data)
                              .join(PosyanduMonth, PosyanduMonth.id == PosyanduMonthSection.posyandu_month_id)
                              .where(PosyanduMonth.posyandu_id == posyandu_id, PosyanduMonth.month == month,
                                     PosyanduMonthSection.name.in_([f"{section}/{k}" for k in keys])))
    parts = dict(rows.all())
    return {k: unpack(parts.get(f"{section}/{k}")) for k in keys}


def read(posyandu_ids, month: date, section: str) -> dict[int, object]:
    """One section of the stored snapshots of the approved months among `posyandu_ids` (a select or a collection):
    {posyandu id: section data}. Only that section leaves the database (a SPLIT section's key is a section of its
    own: "lists/D" is the list behind D alone). A section the snapshot lacks (an older format) reads None (for
    `report`, None also means a month without figures): see `present`."""
    month = dom.month_start(month)
    return {pid: data for pid, _m, data in _read(posyandu_ids, month, month, section)}


def present(frozen: dict) -> dict:
    """The snapshots that hold the section (a reader counts the others live, as if not approved)."""
    return {pid: data for pid, data in frozen.items() if data is not None}


def read_months(posyandu_ids, first: date, last: date, section: str) -> dict[tuple[int, date], object]:
    """A section of the approved snapshots of a range of months: {(posyandu id, month): data}."""
    return {(pid, m): data for pid, m, data in _read(posyandu_ids, first, last, section) if data is not None}


def load(posyandu_ids, month: date) -> dict[int, dict]:
    """The whole stored snapshots of the approved months among `posyandu_ids` (every section: for checking the
    hash or exporting; a report reads only its section)."""
    pms = db.session.scalars(select(PosyanduMonth).where(*_approved(posyandu_ids, month, dom.month_start(month))))
    return {pm.posyandu_id: pm.snapshot for pm in pms}


def verify(pm: PosyanduMonth) -> bool:
    """Whether the stored snapshot of an approved month still has the hash taken at approval."""
    snap = pm.snapshot
    return snap is not None and digest(snap) == pm.snapshot_sha256


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
