"""A batch as a spreadsheet (XLSX, openpyxl) and as a CSV for a bank's bulk transfer. Pure: document dict → bytes.

Text from people (names, account holders) is written as text: a leading = + - @ would make a spreadsheet run it as
a formula (CSV/formula injection), so such a value gets a leading apostrophe."""
import csv
import io

from ..domain import incentives as dom

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def transfer_reference(d: dict, line: dict) -> str:
    """What the bank shows the kader: 'INSENTIF KADER 2025-11 API-API 7'."""
    kel = "".join(ch if ch.isalnum() else "-" for ch in d["kelurahan"].upper()).strip("-")
    return f"INSENTIF KADER {d['month_code']} {kel} {line['position']}"[:50]


TRANSFER_HEADER = ["No. rekening", "Nama pemilik rekening", "Bank", "Jumlah (Rp)", "Berita transfer"]


def transfer_csv(d: dict) -> bytes:
    """No. rekening, pemilik, bank, jumlah, berita — one row per person paid to a bank account (cash lines are
    left out, and so are lines with nothing to pay). Indonesian headers, like the rest of the documents."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(TRANSFER_HEADER)
    for ln in d["lines"]:
        if ln.get("bank_account") and ln["net"] > 0:
            w.writerow([safe(ln["bank_account"]), safe(ln.get("bank_account_holder") or ln["name"]),
                        safe(ln.get("bank_name")), ln["net"], transfer_reference(d, ln)])
    return out.getvalue().encode("utf-8")


COLUMNS = [("No", 5), ("Nama", 28), ("NIK", 19), ("Posyandu", 18), ("Peran", 30), ("Hari", 7), ("Insentif", 12),
           ("Prorata", 12), ("Potongan", 12), ("Alasan potongan", 40), ("Penyesuaian", 12), ("Alasan penyesuaian", 30),
           ("Bruto", 12), ("PPh 21", 11), ("BPJS TK", 10), ("Diterima", 12), ("Bank", 14), ("No. rekening", 18),
           ("Pemilik rekening", 24), ("Catatan", 40)]


def batch_xlsx(d: dict) -> bytes:
    """The batch with every figure and reason, one row per person, totals as SUM formulas over the rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Insentif"
    ws.append([f"Insentif kader Posyandu — {d['kelurahan_kind']} {d['kelurahan']}, Kecamatan {d['kecamatan']}, "
               f"{d['district']}"])
    ws.append([f"Bulan {d['month']} · No. {d['batch_number']} · Sumber dana {d['funding_source']} · "
               f"PPh 21 {d['pph21_rate']} · Status {dom.STATUS_NAMES.get(d['status'], d['status'])}"])
    ws.append([])
    ws.append([c for c, _ in COLUMNS])
    header_row = ws.max_row
    bold, shade = Font(bold=True), PatternFill("solid", fgColor="EEF3EF")
    for i, (_, width) in enumerate(COLUMNS, 1):
        cell = ws.cell(header_row, i)
        cell.font, cell.fill = bold, shade
        ws.column_dimensions[get_column_letter(i)].width = width
    for i, ln in enumerate(d["lines"], 1):
        ws.append([i, safe(ln["name"]), safe(ln["nik"] or ""), safe(ln["posyandu_name"]), safe(ln["roles_text"]),
                   f"{ln['days_served']}/{ln['days_in_month']}", ln["base"], ln["prorated"], ln["reductions_total"],
                   safe("; ".join(f"{c['reason']} ({c['amount']})" for c in ln["reductions"])), ln["adjustment"],
                   safe(ln["adjustment_reason"] or ""), ln["gross"], ln["pph21"], ln["bpjs"], ln["net"],
                   safe(ln.get("bank_name") or ""), safe(ln.get("bank_account") or "tunai"),
                   safe(ln.get("bank_account_holder") or ""), safe(" ".join(ln.get("notes") or []))])
    first, last = header_row + 1, ws.max_row
    money_cols = [7, 8, 9, 11, 13, 14, 15, 16]
    total = ["", "JUMLAH"] + [""] * (len(COLUMNS) - 2)
    for c in money_cols:
        letter = get_column_letter(c)
        total[c - 1] = f"=SUM({letter}{first}:{letter}{last})" if d["lines"] else 0
    ws.append(total)
    for c in range(1, len(COLUMNS) + 1):
        ws.cell(ws.max_row, c).font = bold
    for row in ws.iter_rows(min_row=first, max_row=ws.max_row):
        for c in money_cols:
            row[c - 1].number_format = "#,##0"
        row[2].number_format = "@"  # NIK and account numbers stay text (no 6.47E+15)
        row[17].number_format = "@"
    for c in (10, 12, 20):
        for row in ws.iter_rows(min_row=first, max_row=last, min_col=c, max_col=c):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(first, 3)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
