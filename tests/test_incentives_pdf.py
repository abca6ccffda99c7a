"""Incentive documents: slips (1–4 per A4 page), daftar penerimaan (A4 landscape), kuitansi, XLSX and transfer CSV.
Parsed with pypdf and openpyxl; rendered with pdftoppm (renders kept under /tmp/incentive-renders to look at)."""
import csv
import io
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from posyandu.domain import incentives as dom
from posyandu.pdf.incentives import daftar_pdf, kuitansi_pdf, slips_pdf
from posyandu.services.incentive_exports import batch_xlsx, transfer_csv

NAME = "Ni Luh Putu \u0100yu"
A4 = (595.28, 841.89)
RENDERS = Path("/tmp/incentive-renders")


def line(i, name=None, net_case="full", bank=True):
    d = {"position": i, "name": name or f"Kader Nomor {i}", "nik": f"647401450680{i:04d}",
         "roles_text": "Kader (Melati 1)", "posyandu_name": "Melati 1", "units": 1, "days_served": 30,
         "days_in_month": 30, "base": 1_000_000, "prorated": 1_000_000, "reductions": [], "reductions_total": 0,
         "adjustment": 0, "adjustment_reason": None, "gross": 1_000_000, "pph21": 25_000, "bpjs": 16_800,
         "net": 958_200, "notes": [], "bank_name": "Bankaltimtara" if bank else None,
         "bank_account": f"00123{i:05d}" if bank else None, "bank_account_holder": name or f"Kader Nomor {i}"}
    if net_case == "cut":
        d.update(roles_text="Kader, Bendahara (Melati 1); Kader (Mawar 2)", days_served=11, prorated=366_666,
                 reductions=[{"code": "attendance", "amount": 183_333,
                              "reason": "Tidak hadir pada hari buka bulan ini <50%> & tanpa izin"}],
                 reductions_total=183_333, adjustment=50_000, adjustment_reason="Hadir di posbindu pengganti",
                 gross=233_333, pph21=5_833, bpjs=16_800, net=210_700,
                 notes=["Memegang 3 peran; dibayar satu kali.", "Prorata 11/30 hari."])
    if net_case == "plain":
        d.update(gross=1_000_000, pph21=25_000, bpjs=0, net=975_000)
    return d


def doc_data(n=5):
    lines = [line(1, NAME, "plain"), line(2, "Siti Rahmawati", "cut", bank=False)] + [line(i) for i in range(3, n + 1)]
    return {"district": "Kota Bontang", "kecamatan": "Bontang Utara", "kelurahan": "Api-Api",
            "kelurahan_kind": "Kelurahan", "month": "November 2025", "month_code": "2025-11", "funding_source": "APBD",
            "legal_basis": None, "pph21_rate": "2,5%", "batch_number": "INS/6474/6474021001/2025-11/00001",
            "status": "approved", "correction_of": None, "place_date": "Bontang, 5 Desember 2025",
            "signers": {"lurah": {"title": "Lurah Api-Api", "name": "", "id_label": "NIP. ...................."},
                        "bendahara": {"title": "Bendahara Kelurahan Api-Api", "name": "",
                                      "id_label": "NIP. ...................."},
                        "clerk": {"title": "Yang membuat daftar", "name": "Petugas Kelurahan Api-Api",
                                  "id_label": ""},
                        "receiver": {"title": "Penerima / koordinator kader", "name": ""}},
            "lines": lines, "totals": dom.totals(type("L", (), ln) for ln in lines)}


def read(pdf):
    reader = PdfReader(BytesIO(pdf))
    return reader, " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def size(page):
    return float(page.mediabox.width), float(page.mediabox.height)


def render(pdf: bytes, name: str, dpi: int = 60):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is not installed")
    RENDERS.mkdir(exist_ok=True)
    src = RENDERS / f"{name}.pdf"
    src.write_bytes(pdf)
    for old in RENDERS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(RENDERS / name)], check=True, timeout=60)
    pngs = sorted(RENDERS.glob(f"{name}-*.png"))
    assert pngs and all(p.stat().st_size > 2000 for p in pngs)
    return pngs


def test_totals_of_the_sample_equal_the_sum_of_its_lines():
    d = doc_data(7)
    assert d["totals"]["net"] == sum(ln["net"] for ln in d["lines"])


@pytest.mark.parametrize("per_page,pages", [(1, 7), (3, 3), (4, 2)])
def test_slips_per_page_a4_with_amounts_words_and_names(per_page, pages):
    pdf = slips_pdf(doc_data(7), per_page)
    reader, text = read(pdf)
    assert len(reader.pages) == pages
    assert all(size(p) == pytest.approx(A4, abs=0.5) for p in reader.pages)
    assert NAME in text and "Siti Rahmawati" in text
    assert "Rp1.000.000" in text and "Rp958.200" in text
    assert "sembilan ratus lima puluh delapan ribu dua ratus rupiah" in text
    assert "Tidak hadir pada hari buka bulan ini <50%> & tanpa izin" in text  # escaped, printed as typed
    assert "Hadir di posbindu pengganti" in text and "Prorata 11/30 hari" in text
    assert "tunai" in text and "Bankaltimtara 0012300001" in text
    assert slips_pdf(doc_data(7), per_page) == pdf  # deterministic
    render(pdf, f"slips-{per_page}")


def test_daftar_penerimaan_landscape_with_totals_signers_and_words():
    d = doc_data(5)
    d["lines"][0].update(net=1_000_000, bpjs=0, pph21=0, gross=1_000_000)
    d["lines"] = d["lines"][:1]
    d["totals"] = dom.totals(type("L", (), ln) for ln in d["lines"])
    pdf = daftar_pdf(d)
    reader, text = read(pdf)
    assert len(reader.pages) == 1 and size(reader.pages[0]) == pytest.approx((A4[1], A4[0]), abs=0.5)
    assert "DAFTAR PENERIMAAN INSENTIF KADER POSYANDU" in text
    assert NAME in text and "6474014506800001" in text
    assert "Rp1.000.000" in text and "satu juta rupiah" in text
    assert "Lurah Api-Api" in text and "Bendahara Kelurahan Api-Api" in text and "Petugas Kelurahan Api-Api" in text
    assert "JUMLAH" in text


def test_daftar_penerimaan_of_many_pages_repeats_the_header_and_renders():
    d = doc_data(40)
    pdf = daftar_pdf(d)
    reader, text = read(pdf)
    assert len(reader.pages) >= 3
    assert all("Tanda tangan" in p.extract_text() for p in reader.pages[:-1])
    assert dom.rupiah(d["totals"]["net"]) in text and "Halaman 2" in text
    assert daftar_pdf(d) == pdf
    render(pdf, "daftar")


def test_kuitansi_has_amount_in_figures_and_words_and_meterai_above_five_million():
    d = doc_data(12)
    pdf = kuitansi_pdf(d)
    reader, text = read(pdf)
    assert len(reader.pages) == 1 and size(reader.pages[0]) == pytest.approx(A4, abs=0.5)
    assert "KUITANSI" in text and dom.rupiah(d["totals"]["net"]) in text
    assert dom.terbilang(d["totals"]["net"]).capitalize() in text
    assert "Meterai Rp10.000" in text
    render(pdf, "kuitansi")
    small = doc_data(2)
    assert "Meterai" not in read(kuitansi_pdf(small))[1]


def test_transfer_csv_has_bank_lines_only_and_defuses_formulas():
    d = doc_data(4)
    d["lines"][2]["bank_account_holder"] = "=HYPERLINK(\"http://x\")"
    rows = list(csv.reader(io.StringIO(transfer_csv(d).decode("utf-8"))))
    assert rows[0] == ["No. rekening", "Nama pemilik rekening", "Bank", "Jumlah (Rp)", "Berita transfer"]
    assert [r[0] for r in rows[1:]] == ["0012300001", "0012300003", "0012300004"]  # the cash line is left out
    assert rows[1][1] == NAME and rows[1][3] == "975000" and rows[1][4] == "INSENTIF KADER 2025-11 API-API 1"
    assert rows[2][1].startswith("'=")


def test_xlsx_has_every_line_reasons_and_sum_formulas():
    from openpyxl import load_workbook

    d = doc_data(4)
    wb = load_workbook(BytesIO(batch_xlsx(d)))
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values.index(next(r for r in values if r[0] == "No"))
    assert values[1][0].endswith("Status Disetujui")  # the state in Indonesian, not the code "approved"
    body = values[header + 1: header + 5]
    assert [r[1] for r in body] == [NAME, "Siti Rahmawati", "Kader Nomor 3", "Kader Nomor 4"]
    assert body[1][9].startswith("Tidak hadir pada hari buka") and body[1][11] == "Hadir di posbindu pengganti"
    assert body[1][17] == "tunai" and body[0][2] == "6474014506800001"
    total = values[header + 5]
    assert total[1] == "JUMLAH" and total[15] == f"=SUM(P{header + 2}:P{header + 5})"
    assert sum(r[15] for r in body) == d["totals"]["net"]
