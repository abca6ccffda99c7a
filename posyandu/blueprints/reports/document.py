"""The monthly report as rows of labelled figures, shared by the PDF and the XLSX (the screen draws its own)."""
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _

from ...domain import reports as dom
from ...labels import GROUPS
from .labels import METRICS, SKDN_ROWS

KIND_TITLES = {"posyandu": "Posyandu", "kelurahan": "Kelurahan/Desa", "puskesmas": "Puskesmas",
               "kecamatan": "Kecamatan", "district": "Kabupaten/Kota"}


def area_title(kind: str, name: str) -> str:
    """'Kelurahan/Desa Api-Api', but 'Kota Bontang' and 'Puskesmas Bontang Utara' as they are: a name that already
    says its kind is not prefixed again ('Kabupaten/Kota Kota Bontang')."""
    words = {w.lower() for w in KIND_TITLES[kind].split("/")}
    return name if name.split(" ", 1)[0].lower() in words else f"{KIND_TITLES[kind]} {name}"


def report_data(kind: str, name: str, month: date, area: dom.Area, final_on: date | None = None) -> dict:
    """Every table of the monthly report: header and rows, numbers as numbers, percentages with one decimal.
    A closed month (`final_on`: the day of its last approval) prints that day, not the day of printing."""
    t = area.total()
    bands = [b[0] for b in dom.AGE_BANDS]
    header = [""] + [f"{b} {_('bl')} {s}" for b in bands for s in dom.SEXES] + [_("Jumlah L"), _("Jumlah P"), _("Jumlah")]
    skdn = []
    for key in SKDN_ROWS:
        row = [str(METRICS[key])]
        row += [getattr(area.cells.get((b, s), dom.Cell()), key) for b in bands for s in dom.SEXES]
        row += [getattr(area.total(sex="L"), key), getattr(area.total(sex="P"), key), getattr(t, key)]
        skdn.append(row)
    ratios = [[label, getattr(t, attr)] for label, attr in
              (("K/S", "ks"), ("D/S", "ds"), ("D/K", "dk"), ("N/D", "nd"),
               (_("Stunting (TB/U < −2 SD)"), "stunting_pct"), (_("Gizi kurang/buruk (BB/TB < −2 SD)"), "wasting_pct"),
               (_("BB kurang (BB/U < −2 SD)"), "underweight_pct"))]
    other = [[str(METRICS["vita_biru"]), area.vitamin_a.get("biru", 0)],
             [str(METRICS["vita_merah"]), area.vitamin_a.get("merah", 0)],
             [str(METRICS["ibu_hamil"]), area.ibu_hamil], [_("Ibu hamil diukur LILA"), area.lila_measured],
             [str(METRICS["kek"]), area.kek], [str(METRICS["new_stunting"]), t.new_stunting],
             [_("Kader hadir / tugas di hari buka"), f"{area.present} / {area.duties}"],
             [_("Kehadiran kader (%)"), area.attendance]]
    ilp = [[str(GROUPS[g]), area.ilp_registered.get(g, 0), area.ilp_visited.get(g, 0), area.ilp_coverage(g)]
           for g in GROUPS]
    month_name = format_date(month, "MMMM yyyy")
    return {
        "title": _("Laporan bulanan %(area)s", area=area_title(kind, name)),
        "subtitle": (_("Bulan %(month)s · final, disetujui %(day)s", month=month_name,
                       day=format_date(final_on, "d MMMM yyyy")) if final_on else
                     _("Bulan %(month)s · dibuat %(today)s", month=month_name,
                       today=format_date(date.today(), "d MMMM yyyy"))),
        "month_name": month_name,
        "skdn": {"header": header, "rows": skdn},
        "ratios": {"header": [_("Indikator"), "%"], "rows": ratios},
        "other": {"header": [_("Kegiatan"), _("Jumlah")], "rows": other},
        "ilp": {"header": [_("Kelompok ILP"), _("Terdaftar"), _("Berkunjung"), _("Cakupan (%)")], "rows": ilp},
        "sheets": [("skdn", "SKDN"), ("ratios", _("Indikator")), ("other", _("Kegiatan")), ("ilp", "ILP")],
        "per_posyandu_header": ["Posyandu", "S", "K", "D", "N", "T", "O", "B", _("Tidak hadir"), "BGM", "2T", "K/S",
                                "D/S", "D/K", "N/D", "Stunting %", _("Gizi kurang/buruk %"), _("BB kurang %")],
        "consistent": t.consistent(),
        "ratios_title": _("Indikator"), "other_title": _("Kegiatan"), "ilp_title": _("Cakupan ILP per kelompok"),
        "note": _("S: balita 0–59 bulan terdaftar pada akhir bulan (umur dalam bulan penuh pada akhir bulan). "
                  "N/T/O/B dari penimbangan terakhir anak di bulan ini, sehingga D = N + T + O + B. Tidak hadir: "
                  "anak K yang belum ditimbang. Gizi buruk/kurang dan prevalensi dari pengukuran sah terakhir; "
                  "nilai tidak wajar (ditandai) tidak dihitung."),
    }
