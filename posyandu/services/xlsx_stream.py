"""A streaming XLSX writer for large plain tables: text, numbers, dates, a bold header row. No Flask here.

Why not a library: at 150 000 children the e-PPGBM workbook holds about 5.6 million cells, and both openpyxl's
write-only mode and XlsxWriter's constant-memory mode spend most of their time in per-cell Python (type
dispatch, cell objects, attribute escaping) — about 0.1 million cells a second on the laptop class, 50 s for a
district. The sheets here need four kinds of cell, so each row becomes one string of SpreadsheetML with the
cells XlsxWriter would write (inline strings, as its constant-memory mode does), streamed into the zip: several
times faster (bench/bench_eppgbm.py compares all three on the same rows and checks the cell values are equal).

The package parts are the minimal set Excel, LibreOffice and openpyxl read: content types, relationships, the
workbook, one style sheet (0 normal, 1 bold, 2 date yyyy-mm-dd), the sheets and the document properties, whose
dates are the `created` given. Zip entries carry a fixed time, so the same rows give the same bytes.
"""
import math
import re
import shutil
import tempfile
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_EPOCH = date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug, for dates after February 1900)
_EPOCH_DT = datetime(1899, 12, 30)
# Characters XML 1.0 cannot hold; Excel writes them as _xHHHH_ (as XlsxWriter does). A literal "_x…_" in the
# text is escaped the same way so it reads back as written.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_EDGE_SPACE = re.compile(r"^\s|\s$")

_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STYLES = (_HEAD + f'<styleSheet {_NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
           '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
           '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
BOLD, DATE = 1, 2


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


_COLUMNS = [_column(i) for i in range(702)]  # A … ZZ


def _excel_escape(m) -> str:
    """A character XML cannot hold as _xHHHH_; a literal _xHHHH_ with its underscore escaped (_x005F_xHHHH_)."""
    text = m.group()
    return "_x%04X_" % ord(text) if len(text) == 1 else "_x005F" + text


def _text(value: str) -> str:
    if not value.isprintable() and _CONTROL.search(value):
        value = _CONTROL.sub(_excel_escape, value)
    elif "_x" in value:
        value = _CONTROL.sub(_excel_escape, value)
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


def _other(ref: str, v, s: str, style: int) -> str:
    """A cell that is not plain text or a number: a date, a boolean, anything else as its text."""
    t = type(v)
    if t is date:
        return f'<c r="{ref}" s="{style or DATE}"><v>{(v - _EPOCH).days}</v></c>'
    if t is datetime:
        serial = (v - _EPOCH_DT).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or DATE}"><v>{serial!r}</v></c>'
    if t is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
    if t is float and math.isfinite(v) or t is int:  # subclasses of float and int (numpy's, Decimal-free)
        return f'<c r="{ref}"{s}><v>{v!r}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(str(v))}</is></c>'


def _row(r: int, values, style: int = 0) -> str:
    """One <row>: None and "" are left out (empty cells), as openpyxl and XlsxWriter leave them."""
    cols = _COLUMNS
    s = f' s="{style}"' if style else ""
    out = [f'<row r="{r}">']
    add = out.append
    for c, v in enumerate(values):
        t = type(v)
        if t is str:
            if v:
                add(f'<c r="{cols[c]}{r}"{s} t="inlineStr"><is>{_text(v)}</is></c>')
        elif t is int or (t is float and math.isfinite(v)):
            add(f'<c r="{cols[c]}{r}"{s}><v>{v!r}</v></c>')
        elif v is not None:
            add(_other(f"{cols[c]}{r}", v, s, style))
    add("</row>")
    return "".join(out)


def write_tables(out, sheets, created: datetime) -> None:
    """Write sheets of (title, header, rows) into `out` (a path or a binary file). Each row is a list of str,
    int, float, date, datetime or None; an empty string is an empty cell (as openpyxl and XlsxWriter write it).
    Rows are read once, as they come."""
    titles = [title for title, _h, _r in sheets]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        def part(name: str, text: str):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, text.encode("utf-8"))

        n = len(titles)
        sheet_types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                              f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
        part("[Content_Types].xml", _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'extended-properties+xml"/><Override PartName="/docProps/core.xml" ContentType="application/'
             'vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/xl/styles.xml" ContentType="'
             'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="'
             '/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
             f'main+xml"/>{sheet_types}</Types>')
        part("_rels/.rels", _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
             f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
             '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
             'core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="'
             f'{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        part("docProps/core.xml", _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
             '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="'
             'http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
             f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
             f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')
        part("docProps/app.xml", _HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
             'extended-properties"><Application>Posyandu</Application></Properties>')
        sheets_xml = "".join(f'<sheet name={quoteattr(t[:31])} sheetId="{i}" r:id="rId{i}"/>'
                             for i, t in enumerate(titles, 1))
        part("xl/workbook.xml", _HEAD + f'<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews>'
             f'<sheets>{sheets_xml}</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, n + 1))
        part("xl/_rels/workbook.xml.rels", _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/'
             f'package/2006/relationships">{rels}<Relationship Id="rId{n + 1}" Type="{_REL}/styles" '
             'Target="styles.xml"/></Relationships>')
        part("xl/styles.xml", _STYLES)
        for n, (title, header, rows) in enumerate(sheets, 1):
            # The rows go to a temporary file first: the sheet's <dimension> (which readers use to pad rows with
            # empty trailing cells) comes before them and needs their count.
            with tempfile.TemporaryFile() as body:
                body.write(_row(1, header, BOLD).encode("utf-8"))
                chunk, last = [], 1
                for last, values in enumerate(rows, 2):
                    chunk.append(_row(last, values))
                    if len(chunk) == 500:
                        body.write("".join(chunk).encode("utf-8"))
                        chunk.clear()
                body.write("".join(chunk).encode("utf-8"))
                body.seek(0)
                info = zipfile.ZipInfo(f"xl/worksheets/sheet{n}.xml", date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                selected = ' tabSelected="1"' if n == 1 else ""
                with z.open(info, "w", force_zip64=True) as f:
                    f.write((_HEAD + f'<worksheet {_NS} {_NS_R}><dimension ref="A1:{_COLUMNS[len(header) - 1]}'
                             f'{last}"/><sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
                             '<sheetFormatPr defaultRowHeight="15"/><sheetData>').encode())
                    shutil.copyfileobj(body, f, 1 << 20)
                    f.write(b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                            b'header="0.3" footer="0.3"/></worksheet>')
