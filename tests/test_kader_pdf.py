"""PDFs: parsed with pypdf (pages, A4, text with non-ASCII names), rendered with pdftoppm, deterministic."""
import shutil
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader

from posyandu.domain.commitment import dump_strokes
from posyandu.pdf import certificates as cert_pdf
from posyandu.pdf.commitment import commitment_pdf

NAME = "Ni Luh Putu \u0100yu"
A4 = (595.28, 841.89)
STROKES = dump_strokes([[(100, 200), (200, 120), (300, 260), (420, 150), (520, 240)], [(150, 300), (600, 300)]])
TEXT = "Saya berkomitmen untuk:\n\n1. Hadir pada setiap hari buka.\n2. Kunjungan rumah <4 kali> & laporan tepat waktu."


def commitment_data(**kw):
    d = dict(title="Komitmen Kinerja Kader Posyandu", year=2026, text=TEXT, text_sha256="a" * 64, kader_name=NAME,
             nik_masked="····0001", posyandu="Melati 1", kelurahan="Api-Api", district="Kota Bontang",
             signed_at="24 November 2026, 09.12 WITA", signature_kind="drawn", signature=STROKES,
             countersigner_name="Siti Rahmawati", countersigner_title="Ketua Posyandu Melati 1",
             countersigned_at="24 November 2026, 09.30 WITA", countersignature_kind="drawn",
             countersignature=STROKES, place_date="Kota Bontang, 24 November 2026")
    d.update(kw)
    return d


def cert(n=1, **kw):
    d = dict(number=f"SK/6474/2026/{n:06d}", title="Sertifikat Kader Posyandu", heading="Kader Madya",
             body="Telah memenuhi keterampilan dasar kader Posyandu.", recipient_name=NAME,
             issuer_org="Pemerintah Kota Bontang", issuer_name="dr. Kepala", issuer_title="Kepala Dinas Kesehatan",
             place="Kota Bontang", issued_on_text="24 November 2026", verify_url=f"http://x.test/v/tok{n}",
             revoked=False)
    d.update(kw)
    return d


def signature_forms(reader) -> list[str]:
    xobjects = reader.pages[0]["/Resources"].get("/XObject", {})
    return sorted(k for k, v in xobjects.items() if v.get_object().get("/Subtype") == "/Form")


def render_png(pdf: bytes, tmp_path, name: str):
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is not installed")
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(src), str(tmp_path / name)], check=True, timeout=60)
    pngs = sorted(tmp_path.glob(f"{name}*.png"))
    assert pngs and all(p.stat().st_size > 2000 for p in pngs)
    return pngs


def test_commitment_pdf_is_a4_with_exact_text_both_signatures_and_renders(tmp_path):
    pdf = commitment_pdf(commitment_data())
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
    text = reader.pages[0].extract_text()
    assert NAME in text and "Siti Rahmawati" in text
    for line in TEXT.splitlines():
        assert line in text  # the exact lines, escaping and all ("<4 kali> &")
    assert signature_forms(reader) == ["/FormXob.sig_countersign", "/FormXob.sig_kader"]
    assert commitment_pdf(commitment_data()) == pdf  # deterministic
    render_png(pdf, tmp_path, "commitment")


def test_commitment_pdf_before_countersigning_and_typed_signature():
    pdf = commitment_pdf(commitment_data(signature_kind="typed", signature=NAME, countersigner_name=None,
                                         countersignature=None, countersignature_kind=None, countersigned_at=""))
    reader = PdfReader(BytesIO(pdf))
    assert signature_forms(reader) == ["/FormXob.sig_kader"]
    assert "belum ditandatangani" in reader.pages[0].extract_text()


def test_certificates_are_landscape_a4_one_page_each_with_qr_of_the_verify_url(tmp_path, monkeypatch):
    payloads = []
    real = cert_pdf.qr_modules
    monkeypatch.setattr(cert_pdf, "qr_modules", lambda value: payloads.append(value) or real(value))
    pdf = cert_pdf.certificates_pdf([cert(1), cert(2, recipient_name="Kelurahan Api-Api", revoked=True)])
    reader = PdfReader(BytesIO(pdf))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4[::-1], abs=0.5)
    first, second = (p.extract_text() for p in reader.pages)
    assert NAME in first and "SK/6474/2026/000001" in first and "http://x.test/v/tok1" in first
    assert "DICABUT" in second and "DICABUT" not in first
    assert payloads == ["http://x.test/v/tok1", "http://x.test/v/tok2"]
    assert cert_pdf.certificates_pdf([cert(1)]) == cert_pdf.certificates_pdf([cert(1)])
    render_png(pdf, tmp_path, "certs")


def test_names_typed_with_combining_marks_print_as_one_letter():
    decomposed = "Ni Luh Putu A\u0304yu"
    text = PdfReader(BytesIO(cert_pdf.certificates_pdf([cert(recipient_name=decomposed)]))).pages[0].extract_text()
    assert NAME in text


def test_empty_bulk_print_is_still_a_valid_pdf():
    assert len(PdfReader(BytesIO(cert_pdf.certificates_pdf([]))).pages) == 1
