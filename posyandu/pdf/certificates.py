"""Certificates as A4 landscape pages drawn on the canvas (a fixed layout), each with a QR code that opens the
public verification page. One certificate or a whole kelurahan's in one file."""
from io import BytesIO
from itertools import groupby

from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from .common import BOLD, FONT, draw_letterhead, nfc, para, register_fonts

PAGE = landscape(A4)
GREEN = colors.HexColor("#1d6b45")
GOLD = colors.HexColor("#b08a2e")


def qr_modules(payload: str) -> list[list[bool]]:
    """The QR code's dark modules for the payload (reportlab's encoder; no extra dependency).

    Error level by payload length (as pretix does): a short URL can afford more redundancy."""
    qr = QRCode(None, QRErrorCorrectLevel.M if len(payload) <= 80 else QRErrorCorrectLevel.L)
    qr.addData(payload)
    qr.make()
    return qr.modules


def qr_svg_path(payload: str, border: int = 2) -> tuple[int, str]:
    """(size, path) of the same QR code for an SVG preview: viewBox 0 0 size size, one path of dark runs."""
    modules = qr_modules(payload)
    parts = []
    for r, row in enumerate(modules):
        c = 0
        for dark, run in groupby(row):
            k = len(list(run))
            if dark:
                parts.append(f"M{c + border} {r + border}h{k}v1h-{k}z")
            c += k
    return len(modules) + 2 * border, "".join(parts)


def _qr(canv, payload: str, x: float, y: float, size: float, border: int = 2) -> None:
    # One filled path of horizontal runs: reportlab's widget makes a shape per run and encodes twice,
    # which made bulk printing four times slower.
    modules = qr_modules(payload)
    n = len(modules)
    box = size / (n + 2 * border)
    path = canv.beginPath()
    for r, row in enumerate(modules):
        c = 0
        for dark, run in groupby(row):
            k = len(list(run))
            if dark:
                path.rect(x + (c + border) * box, y + size - (r + border + 1) * box, k * box, box)
            c += k
    canv.saveState()
    canv.setFillColor(colors.black)
    canv.drawPath(path, stroke=0, fill=1)
    canv.restoreState()


def _fit(canv, text: str, font: str, size: float, max_width: float, min_size: float = 12) -> float:
    while size > min_size and canv.stringWidth(text, font, size) > max_width:
        size -= 1
    return size


def _page(canv, c: dict, styles) -> None:
    w, h = PAGE
    canv.setStrokeColor(GREEN)
    canv.setLineWidth(3)
    canv.rect(12 * mm, 12 * mm, w - 24 * mm, h - 24 * mm)
    canv.setStrokeColor(GOLD)
    canv.setLineWidth(0.8)
    canv.rect(15 * mm, 15 * mm, w - 30 * mm, h - 30 * mm)

    canv.setFillColor(colors.HexColor("#333333"))
    draw_letterhead(canv, c.get("doc_header") or {"government": c["issuer_org"]}, w / 2, h - 30 * mm)
    canv.setFillColor(GREEN)
    title = nfc(c["title"]).upper()
    canv.setFont(BOLD, _fit(canv, title, BOLD, 30, w - 60 * mm))
    canv.drawCentredString(w / 2, h - 46 * mm, title)
    canv.setFillColor(colors.black)
    canv.setFont(FONT, 10)
    canv.drawCentredString(w / 2, h - 54 * mm, "Nomor: " + nfc(c["number"]))
    canv.setFont(FONT, 12)
    canv.drawCentredString(w / 2, h - 68 * mm, "diberikan kepada")
    name = nfc(c["recipient_name"])
    canv.setFont(BOLD, _fit(canv, name, BOLD, 28, w - 60 * mm))
    canv.drawCentredString(w / 2, h - 82 * mm, name)
    canv.setStrokeColor(GOLD)
    canv.line(w / 2 - 90 * mm, h - 86 * mm, w / 2 + 90 * mm, h - 86 * mm)
    heading = nfc(c["heading"])
    canv.setFillColor(GREEN)
    canv.setFont(BOLD, _fit(canv, heading, BOLD, 17, w - 60 * mm))
    canv.drawCentredString(w / 2, h - 97 * mm, heading)
    body = Paragraph(para(c["body"]), styles["body"])
    bw, bh = body.wrapOn(canv, w - 90 * mm, 40 * mm)
    body.drawOn(canv, (w - bw) / 2, h - 104 * mm - bh)

    # Signature block on the right, QR code and how to check it on the left.
    sx = w - 95 * mm
    canv.setFillColor(colors.black)
    canv.setFont(FONT, 11)
    canv.drawCentredString(sx + 35 * mm, 62 * mm, nfc(f"{c['place']}, {c['issued_on_text']}"))
    canv.drawCentredString(sx + 35 * mm, 56 * mm, nfc(c["issuer_title"]))
    canv.setStrokeColor(colors.grey)
    canv.line(sx, 32 * mm, sx + 70 * mm, 32 * mm)
    canv.setFont(BOLD, _fit(canv, nfc(c["issuer_name"]), BOLD, 12, 70 * mm, 8))
    canv.drawCentredString(sx + 35 * mm, 27 * mm, nfc(c["issuer_name"]))

    _qr(canv, c["verify_url"], 24 * mm, 22 * mm, 34 * mm)
    canv.setFont(FONT, 8)
    canv.drawString(61 * mm, 48 * mm, "Pindai kode QR untuk memeriksa keaslian")
    canv.drawString(61 * mm, 44 * mm, "sertifikat ini, atau buka:")
    canv.setFont(FONT, 7)
    canv.drawString(61 * mm, 39 * mm, nfc(c["verify_url"]))

    if c.get("revoked"):
        canv.saveState()
        canv.setFillColor(colors.Color(0.8, 0, 0, alpha=0.35))
        canv.setFont(BOLD, 90)
        canv.translate(w / 2, h / 2)
        canv.rotate(20)
        canv.drawCentredString(0, 0, "DICABUT")
        canv.restoreState()


def certificates_pdf(certs: list[dict], title: str = "Sertifikat", progress=None) -> bytes:
    """certs: dicts with number, title, heading, body, recipient_name, issuer_org (or doc_header, the district's
    document header), issuer_name, issuer_title, place, issued_on_text, verify_url, revoked. One landscape A4 page each; deterministic output.
    `progress(done, total)` is told after each page (a background job's progress bar)."""
    register_fonts()
    styles = {"body": ParagraphStyle("body", fontName=FONT, fontSize=12.5, leading=17, alignment=1)}
    buf = BytesIO()
    canv = Canvas(buf, pagesize=PAGE, invariant=1, pageCompression=1)
    canv.setTitle(nfc(title))
    canv.setCreator("Posyandu")
    for i, c in enumerate(certs, 1):
        _page(canv, c, styles)
        canv.showPage()
        if progress is not None:
            progress(i, len(certs) + 1)
    if not certs:
        canv.setFont(FONT, 14)
        canv.drawString(30 * mm, PAGE[1] - 30 * mm, "Tidak ada sertifikat.")
        canv.showPage()
    canv.save()
    if progress is not None:
        progress(len(certs) + 1, len(certs) + 1)
    return buf.getvalue()
