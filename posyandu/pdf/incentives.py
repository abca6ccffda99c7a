"""Incentive documents for a kelurahan's monthly batch, flowing documents in platypus (STYLE 10):

* slips, one per kader, 1–4 to an A4 page (cut along the dashed lines to save paper);
* the daftar penerimaan (A4 landscape): No, name, NIK, role, gross, PPh 21, BPJS, net, bank account or tunai,
  a signature column, totals, and the lurah, bendahara and clerk signing at the foot;
* a kuitansi for the batch total, with the amount in words.

Pure functions: a dict (services.incentives.document_data) in, deterministic PDF bytes out.
"""
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (BaseDocTemplate, Frame, FrameBreak, KeepInFrame, KeepTogether, PageTemplate, Paragraph,
                                SimpleDocTemplate, Spacer, Table, TableStyle)

from ..domain.incentives import rupiah, terbilang
from .common import BOLD, FONT, letterhead, letterhead_lines, nfc, para, register_fonts

INK = colors.HexColor("#222222")
GREY = colors.HexColor("#666666")
LINE = colors.HexColor("#999999")
SHADE = colors.HexColor("#eef3ef")


def _styles(size: float = 9):
    base = ParagraphStyle("base", fontName=FONT, fontSize=size, leading=size * 1.3, textColor=INK)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=size + 4, leading=(size + 4) * 1.25,
                                alignment=1),
        "sub": ParagraphStyle("sub", base, alignment=1, textColor=GREY),
        "b": ParagraphStyle("b", base, fontName=BOLD),
        "r": ParagraphStyle("r", base, alignment=2),
        "rb": ParagraphStyle("rb", base, alignment=2, fontName=BOLD),
        "c": ParagraphStyle("c", base, alignment=1),
        "cb": ParagraphStyle("cb", base, alignment=1, fontName=BOLD),
        "small": ParagraphStyle("small", base, fontSize=size - 1.5, leading=(size - 1.5) * 1.25, textColor=GREY),
        "words": ParagraphStyle("words", base, fontName=BOLD, fontSize=size, leading=size * 1.3),
    }


def _payee(ln: dict) -> str:
    if ln.get("bank_account"):
        return f"{ln.get('bank_name') or 'Bank'} {ln['bank_account']}"
    return "tunai"


def _header(d: dict) -> str:
    return f"{d['kelurahan_kind']} {d['kelurahan']}, Kecamatan {d['kecamatan']}, {d['district']}"


def _doc_title(d: dict, what: str) -> str:
    return nfc(f"{what} — {d['kelurahan_kind']} {d['kelurahan']} — {d['month']}")


# --- slips ------------------------------------------------------------------------------------------------------

def _slip(d: dict, ln: dict, st, width: float) -> list:
    left_w = width * 0.6
    right_w = width - left_w - 4 * mm
    amount_col = 28 * mm
    rows = [[Paragraph(para(f"Insentif {d['month']}"
                            + (f" ({ln['units']} peran)" if ln["units"] > 1 else "")), st["base"]),
             Paragraph(rupiah(ln["base"]), st["r"])]]
    if ln["prorated"] != ln["base"]:
        rows.append([Paragraph(para(f"Prorata {ln['days_served']}/{ln['days_in_month']} hari"), st["base"]),
                     Paragraph(rupiah(ln["prorated"]), st["r"])])
    for cut in ln["reductions"]:
        rows.append([Paragraph("Potongan: " + para(cut["reason"]), st["base"]),
                     Paragraph(rupiah(-cut["amount"]), st["r"])])
    if ln["adjustment"]:
        rows.append([Paragraph("Penyesuaian: " + para(ln["adjustment_reason"] or ""), st["base"]),
                     Paragraph(rupiah(ln["adjustment"]), st["r"])])
    first_total = len(rows)
    rows += [[Paragraph("Jumlah bruto", st["b"]), Paragraph(rupiah(ln["gross"]), st["rb"])],
             [Paragraph(para(f"PPh 21 ({d['pph21_rate']})"), st["base"]), Paragraph(rupiah(-ln["pph21"]), st["r"])]]
    if ln["bpjs"]:
        rows.append([Paragraph("Iuran BPJS Ketenagakerjaan (JKK + JKM)", st["base"]),
                     Paragraph(rupiah(-ln["bpjs"]), st["r"])])
    rows.append([Paragraph("Diterima", st["b"]), Paragraph(rupiah(ln["net"]), st["rb"])])
    money = Table(rows, colWidths=[left_w - amount_col, amount_col])
    money.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 0.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("LINEABOVE", (0, first_total), (-1, first_total), 0.5, LINE),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK), ("BACKGROUND", (0, -1), (-1, -1), SHADE)]))
    notes = [Paragraph(para(n), st["small"]) for n in ln.get("notes") or [] if not n.startswith("Prorata")]
    left = [money, Paragraph("Terbilang: <i>" + para(terbilang(ln["net"])) + "</i>", st["small"]), *notes]
    half = right_w / 2
    bendahara = d["signers"]["bendahara"]["name"] or "(........................)"
    sign = Table([[Paragraph(para(d["place_date"]), st["c"]), ""],
                  [Paragraph("Bendahara", st["c"]), Paragraph("Penerima", st["c"])],
                  ["", ""],
                  [Paragraph(para(bendahara), st["c"]), Paragraph(para(ln["name"]), st["cb"])]],
                 colWidths=[half, half], rowHeights=[None, None, 14 * mm, None])
    sign.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                              ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                              ("LINEBELOW", (0, 2), (-1, 2), 0.3, LINE)]))
    body = Table([[left, sign]], colWidths=[left_w + 4 * mm, right_w])
    body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (0, 0), 4 * mm), ("RIGHTPADDING", (1, 0), (1, 0), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    who = Table([
        [Paragraph("Nama", st["base"]), Paragraph(": " + para(ln["name"]), st["b"]),
         Paragraph("NIK", st["base"]), Paragraph(": " + para(ln["nik"] or "—"), st["base"])],
        [Paragraph("Peran", st["base"]), Paragraph(": " + para(ln["roles_text"]), st["base"]),
         Paragraph("Dibayar ke", st["base"]), Paragraph(": " + para(_payee(ln)), st["base"])],
    ], colWidths=[14 * mm, left_w - 14 * mm, 22 * mm, width - left_w - 22 * mm])
    who.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    right_small = ParagraphStyle("sr", st["small"], alignment=2)
    government = " · ".join(letterhead_lines(d.get("doc_header")))
    head = Table([[Paragraph(para(government), st["small"]), ""],
                  [Paragraph("SLIP INSENTIF KADER POSYANDU", st["b"]), Paragraph(para(d["month"]), st["rb"])],
                  [Paragraph(para(_header(d)), st["small"]),
                   Paragraph(para(d["batch_number"]), right_small)]],
                 colWidths=[width * 0.55, width * 0.45])
    head.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                              ("LINEBELOW", (0, -1), (-1, -1), 0.8, INK)]))
    return [head, Spacer(1, 1.5 * mm), who, Spacer(1, 1.5 * mm), body]


def slips_pdf(d: dict, per_page: int = 3) -> bytes:
    """One slip per line; `per_page` (1–4) slips on each A4 page, separated by dashed cutting lines."""
    register_fonts()
    per_page = max(1, min(per_page, 4))
    margin, gap = 12 * mm, 6 * mm
    w, h = A4
    slot = (h - 2 * margin - gap * (per_page - 1)) / per_page
    frames = [Frame(margin, h - margin - (i + 1) * slot - i * gap, w - 2 * margin, slot, leftPadding=2 * mm,
                    rightPadding=2 * mm, topPadding=2 * mm, bottomPadding=1 * mm, id=f"slip{i}")
              for i in range(per_page)]

    def cut_lines(canv, doc):
        canv.saveState()
        canv.setStrokeColor(LINE)
        canv.setDash(3, 3)
        canv.setLineWidth(0.4)
        for i in range(1, per_page):
            y = h - margin - i * slot - (i - 0.5) * gap
            canv.line(margin, y, w - margin, y)
        canv.restoreState()

    buf = BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
                          bottomMargin=margin, title=_doc_title(d, "Slip insentif kader"), author=nfc(d["district"]),
                          invariant=1)
    doc.addPageTemplates([PageTemplate("slips", frames=frames, onPage=cut_lines)])
    st = _styles(8.6 if per_page >= 4 else 9)
    inner = w - 2 * margin - 4 * mm
    story = []
    for i, ln in enumerate(d["lines"]):
        # KeepInFrame shrinks a slip with many reductions instead of letting it spill into the next slot.
        story.append(KeepInFrame(inner, slot - 3 * mm, _slip(d, ln, st, inner), mode="shrink"))
        if i < len(d["lines"]) - 1:
            story.append(FrameBreak())
    if not story:
        story = [Paragraph("Tidak ada slip dalam batch ini.", st["base"])]
    doc.build(story)
    return buf.getvalue()


# --- daftar penerimaan ------------------------------------------------------------------------------------------

def _signers_block(d: dict, st, width: float) -> Table:
    s = d["signers"]
    cols = [("Mengetahui,", s["lurah"]), ("", s["bendahara"]), (para(d["place_date"]), s["clerk"])]
    top = [Paragraph(c[0] + "<br/>" + para(c[1]["title"]), st["c"]) for c in cols]
    names = [Paragraph(para(c[1]["name"] or "(..............................)"), st["cb"]) for c in cols]
    ids = [Paragraph(para(c[1].get("id_label") or ""), st["c"]) for c in cols]
    t = Table([top, ["", "", ""], names, ids], colWidths=[width / 3] * 3, rowHeights=[None, 18 * mm, None, None])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 0),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _page_number(canv, doc):
    canv.saveState()
    canv.setFont(FONT, 7)
    canv.setFillColor(GREY)
    canv.drawRightString(doc.pagesize[0] - doc.rightMargin, 8 * mm, f"Halaman {doc.page}")
    canv.drawString(doc.leftMargin, 8 * mm, nfc(doc.title))
    canv.restoreState()


def daftar_pdf(d: dict) -> bytes:
    """The daftar penerimaan of the batch: A4 landscape, one row per person with room to sign, totals, signers."""
    register_fonts()
    page = landscape(A4)
    margin = 10 * mm
    width = page[0] - 2 * margin
    st = _styles(8)
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=12 * mm,
                            bottomMargin=14 * mm, title=_doc_title(d, "Daftar penerimaan insentif kader"),
                            author=nfc(d["district"]), invariant=1)
    heading = "DAFTAR PENERIMAAN INSENTIF KADER POSYANDU"
    if d.get("correction_of"):
        heading += " — KOREKSI"
    story = [*letterhead(d.get("doc_header"), 10), Spacer(1, 2 * mm), Paragraph(heading, st["title"]),
             Paragraph(para(_header(d)), st["sub"]),
             Paragraph(para(f"Bulan {d['month']} · PPh 21 {d['pph21_rate']} · "
                            f"No. {d['batch_number']}" + (f" · koreksi atas {d['correction_of']}"
                                                          if d.get("correction_of") else "")), st["sub"]),
             Spacer(1, 4 * mm)]
    cols = [("No", 8), ("Nama / Posyandu", 42), ("NIK", 30), ("Peran", 30), ("Bruto", 27), ("PPh 21", 21),
            ("BPJS TK", 19), ("Diterima", 27), ("Rekening / tunai", 31), ("Tanda tangan", 0)]
    fixed = sum(c[1] for c in cols) * mm
    widths = [c[1] * mm for c in cols[:-1]] + [width - fixed]
    rows = [[Paragraph(c[0], st["cb"]) for c in cols]]
    nik_style = ParagraphStyle("nik", st["base"], fontSize=7.2)
    for i, ln in enumerate(d["lines"], 1):
        sig = f"{i}. ........................"  # zigzag, as on paper: odd numbers left, even right
        rows.append([Paragraph(str(i), st["c"]),
                     Paragraph(para(ln["name"]) + "<br/><font size=6.5 color='#666666'>"
                               + para(ln["posyandu_name"]) + "</font>", st["base"]),
                     Paragraph(para(ln["nik"] or "—"), nik_style),
                     Paragraph(para(ln["roles_text"]), ParagraphStyle("role", st["small"], textColor=INK)),
                     Paragraph(rupiah(ln["gross"]), st["r"]), Paragraph(rupiah(ln["pph21"]), st["r"]),
                     Paragraph(rupiah(ln["bpjs"]), st["r"]), Paragraph(rupiah(ln["net"]), st["rb"]),
                     Paragraph(para(_payee(ln)), st["base"]), Paragraph(sig, st["base"] if i % 2 else st["r"])])
    t = d["totals"]
    rows.append(["", Paragraph("JUMLAH", st["b"]), "", Paragraph(f"{len(d['lines'])} orang", st["base"]),
                 Paragraph(rupiah(t["gross"]), st["rb"]), Paragraph(rupiah(t["pph21"]), st["rb"]),
                 Paragraph(rupiah(t["bpjs"]), st["rb"]), Paragraph(rupiah(t["net"]), st["rb"]), "", ""])
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, LINE), ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("BACKGROUND", (0, -1), (-1, -1), SHADE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 1), (-1, -2), 5), ("BOTTOMPADDING", (0, 1), (-1, -2), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("SPAN", (1, -1), (2, -1)), ("LINEABOVE", (0, -1), (-1, -1), 1, INK)]))
    story += [table, Spacer(1, 3 * mm)]
    # The words, the totals note and the signers stay together: a foot alone on a new page would sign nothing.
    story.append(KeepTogether([
              Paragraph("Jumlah diterima: <b>" + rupiah(t["net"]) + "</b> (<i>" + para(terbilang(t["net"]))
                        + "</i>)", st["base"]),
              Paragraph(para(f"Jumlah bruto {rupiah(t['gross'])}; PPh 21 dipotong {rupiah(t['pph21'])} "
                             f"(dibulatkan ke bawah per orang); iuran BPJS Ketenagakerjaan {rupiah(t['bpjs'])}."),
                        st["small"]),
              Spacer(1, 5 * mm), _signers_block(d, st, width)]))
    doc.build(story, onFirstPage=_page_number, onLaterPages=_page_number)
    return buf.getvalue()


# --- kuitansi ---------------------------------------------------------------------------------------------------

METERAI_FROM = 5_000_000  # UU 10/2020: a receipt above Rp5.000.000 bears a Rp10.000 meterai


def kuitansi_pdf(d: dict) -> bytes:
    """A kuitansi for the batch total: received from the kelurahan treasury, the amount in figures and words, for the
    month's incentives per the attached daftar penerimaan."""
    register_fonts()
    st = _styles(10.5)
    margin = 20 * mm
    width = A4[0] - 2 * margin
    buf = BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=_doc_title(d, "Kuitansi insentif kader"),
                            author=nfc(d["district"]), invariant=1)
    t = d["totals"]
    facts = [
        ("Nomor", d["batch_number"]),
        ("Telah terima dari", f"Bendahara {d['kelurahan_kind']} {d['kelurahan']} ({d['funding_source']} "
                              f"{d['district']})"),
        ("Uang sejumlah", None),
        ("Untuk pembayaran", f"Insentif kader Posyandu bulan {d['month']} untuk {len(d['lines'])} orang kader "
                             f"{d['kelurahan_kind']} {d['kelurahan']}, Kecamatan {d['kecamatan']}, sesuai daftar "
                             f"penerimaan terlampir. Bruto {rupiah(t['gross'])}, PPh 21 {rupiah(t['pph21'])}, "
                             f"iuran BPJS Ketenagakerjaan {rupiah(t['bpjs'])}."),
    ]
    words = Table([[Paragraph("# " + para(terbilang(t["net"])).capitalize() + " #", st["words"])]],
                  colWidths=[width - 45 * mm])
    words.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), SHADE), ("BOX", (0, 0), (-1, -1), 0.6, LINE)]))
    rows = [[Paragraph(k, st["base"]), Paragraph(":", st["base"]),
             words if v is None else Paragraph(para(v), st["b" if k == "Nomor" else "base"])] for k, v in facts]
    body = Table(rows, colWidths=[40 * mm, 5 * mm, width - 45 * mm])
    body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    amount = Table([[Paragraph("<b>" + rupiah(t["net"]) + "</b>", ParagraphStyle("amt", st["base"], fontSize=15,
                                                                                  leading=19))]],
                   colWidths=[70 * mm])
    amount.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, INK), ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                                ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    s = d["signers"]
    col = width / 3
    meterai = "Meterai Rp10.000" if t["net"] > METERAI_FROM else ""
    sig = Table([
        [Paragraph("Setuju dibayar,<br/>" + para(s["lurah"]["title"]), st["c"]),
         Paragraph("Lunas dibayar,<br/>" + para(s["bendahara"]["title"]), st["c"]),
         Paragraph(para(d["place_date"]) + "<br/>Yang menerima,", st["c"])],
        ["", "", Paragraph(meterai, st["small"])],
        [Paragraph(para(s["lurah"]["name"] or "(..............................)"), st["cb"]),
         Paragraph(para(s["bendahara"]["name"] or "(..............................)"), st["cb"]),
         Paragraph(para(s["receiver"]["name"] or "(..............................)"), st["cb"])],
        [Paragraph(para(s["lurah"].get("id_label") or ""), st["c"]),
         Paragraph(para(s["bendahara"].get("id_label") or ""), st["c"]),
         Paragraph(para(s["receiver"]["title"]), st["c"])],
    ], colWidths=[col] * 3, rowHeights=[None, 22 * mm, None, None])
    sig.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("VALIGN", (2, 1), (2, 1), "MIDDLE"),
                             ("ALIGN", (2, 1), (2, 1), "CENTER")]
                            + ([("BOX", (2, 1), (2, 1), 0.4, LINE)] if meterai else [])))
    story = [*letterhead(d.get("doc_header"), 11), Spacer(1, 4 * mm),
             Paragraph("KUITANSI", ParagraphStyle("k", st["title"], fontSize=18, leading=22)),
             Paragraph(para(_header(d)), st["sub"]), Spacer(1, 8 * mm), body, Spacer(1, 4 * mm), amount,
             Spacer(1, 10 * mm), sig]
    doc.build(story)
    return buf.getvalue()
