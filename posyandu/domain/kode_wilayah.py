"""A kode wilayah list (Kemendagri codes) read from CSV: kecamatan and kelurahan/desa by the length of the code.

64.02 is a kabupaten/kota, 64.02.01 a kecamatan, 64.02.01.2001 a kelurahan (village part starting 1) or a desa
(starting 2). Dots and spaces in a code are ignored. Plain Python: no Flask, no database.
"""
import csv
import io
from dataclasses import dataclass, field

MAX_BYTES = 2_000_000
HEADERS_CODE = ("kode", "kode_wilayah", "kode wilayah", "code")
HEADERS_NAME = ("nama", "name", "nama_wilayah", "nama wilayah")


@dataclass
class Row:
    line: int
    code: str  # digits only
    name: str
    level: str  # district | kecamatan | kelurahan
    kind: str | None = None  # kelurahan | desa, for level kelurahan

    @property
    def parent(self) -> str:
        return self.code[:6] if self.level == "kelurahan" else self.code[:4]

    @property
    def dotted(self) -> str:
        c = self.code
        return ".".join(p for p in (c[:2], c[2:4], c[4:6], c[6:]) if p)


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message key and detail)


def normalise(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as spreadsheets on Windows save it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse(text: str) -> Parsed:
    """Rows and per-line errors. Errors are (line, code[, detail]) with codes the view turns into sentences:
    no_header, bad_code, no_name, duplicate, other_district."""
    out = Parsed()
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    sep = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header = None
    seen = {}
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if header is None:
            names = [c.lower().lstrip("\ufeff") for c in cells]
            try:
                header = (next(i for i, c in enumerate(names) if c in HEADERS_CODE),
                          next(i for i, c in enumerate(names) if c in HEADERS_NAME))
            except StopIteration:
                out.errors.append((line, "no_header"))
                return out
            continue
        ci, ni = header
        raw = cells[ci] if ci < len(cells) else ""
        name = " ".join((cells[ni] if ni < len(cells) else "").split())
        code = normalise(raw)
        level = {4: "district", 6: "kecamatan", 10: "kelurahan"}.get(len(code))
        if level is None or len(code.strip()) != len(raw.replace(".", "").replace(" ", "")):
            out.errors.append((line, "bad_code", raw))
            continue
        if not name:
            out.errors.append((line, "no_name", raw))
            continue
        if code in seen:
            out.errors.append((line, "duplicate", raw, seen[code]))
            continue
        seen[code] = line
        kind = ("kelurahan" if code[6] == "1" else "desa") if level == "kelurahan" else None
        out.rows.append(Row(line, code, name[:100], level, kind))
    if header is None:
        out.errors.append((1, "no_header"))
    return out


@dataclass
class Step:
    """One line of the preview: what happens to one row."""

    row: Row
    action: str  # create | update | same
    changes: dict = field(default_factory=dict)  # field → (old, new)
    parent_name: str | None = None
    old: dict | None = None  # the existing place ({"id", …}) for update and same


def _match(existing: dict, uncoded: dict, r: Row):
    """The existing place of this row: by code, else one without a code of the same name (it gets the code)."""
    old = existing.get(r.code)
    if old is None and (old := uncoded.get(r.name.casefold())) is not None:
        old = dict(old, code=None)
    return old


def _changes(old: dict, r: Row) -> dict:
    new = {"name": r.name, "code": r.code}
    if r.kind:
        new["kind"] = r.kind
    return {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}


def plan(parsed: Parsed, district_code: str | None, kecamatan: dict, kelurahan: dict,
         uncoded_kecamatan: dict | None = None, uncoded_kelurahan: dict | None = None) -> tuple[list[Step], list]:
    """What an import would do. `kecamatan`/`kelurahan` map a normalised code to {"id", "name", "code", "kind"}
    of the district's existing places; `uncoded_*` map a casefolded name to places without a code, which a row
    of that name claims. Returns (steps, errors) — errors add rows whose kecamatan is neither in the file nor in
    the district, and rows of another district's code."""
    errors = list(parsed.errors)
    steps: list[Step] = []
    prefix = normalise(district_code)
    kec_in_file = {r.code: r for r in parsed.rows if r.level == "kecamatan"}
    for r in parsed.rows:
        if prefix and not r.code.startswith(prefix):
            errors.append((r.line, "other_district", r.dotted))
            continue
        if r.level == "district":
            continue
        if r.level == "kecamatan":
            old = _match(kecamatan, uncoded_kecamatan or {}, r)
            if old is None:
                steps.append(Step(r, "create"))
            else:
                ch = _changes(old, r)
                steps.append(Step(r, "update" if ch else "same", ch, old=old))
            continue
        parent = kec_in_file.get(r.parent)
        parent_name = parent.name if parent else (kecamatan.get(r.parent) or {}).get("name")
        if parent_name is None:
            errors.append((r.line, "no_kecamatan", r.dotted))
            continue
        old = _match(kelurahan, uncoded_kelurahan or {}, r)
        if old is None:
            steps.append(Step(r, "create", parent_name=parent_name))
        else:
            ch = _changes(old, r)
            steps.append(Step(r, "update" if ch else "same", ch, parent_name, old))
    errors.sort(key=lambda e: e[0])
    return steps, errors
