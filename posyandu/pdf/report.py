"""The monthly Posyandu (or area) report as an A4 PDF in the shape Puskesmas expect: SKDN by age band and sex,
the indicators, activities and ILP coverage. Pure function: data → bytes (deterministic)."""
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .common import BOLD, FONT, letterhead, para, register_fonts

HEAD_BG = colors.HexColor("#e5f5ee")
LINE = colors.HexColor("#9fb0aa")


def _num(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.1f}".replace(".", ",")
    return str(v)


def _table(section: dict, st, widths=None, first_col=None) -> Table:
    head = [Paragraph(para(h), st["head"]) for h in section["header"]]
    rows = [head] + [[Paragraph(para(r[0]), st["cell"])] + [Paragraph(_num(v), st["num"]) for v in r[1:]]
                     for r in section["rows"]]
    t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, LINE), ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


def monthly_report_pdf(d: dict) -> bytes:
    """d: report_data() of the blueprint (title, subtitle, skdn, ratios, other, ilp) and doc_header, the
    district's document header. A4 landscape, one or two
    pages."""
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8, leading=10)
    st = {"title": ParagraphStyle("title", base, fontName=BOLD, fontSize=13, leading=16, spaceAfter=2),
          "sub": ParagraphStyle("sub", base, fontSize=9, textColor=colors.HexColor("#444444"), spaceAfter=6),
          "h2": ParagraphStyle("h2", base, fontName=BOLD, fontSize=10, leading=13, spaceBefore=6, spaceAfter=3),
          "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=7.5, leading=9, alignment=1),
          "cell": base, "num": ParagraphStyle("num", base, alignment=2),
          "note": ParagraphStyle("note", base, fontSize=7, textColor=colors.HexColor("#555555"))}
    buf = BytesIO()
    size = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=d["title"], author="Posyandu", invariant=1)
    width = size[0] - 24 * mm
    n = len(d["skdn"]["header"]) - 1
    skdn_widths = [52 * mm] + [(width - 52 * mm) / n] * n
    story = [*letterhead(d.get("doc_header"), 9, align=0), Spacer(1, 2 * mm), Paragraph(para(d["title"]), st["title"]), Paragraph(para(d["subtitle"]), st["sub"]),
             Paragraph("SKDN", st["h2"]), _table(d["skdn"], st, skdn_widths)]
    half = (width - 8 * mm) / 2
    left = [Paragraph(para(d["ratios_title"]), st["h2"]), _table(d["ratios"], st, [half - 28 * mm, 28 * mm]),
            Paragraph(para(d["other_title"]), st["h2"]), _table(d["other"], st, [half - 28 * mm, 28 * mm])]
    right = [Paragraph(para(d["ilp_title"]), st["h2"]),
             _table(d["ilp"], st, [half - 66 * mm, 22 * mm, 22 * mm, 22 * mm])]
    pair = Table([[left, right]], colWidths=[half + 4 * mm, half + 4 * mm], hAlign="LEFT")
    pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [KeepTogether([pair]), Spacer(1, 4 * mm), Paragraph(para(d["note"]), st["note"])]
    doc.build(story)
    return buf.getvalue()
