"""Display names of report figures (gettext)."""
from flask_babel import lazy_gettext as _l

from ...domain.rules import KEK_MUAC_CM

METRICS = {
    "S": _l("S · balita terdaftar"), "K": _l("K · punya KMS/Buku KIA"), "D": _l("D · ditimbang"),
    "N": _l("N · naik"), "T": _l("T · tidak naik"), "O": _l("O · tidak ditimbang bulan lalu"),
    "B": _l("B · baru pertama ditimbang"), "tidak_hadir": _l("Tidak hadir (K belum ditimbang)"),
    "bgm": _l("BGM · berat badan sangat kurang (BB/U < −3 SD)"), "two_t": _l("2T"),
    "gizi_buruk": _l("Gizi buruk (BB/PB atau BB/TB < −3 SD)"),
    "gizi_kurang": _l("Gizi kurang (BB/PB atau BB/TB −3 s.d. < −2 SD)"),
    "stunted": _l("Pendek dan sangat pendek · stunting (PB/U atau TB/U < −2 SD)"),
    "wasted": _l("Gizi kurang dan gizi buruk · wasting (BB/PB atau BB/TB < −2 SD)"),
    "underweight": _l("Berat badan kurang dan sangat kurang · underweight (BB/U < −2 SD)"),
    "new_stunting": _l("Stunting baru"), "at_risk": _l("Anak berisiko"),
    "vita_biru": _l("Vitamin A biru"), "vita_merah": _l("Vitamin A merah"), "ibu_hamil": _l("Ibu hamil"),
    "kek": _l("Ibu hamil KEK (LILA < %(cm)s cm)", cm=f"{KEK_MUAC_CM:g}".replace(".", ",")),
}
SKDN_ROWS = ("S", "K", "D", "N", "T", "O", "B", "tidak_hadir", "bgm", "two_t", "gizi_buruk", "gizi_kurang")
RISK = {"2T": _l("2T"), "T_low_whz": _l("T dengan BB/TB rendah"), "falling_lhaz": _l("TB/U terus turun")}
KINDS = {"posyandu": _l("Posyandu"), "kelurahan": _l("Kelurahan/desa"), "puskesmas": _l("Puskesmas"),
         "kecamatan": _l("Kecamatan"), "district": _l("Kabupaten/kota")}
# The three prevalences in short, for cards, table heads and the chart legend (the long names are in METRICS).
PREVALENCE = {"stunting_pct": _l("Stunting"), "wasting_pct": _l("Gizi kurang/buruk"), "underweight_pct": _l("BB kurang")}
RANK_KEYS = {**PREVALENCE, "ds": _l("D/S"), "nd": _l("N/D")}


def metric_label(metric: str) -> str:
    from ...labels import GROUPS

    if metric.startswith("ilp-"):
        _, which, grp = metric.split("-", 2)
        return f"{GROUPS.get(grp, grp)} · " + str(_l("terdaftar") if which == "reg" else _l("berkunjung bulan ini"))
    return str(METRICS.get(metric, metric))


# What the last column of a list behind a number holds: a z-score names its indicator ("Stunting baru" listed
# bare numbers, and a reader could not tell they were TB/U).
_Z_LHAZ, _Z_WHZ, _Z_WAZ = _l("z-skor PB/U atau TB/U"), _l("z-skor BB/PB atau BB/TB"), _l("z-skor BB/U")
DETAIL = {"stunted": _Z_LHAZ, "new_stunting": _Z_LHAZ, "wasted": _Z_WHZ, "gizi_buruk": _Z_WHZ, "gizi_kurang": _Z_WHZ,
          "underweight": _Z_WAZ, "bgm": _Z_WAZ, "at_risk": _l("Alasan"), "vita_biru": _l("Tanggal diberi"),
          "vita_merah": _l("Tanggal diberi"), "ibu_hamil": _l("HPHT"), "kek": _l("LILA (cm)")}


def detail_label(metric: str) -> str:
    if metric.startswith("ilp-"):
        return str(_l("Kelompok") if metric.startswith("ilp-reg-") else _l("Kunjungan bulan ini"))
    return str(DETAIL.get(metric, _l("N/T/O/B")))
