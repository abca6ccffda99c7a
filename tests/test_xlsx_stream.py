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
