"""The signed Komitmen Kinerja Kader as an A4 PDF: the exact text, its hash and both signatures."""
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .common import BOLD, FONT, draw_signature, letterhead, para, register_fonts


class Signature(Flowable):
    """A signature box: the drawing (or typed name) above a line."""

    def __init__(self, name: str, kind: str | None, value: str | None, width: float, height: float = 28 * mm):
        super().__init__()
        self.name, self.kind, self.value = name, kind, value
        self.width, self.height = width, height

    def draw(self):
        if self.value:
            draw_signature(self.canv, self.name, self.kind, self.value, 0, 2 * mm, self.width, self.height - 4 * mm)
        self.canv.setStrokeColor(colors.grey)
        self.canv.setLineWidth(0.5)
        self.canv.line(0, 0, self.width, 0)


def _styles():
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=14)
    return {
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=15, leading=19, alignment=1, spaceAfter=2),
        "sub": ParagraphStyle("sub", base, alignment=1, textColor=colors.HexColor("#444444"), spaceAfter=10),
        "body": ParagraphStyle("body", base, fontSize=10.5, leading=15, spaceAfter=4),
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=10, textColor=colors.HexColor("#555555")),
        "cell": base,
        "center": ParagraphStyle("center", base, alignment=1),
        "centerb": ParagraphStyle("centerb", base, alignment=1, fontName=BOLD),
    }


def _text_paragraphs(text: str, style) -> list:
    """The exact signed text: every line kept (blank lines become space), nothing reflowed away."""
    out = []
    for line in text.split("\n"):
        out.append(Paragraph(para(line), style) if line.strip() else Spacer(1, 4))
    return out


# How a signer was identified (Commitment.signer_method / countersigner_method), as printed.
IDENTIFIED = {"account": "dengan akunnya sendiri", "pin": "dengan PIN pribadinya",
              "entered": "nama dan jabatan dicatat oleh kelurahan"}


def commitment_pdf(d: dict) -> bytes:
    """d: title, year, text, text_sha256, kader_name, nik_masked, posyandu, kelurahan, district, signed_at,
    signature_kind, signature, countersigner_name, countersigner_title, countersigned_at, countersignature_kind,
    countersignature, place_date, doc_header (the district's document header). Returns a deterministic A4 PDF."""
    register_fonts()
    st = _styles()
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=f"{d['title']} {d['year']} — {d['kader_name']}",
                            author=d.get("district", ""), invariant=1)
    story = [*letterhead(d.get("doc_header")), Spacer(1, 4 * mm), Paragraph(para(d["title"]).upper(), st["title"]),
             Paragraph(para(f"Tahun {d['year']} · {d['district']}"), st["sub"])]
    facts = [("Nama", d["kader_name"]), ("NIK", d.get("nik_masked") or "—"), ("Posyandu", d["posyandu"]),
             ("Kelurahan/desa", d["kelurahan"])]
    t = Table([[Paragraph(para(k), st["cell"]), Paragraph(": " + para(v), st["cell"])] for k, v in facts],
              colWidths=[35 * mm, None])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [t, Spacer(1, 8)]
    story += _text_paragraphs(d["text"], st["body"])
    story.append(Spacer(1, 10))

    col = (A4[0] - 44 * mm - 10 * mm) / 2
    left = [Paragraph("Mengetahui,", st["center"]), Paragraph(para(d.get("countersigner_title") or "Ketua Posyandu / Lurah"), st["center"]),
            Spacer(1, 3), Signature("sig_countersign", d.get("countersignature_kind"), d.get("countersignature"), col),
            Paragraph(para(d.get("countersigner_name") or "(belum ditandatangani)"), st["centerb"]),
            Paragraph(para(d.get("countersigned_at") or ""), st["center"])]
    right = [Paragraph(para(d.get("place_date") or ""), st["center"]), Paragraph("Kader Posyandu", st["center"]),
             Spacer(1, 3), Signature("sig_kader", d["signature_kind"], d["signature"], col),
             Paragraph(para(d["kader_name"]), st["centerb"]), Paragraph(para(d["signed_at"]), st["center"])]
    sig = Table([[left, right]], colWidths=[col + 5 * mm, col + 5 * mm])
    sig.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(KeepTogether([sig]))
    story.append(Spacer(1, 12))
    typed = [k for k in ("signature_kind", "countersignature_kind") if d.get(k) == "typed"]
    note = ("Tanda tangan diketik (tanpa gambar) karena perangkat tidak menjalankan JavaScript. " if typed else "")
    if d.get("signer_method") in IDENTIFIED:
        note += f"Kader dikenali {IDENTIFIED[d['signer_method']]}. "
    if d.get("countersigner_method") in IDENTIFIED:
        note += f"Yang mengetahui: {IDENTIFIED[d['countersigner_method']]}. "
    story.append(Paragraph(para(
        f"{note}Teks yang ditandatangani disimpan tanpa perubahan. SHA-256 teks (UTF-8): {d['text_sha256']}. "
        f"Dokumen ini dicetak dari sistem informasi Posyandu."), st["small"]))
    doc.build(story)
    return buf.getvalue()
