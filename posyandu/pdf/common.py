"""What every PDF shares: the shipped Unicode font (registered once), text cleaning, signature drawing."""
import threading
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register DejaVu Sans once per process (the built-in PDF fonts cannot draw every Indonesian name)."""
    global _registered
    if _registered:
        return
    with _lock:
        if not _registered:
            pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
            pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
            _registered = True


def nfc(text) -> str:
    """User text as one form of Unicode (a name typed with combining marks prints as one glyph), in characters
    the font can draw. reportlab maps a character beyond the BMP (an emoji, 𝔄) to the wrong glyph (😀 printed
    as ὠ); such a character becomes its plain compatibility form when the font has it (𝔄 → A), else "?"."""
    text = unicodedata.normalize("NFC", "" if text is None else str(text))
    covered = _covered()
    if all(_drawable(c, covered) for c in text):
        return text
    return "".join(c if _drawable(c, covered) else _fallback(c, covered) for c in text)


def _covered() -> dict:
    register_fonts()
    return pdfmetrics.getFont(FONT).face.charToGlyph


def _drawable(char: str, covered) -> bool:
    return char in "\n\r\t" or (ord(char) <= 0xFFFF and ord(char) in covered and char not in "\u200d\ufe0f")


def _fallback(char: str, covered) -> str:
    if char in "\u200d\ufe0f" or 0x1F3FB <= ord(char) <= 0x1F3FF:
        return ""  # joiners, emoji presentation and skin-tone modifiers: nothing of their own to draw
    plain = unicodedata.normalize("NFKC", char)
    if plain != char and all(_drawable(c, covered) for c in plain):
        return plain
    return "?"


def para(text) -> str:
    """User text made safe for a reportlab Paragraph: NFC, then &, < and > escaped."""
    return escape(nfc(text))


def letterhead_lines(header: dict | None) -> list[str]:
    """The district's document header as printed lines: "PEMERINTAH KABUPATEN …", then "Sumber dana APBDes" on
    a money document. The one place every PDF takes its header from (District.document_header)."""
    if not header or not header.get("government"):
        return []
    lines = [nfc(header["government"]).upper()]
    if header.get("funding"):
        lines.append("Sumber dana " + nfc(header["funding"]))
    return lines


def letterhead(header: dict | None, size: float = 10, align: int = 1) -> list:
    """The header as platypus flowables (a bold government line, a smaller funding line), for flowing documents."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    register_fonts()
    lines = letterhead_lines(header)
    styles = [ParagraphStyle("lh0", fontName=BOLD, fontSize=size, leading=size * 1.25, alignment=align),
              ParagraphStyle("lh1", fontName=FONT, fontSize=size - 2, leading=(size - 2) * 1.25, alignment=align)]
    return [Paragraph(escape(line), styles[min(i, 1)]) for i, line in enumerate(lines)]


def draw_letterhead(canv, header: dict | None, x_centre: float, y: float, size: float = 11) -> None:
    """The same header drawn centred on a canvas (fixed-layout documents: certificates)."""
    for i, line in enumerate(letterhead_lines(header)):
        canv.setFont(FONT, size if i == 0 else size - 2)
        canv.drawCentredString(x_centre, y - i * (size + 2), line)


def draw_signature(canv, name: str, kind: str, value: str, x: float, y: float, w: float, h: float) -> None:
    """Draw a signature into the box (x, y, w, h) as a named form XObject: strokes for a drawn one, the name
    for a typed one. One XObject per signature, so a reader (or a test) can find each."""
    from ..domain.commitment import PAD_H, PAD_W, load_strokes

    canv.beginForm(name, lowerx=0, lowery=0, upperx=w, uppery=h)
    if kind == "drawn":
        scale = min(w / PAD_W, h / PAD_H)
        ox, oy = (w - PAD_W * scale) / 2, (h - PAD_H * scale) / 2
        canv.setStrokeColorRGB(0.05, 0.1, 0.35)
        canv.setLineWidth(1.3)
        canv.setLineCap(1)
        canv.setLineJoin(1)
        for stroke in load_strokes(value):
            path = canv.beginPath()
            x0, y0 = stroke[0]
            path.moveTo(ox + x0 * scale, oy + (PAD_H - y0) * scale)
            for px, py in stroke[1:] or [(x0 + 1, y0)]:
                path.lineTo(ox + px * scale, oy + (PAD_H - py) * scale)
            canv.drawPath(path, stroke=1, fill=0)
    else:
        canv.setFillColorRGB(0.05, 0.1, 0.35)
        size = 16
        text = nfc(value)
        while size > 8 and canv.stringWidth(text, BOLD, size) > w:
            size -= 1
        canv.setFont(BOLD, size)
        canv.drawCentredString(w / 2, h / 2 - size / 3, text)
    canv.endForm()
    canv.saveState()
    canv.translate(x, y)
    canv.doForm(name)
    canv.restoreState()
