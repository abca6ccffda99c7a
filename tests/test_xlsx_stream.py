"""The streaming XLSX writer (services/xlsx_stream.py): what openpyxl reads back is what was written, for every
kind of cell the exports hold, and the same rows give the same bytes."""
import io
from datetime import date, datetime

from openpyxl import load_workbook

from posyandu.services.xlsx_stream import write_tables

ROWS = [
    [1, "Siti & <Putri>", "3174012345678901", date(2024, 5, 17), 12.4, -1.23, None, "", "Gizi baik"],
    [2, " spasi di tepi ", "'=1+2", date(1999, 12, 31), 0.30000000000000004, 0, True, "tab\there", "a\x0bb _x0041_ c"],
    [3, "Āyu Ñ 🌟", None, datetime(2026, 11, 1, 12, 0), 1e-7, 10**15, False, None, "z"],
]
HEADER = ["No", "Nama", "NIK", "Tanggal", "Berat", "ZS", "Flag", "Kosong", "Catatan"]


def _write(rows) -> bytes:
    out = io.BytesIO()
    write_tables(out, [("Data Dasar", HEADER, iter(rows)), ("Kedua", ["A"], iter([]))], datetime(2026, 11, 1))
    return out.getvalue()


def test_cells_read_back_as_written():
    body = _write(ROWS)
    for read_only in (True, False):
        wb = load_workbook(io.BytesIO(body), read_only=read_only)
        assert wb.sheetnames == ["Data Dasar", "Kedua"]
        got = list(wb["Data Dasar"].iter_rows(values_only=True))
        assert got[0] == tuple(HEADER)
        first, second, third = got[1:]
        assert first == (1, "Siti & <Putri>", "3174012345678901", datetime(2024, 5, 17), 12.4, -1.23, None, None,
                         "Gizi baik")
        assert second[1] == " spasi di tepi " and second[2] == "'=1+2"  # text, never a formula
        assert second[3] == datetime(1999, 12, 31) and second[4] == 0.30000000000000004 and second[6] is True
        # A character XML cannot hold is written as Excel writes it (_x000B_, which Excel and LibreOffice read
        # back as the character; openpyxl shows the escape), and a literal _x0041_ is escaped so it stays literal.
        assert second[7] == "tab\there" and second[8] == "a_x000B_b _x005F_x0041_ c"
        assert third[1] == "Āyu Ñ 🌟" and third[3] == datetime(2026, 11, 1, 12, 0) and third[4] == 1e-7
        assert third[5] == 10**15 and third[6] is False
        assert len(got) == 4 and all(len(r) == len(HEADER) for r in got)  # padded to the header's width
    wb = load_workbook(io.BytesIO(body))
    assert wb["Data Dasar"]["A1"].font.b and not wb["Data Dasar"]["A2"].font.b
    assert wb["Data Dasar"]["D2"].number_format == "yyyy-mm-dd"
    assert wb.properties.created == datetime(2026, 11, 1) and wb.properties.modified == datetime(2026, 11, 1)
    assert list(wb["Kedua"].iter_rows(values_only=True)) == [("A",)]


def test_the_same_rows_give_the_same_bytes():
    assert _write(ROWS) == _write(ROWS)
    assert _write(ROWS) != _write(ROWS[:2])


def test_rows_of_one_shape_are_written_as_the_general_way_writes_them():
    """The compiled writer of a row shape (xlsx_stream._compile) gives the same XML as the per-cell one, and leaves
    to it every value it does not write plainly."""
    import random

    from posyandu.services import xlsx_stream

    texts = ["Siti", "", "Ani & Budi", "<b>", "x>y", " lead", "trail ", "a\tb", "a\nb", "a\x0bb", "_x0041_", "_x",
             "Āyu", "🌟", "a | b", "| ", " |", "|", "\ufffe", "\xa0nbsp", "'=1", "0", "-1,20"]
    numbers = [0, 7, -3, 10**15, 0.1, -1.23, 1e-7, 1e300, float("inf"), float("nan"), -0.0]
    others = [None, date(2024, 5, 17), date(1900, 3, 1), datetime(2026, 11, 1, 12, 0), True, False]
    rnd = random.Random(15)
    for r in range(2, 3000):
        values = [rnd.choice(rnd.choice((texts, numbers, others))) for _ in range(rnd.randint(1, 25))]
        assert xlsx_stream._row(r, values) == xlsx_stream._row_general(r, values), values
    assert xlsx_stream._row(5, []) == xlsx_stream._row_general(5, [])


def test_crc32_combine():
    import zlib

    from posyandu.services.xlsx_stream import crc32_combine

    pairs = ((b"", b""), (b"abc", b""), (b"", b"xyz"), (b"hello ", b"world" * 1000), (bytes(range(256)) * 3, b"\x00"))
    for a, b in pairs:
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_zip64_records_read_back(monkeypatch):
    """Past 4 GiB a size or an offset needs Zip64 records: forced here at every size, the workbook reads the same."""
    import zipfile

    from posyandu.services import xlsx_stream

    plain = _write(ROWS)
    monkeypatch.setattr(xlsx_stream, "_ZIP64_LIMIT", 0)
    big = _write(ROWS)
    assert big != plain
    with zipfile.ZipFile(io.BytesIO(plain)) as a, zipfile.ZipFile(io.BytesIO(big)) as b:
        assert a.testzip() is None and b.testzip() is None
        assert [(i.filename, a.read(i)) for i in a.infolist()] == [(i.filename, b.read(i)) for i in b.infolist()]
    wb = load_workbook(io.BytesIO(big), read_only=True)
    assert list(wb["Data Dasar"].iter_rows(values_only=True)) == list(
        load_workbook(io.BytesIO(plain), read_only=True)["Data Dasar"].iter_rows(values_only=True))
