"""Score a CSV of child measurements with WHO z-scores, streaming and vectorised (millions of rows in seconds)."""
from __future__ import annotations

import csv
import io
from itertools import islice
from pathlib import Path

import numpy as np

from .growth import DAYS_PER_MONTH, INDICATORS, score_arrays

OUT_COLUMNS = [c for k in INDICATORS for c in (k, k + "_flag")]
CHUNK_ROWS = 100_000
_FLAG_TEXT = np.array(["", "0", "1"], dtype=object)
_Z_LIMIT = 3000  # z-scores within +/-30 are formatted through a lookup table (fast path)
_Z_TEXT = np.array(["%.2f" % (k / 100) for k in range(-_Z_LIMIT, _Z_LIMIT + 1)] + [""], dtype=object)
_SEX = {"1": 1.0, "2": 2.0, "m": 1.0, "f": 2.0, "l": 1.0, "p": 2.0}  # L/P: laki-laki / perempuan
_MEASURE = {"l": "l", "h": "h"}
_OEDEMA = {"y": True, "1": True, "n": False, "2": False, "": False}


def _code(text: str) -> str:
    """A cell as a lower-case code (sex, measure, oedema)."""
    return text.strip().lower()


def _float(text: str) -> float:
    """One cell as a float; blank or unparseable -> NaN."""
    try:
        return float(text) if text else np.nan
    except ValueError:
        return np.nan


def _floats(values: list[str], decimal_comma: bool) -> np.ndarray:
    """A column of cells as floats; blank or unparseable cells -> NaN."""
    if decimal_comma:
        values = [v.replace(",", ".") for v in values]
    try:
        return np.array([v or "nan" for v in values], dtype=float)  # fast path: every cell parses
    except ValueError:
        return np.fromiter(map(_float, values), float, len(values))


def _z_text(z: np.ndarray, decimal_comma: bool) -> list[str]:
    """Two-decimal text, blank for NaN."""
    k = np.rint(z * 100)
    fast = np.abs(k) <= _Z_LIMIT
    text = _Z_TEXT[np.where(fast, k + _Z_LIMIT, 2 * _Z_LIMIT + 1).astype(np.intp)]
    slow = np.flatnonzero(~fast & ~np.isnan(z))
    text[slow] = ["%.2f" % v for v in z[slow].tolist()]
    text = text.tolist()
    return [t.replace(".", ",") for t in text] if decimal_comma else text


def _score_columns(columns: dict[str, list[str]], n: int, decimal_comma: bool):
    """Appended cells (one tuple of text per row) for one chunk, given its input columns by name."""
    blank = [""] * n
    get = lambda name: columns.get(name, blank)  # noqa: E731
    num = lambda name: _floats(get(name), decimal_comma)  # noqa: E731
    sex = np.array([_SEX.get(v) or _SEX.get(_code(v), np.nan) for v in get("sex")])
    age = num("age_days")
    if "age_months" in columns:  # exact days from months, as WHO anthro does with is_age_in_month
        age = np.where(np.isnan(age), num("age_months") * DAYS_PER_MONTH, age)
    measure = np.array([_MEASURE.get(v) or _MEASURE.get(_code(v), "") for v in get("measure")])
    oedema = np.array([_OEDEMA[v] if v in _OEDEMA else _code(v) in ("y", "1") for v in get("oedema")], dtype=bool)
    res = score_arrays(sex, age, num("weight_kg"), num("length_cm"), measure, num("head_cm"), num("muac_cm"), oedema)
    out = []
    for name in OUT_COLUMNS:
        v = res[name]
        if name.endswith("_flag"):
            out.append(_FLAG_TEXT[np.where(np.isnan(v), 0, v + 1).astype(np.intp)].tolist())
        else:
            out.append(_z_text(v, decimal_comma))
    return zip(*out)


def score_csv(in_path_or_file, out_file, chunk_rows: int = CHUNK_ROWS) -> int:
    """Copy a measurements CSV to out_file with z-score and flag columns appended; returns the number of rows."""
    fin = open(in_path_or_file, newline="", encoding="utf-8-sig") if isinstance(in_path_or_file, (str, Path)) \
        else in_path_or_file
    fout = open(out_file, "w", newline="", encoding="utf-8") if isinstance(out_file, (str, Path)) else out_file
    try:
        first = fin.readline()
        # Indonesian-locale spreadsheets save ';'-separated files with decimal commas
        d = ";" if first.count(";") > first.count(",") else ","
        decimal_comma = d == ";"
        header = next(csv.reader([first], delimiter=d), [])
        if header:
            header[0] = header[0].lstrip("\ufeff")
        col = {h.strip().lower(): i for i, h in enumerate(header)}
        width = len(header)
        writer = csv.writer(fout, delimiter=d, lineterminator="\n")
        writer.writerow(header + OUT_COLUMNS)
        total = 0
        while lines := list(islice(fin, chunk_rows)):
            text = "".join(lines)
            while text.count('"') % 2 and (more := fin.readline()):  # finish a quoted field spanning lines
                text += more
            body = [line.rstrip("\r\n") for line in lines]
            if '"' not in text and all(line.count(d) == width - 1 for line in body):
                # fast path (plain cells): split the whole chunk at once and append to the original lines
                flat = d.join(body).split(d)
                columns = {name: flat[i::width] for name, i in col.items()}
                extra = _score_columns(columns, len(body), decimal_comma)
                fout.write("".join(f"{line}{d}{d.join(cells)}\n" for line, cells in zip(body, extra)))
                total += len(body)
                continue
            # quoted or ragged rows: the csv module parses them; rows are padded / cut to the header width
            rows = [(r + [""] * width)[:width] for r in csv.reader(io.StringIO(text), delimiter=d)]
            columns = {name: [r[i] for r in rows] for name, i in col.items()}
            for row, cells in zip(rows, _score_columns(columns, len(rows), decimal_comma)):
                row.extend(cells)
            writer.writerows(rows)
            total += len(rows)
        return total
    finally:
        if fin is not in_path_or_file:
            fin.close()
        if fout is not out_file:
            fout.close()
