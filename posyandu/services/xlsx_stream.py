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

Speed (a district's workbook is ~200 MB of XML): the rows of one shape (the types of their values) are written by
a function compiled once for that shape (`_compiled`), one f-string per row instead of a type test per cell; a
sheet is deflated while its rows are built, by a thread of its own (zlib and ISA-L release the GIL), with ISA-L's
deflate when the `isal` package is installed (3× zlib's fastest level here, and smaller); the zip container is
written here (`_Zip`), so a sheet's body can be deflated before the part that opens it, whose <dimension> needs
the row count.
"""
import math
import queue
import re
import struct
import tempfile
import threading
import zlib
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

try:  # ISA-L's deflate (optional): about 3× zlib's level 1 on these sheets, with a smaller file
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover  (without it: zlib, the same format)
    _deflate = zlib

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


def _row_general(r: int, values, style: int = 0) -> str:
    """One <row>, any values: None and "" are left out (empty cells), as openpyxl and XlsxWriter leave them."""
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




# --- rows of one shape, compiled ------------------------------------------------------------------------------

_SERIAL = _EPOCH.toordinal()
_NONE = type(None)
_SHAPES: dict[tuple, object] = {}
_MAX_SHAPES = 4096  # past this many shapes (types of a row's values), rows take the general way


def _compile(shape: tuple):
    """A function writing a row whose values have these exact types (str, int, float, date, None), exactly as
    _row_general does: row(r, values) → the <row>, or None when a value needs more than the plain case (text
    with markup characters, control characters, "_x", a space at an edge; a float that is not finite), which
    _row_general then writes. None when a type is not one of these."""
    names = [f"v{c}" for c in range(len(shape))]
    texts, floats, parts, fixed = [], [], [], ['<row r="{r}">']

    def flush():
        if fixed:
            parts.append("f'" + "".join(fixed) + "'")
            fixed.clear()

    for c, (t, v) in enumerate(zip(shape, names)):
        ref = f"{_COLUMNS[c]}{{r}}"
        if t is str:  # "" is an empty cell
            texts.append(v)
            flush()
            parts.append(f"""(f'<c r="{ref}" t="inlineStr"><is><t>{{{v}}}</t></is></c>' if {v} else '')""")
        elif t is int:
            fixed.append(f'<c r="{ref}"><v>{{{v}}}</v></c>')
        elif t is float:
            floats.append(v)
            fixed.append(f'<c r="{ref}"><v>{{{v}!r}}</v></c>')
        elif t is date:
            fixed.append(f'<c r="{ref}" s="{DATE}"><v>{{{v}.toordinal() - {_SERIAL}}}</v></c>')
        elif t is not _NONE:
            return None
    fixed.append("</row>")
    flush()
    code = ["def row(r, values):", f"    {', '.join(names)}, = values" if names else ""]
    if texts:
        # One test for all the row's texts: printable (no control character; the only space an ASCII one), no
        # markup, no "_x", no space next to a separator (an edge). A false alarm only takes the general way.
        code.append(f"    j = '|' + '|'.join(({', '.join(texts)},)) + '|'")
        code.append("    if not j.isprintable() or '&' in j or '<' in j or '>' in j or '_x' in j or '| ' in j "
                    "or ' |' in j:\n        return None")
    if floats:  # a sum that is not finite: some value is not (or the sum overflowed: the general way anyway)
        code.append(f"    if not isfinite({' + '.join(floats)}):\n        return None")
    code.append(f"    return ''.join(({', '.join(parts)},))")
    scope = {"isfinite": math.isfinite}
    exec("\n".join(code), scope)  # noqa: S102  (code made from the types above, never from the values)
    return scope["row"]


def _row(r: int, values, style: int = 0) -> str:
    """One <row>: None and "" are left out (empty cells), as openpyxl and XlsxWriter leave them."""
    if not style:
        shape = tuple(map(type, values))
        write = _SHAPES.get(shape, False)
        if write is False and len(_SHAPES) < _MAX_SHAPES:
            write = _SHAPES[shape] = _compile(shape)
        if write:
            text = write(r, values)
            if text is not None:
                return text
    return _row_general(r, values, style)


# --- deflate and the zip container ----------------------------------------------------------------------------

_LEVEL = 1
_CHUNK_ROWS = 500
_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a × b modulo the CRC-32 polynomial (reflected), as zlib's crc32.c."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^n) modulo the polynomial
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of a + b from CRC-32(a), CRC-32(b) and len(b) (zlib's crc32_combine)."""
    p, k = 1 << 31, 3
    while len2:
        if len2 & 1:
            p = _multmodp(_X2N[k & 31], p)
        len2 >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def _raw(data: bytes, mode: int) -> bytes:
    """Raw deflate of `data`, ended by `mode` (Z_SYNC_FLUSH: more blocks may follow; Z_FINISH: the last)."""
    c = _deflate.compressobj(_LEVEL, _deflate.DEFLATED, -15)
    return c.compress(data) + c.flush(mode)


class _Body:
    """A part's bytes deflated into a temporary file by a thread of its own, with their CRC-32 and size; the
    compressed blocks end with a sync flush, so the zip entry can put blocks before them (the sheet's opening)."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.crc = self.size = self.deflated = 0
        self._deflater = _deflate.compressobj(_LEVEL, _deflate.DEFLATED, -15)
        self._chunks: queue.Queue = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="xlsx-deflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    self.crc = zlib.crc32(chunk, self.crc)
                    self.size += len(chunk)
                    self.deflated += self.file.write(self._deflater.compress(chunk))
                except BaseException as e:  # noqa: BLE001  (raised in the writing thread)
                    self._error = e

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._chunks.put(chunk)

    def finish(self) -> None:
        """Wait for the thread, end the blocks; the file is then read from its start."""
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        self.deflated += self.file.write(self._deflater.flush(_deflate.Z_SYNC_FLUSH))
        self.file.seek(0)

    def close(self) -> None:
        if self._thread.is_alive():
            self._chunks.put(None)
            self._thread.join()
        self.file.close()


_ZIP64_LIMIT = 0xFFFFFFFF  # from this size or offset on, Zip64 records (a test lowers it)
_MARK = 0xFFFFFFFF  # a field whose value is in the Zip64 extra
_DOS_DATE = (1 << 5) | 1  # 1980-01-01, 00:00:00: every entry's fixed time
_ATTR = 0o600 << 16  # -rw------- (Unix)


class _Zip:
    """A zip file of deflated entries written in order, with Zip64 records where a size or offset needs them."""

    def __init__(self, out):
        self._own = isinstance(out, (str, bytes)) or hasattr(out, "__fspath__")
        self._f = open(out, "wb") if self._own else out
        self._offset = 0
        self._entries: list[tuple] = []

    def _put(self, data: bytes) -> None:
        self._f.write(data)
        self._offset += len(data)

    def add(self, name: str, crc: int, size: int, pieces: list) -> None:
        """An entry of `size` bytes with this CRC-32, whose deflated data are `pieces` in order: bytes, or a
        _Body (its file, read to the end)."""
        csize = sum(len(p) if isinstance(p, bytes) else p.deflated for p in pieces)
        raw_name = name.encode("ascii")
        big = size >= _ZIP64_LIMIT or csize >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, csize) if big else b""
        header_sizes = (_MARK, _MARK) if big else (csize, size)
        self._entries.append((raw_name, crc, csize, size, self._offset))
        self._put(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 45 if big else 20, 0, 0, 8, 0, _DOS_DATE, crc,
                              *header_sizes, len(raw_name), len(extra)) + raw_name + extra)
        for p in pieces:
            if isinstance(p, bytes):
                self._put(p)
            else:
                while block := p.file.read(1 << 20):
                    self._put(block)

    def close(self) -> None:
        """The central directory and its end."""
        try:
            start = self._offset
            for raw_name, crc, csize, size, offset in self._entries:
                big = [v for v in (size, csize, offset) if v >= _ZIP64_LIMIT]
                extra = struct.pack(f"<HH{len(big)}Q", 1, 8 * len(big), *big) if big else b""
                fixed = [_MARK if v >= _ZIP64_LIMIT else v for v in (csize, size, offset)]
                version = 45 if big else 20
                self._put(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", version, 3, version, 0, 0, 8, 0, _DOS_DATE,
                                      crc, fixed[0], fixed[1], len(raw_name), len(extra), 0, 0, 0, _ATTR, fixed[2])
                          + raw_name + extra)
            count, size, end = len(self._entries), self._offset - start, self._offset
            if count >= 0xFFFF or size >= _ZIP64_LIMIT or start >= _ZIP64_LIMIT:
                self._put(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, start))
                self._put(struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1))
                count, size, start = 0xFFFF, _MARK, _MARK
            self._put(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0))
        finally:
            if self._own:
                self._f.close()

    def part(self, name: str, text: str) -> None:
        data = text.encode("utf-8")
        self.add(name, zlib.crc32(data), len(data), [_raw(data, _deflate.Z_FINISH)])


def write_tables(out, sheets, created: datetime) -> None:
    """Write sheets of (title, header, rows) into `out` (a path or a binary file). Each row is a list of str,
    int, float, date, datetime or None; an empty string is an empty cell (as openpyxl and XlsxWriter write it).
    Rows are read once, as they come."""
    titles = [title for title, _h, _r in sheets]
    z = _Zip(out)
    try:
        _package(z, titles, created)
        for n, (title, header, rows) in enumerate(sheets, 1):
            _sheet(z, n, header, rows)
    except BaseException:
        if z._own:
            z._f.close()
        raise
    z.close()


def _package(z: _Zip, titles: list[str], created: datetime) -> None:
    """The parts around the sheets: content types, relationships, properties, the workbook, the styles."""
    n = len(titles)
    sheet_types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                          f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    z.part("[Content_Types].xml", _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
           '<Default Extension="xml" ContentType="application/xml"/>'
           '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
           'extended-properties+xml"/><Override PartName="/docProps/core.xml" ContentType="application/'
           'vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/xl/styles.xml" ContentType="'
           'application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="'
           '/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
           f'main+xml"/>{sheet_types}</Types>')
    z.part("_rels/.rels", _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
           f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
           '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
           'core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="'
           f'{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    z.part("docProps/core.xml", _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
           '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="'
           'http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
           f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
           f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')
    z.part("docProps/app.xml", _HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
           'extended-properties"><Application>Posyandu</Application></Properties>')
    sheets_xml = "".join(f'<sheet name={quoteattr(t[:31])} sheetId="{i}" r:id="rId{i}"/>'
                         for i, t in enumerate(titles, 1))
    z.part("xl/workbook.xml", _HEAD + f'<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews>'
           f'<sheets>{sheets_xml}</sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, n + 1))
    z.part("xl/_rels/workbook.xml.rels", _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/'
           f'package/2006/relationships">{rels}<Relationship Id="rId{n + 1}" Type="{_REL}/styles" '
           'Target="styles.xml"/></Relationships>')
    z.part("xl/styles.xml", _STYLES)


def _sheet(z: _Zip, n: int, header, rows) -> None:
    """Sheet n: its rows deflated (by _Body's thread) as they are built, then the entry: the opening, whose
    <dimension> needs the row count (readers pad rows with empty trailing cells up to it), the rows, the end."""
    body = _Body()
    try:
        body.write(_row(1, header, BOLD).encode("utf-8"))
        chunk, last = [], 1
        add = chunk.append
        for last, values in enumerate(rows, 2):
            add(_row(last, values))
            if len(chunk) == _CHUNK_ROWS:
                body.write("".join(chunk).encode("utf-8"))
                chunk.clear()
        body.write("".join(chunk).encode("utf-8"))
        body.finish()
        selected = ' tabSelected="1"' if n == 1 else ""
        head = (_HEAD + f'<worksheet {_NS} {_NS_R}><dimension ref="A1:{_COLUMNS[len(header) - 1]}{last}"/>'
                f'<sheetViews><sheetView{selected} workbookViewId="0"/></sheetViews>'
                '<sheetFormatPr defaultRowHeight="15"/><sheetData>').encode()
        tail = (b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                b'footer="0.3"/></worksheet>')
        crc = crc32_combine(crc32_combine(zlib.crc32(head), body.crc, body.size), zlib.crc32(tail), len(tail))
        z.add(f"xl/worksheets/sheet{n}.xml", crc, len(head) + body.size + len(tail),
              [_raw(head, _deflate.Z_SYNC_FLUSH), body, _raw(tail, _deflate.Z_FINISH)])
    finally:
        body.close()
