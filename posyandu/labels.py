"""Display names for the codes stored in the database, through gettext."""
from datetime import date
from decimal import Decimal
from functools import lru_cache

import flask_babel
from flask_babel.speaklater import LazyString

from .domain.lifecycle import age_in_months
from .extensions import catalogue, locale_name


def _translated(msgid: str) -> str:
    return catalogue().ugettext(msgid)


def _l(msgid: str) -> LazyString:
    """flask-babel's `lazy_gettext`, read straight from the request's catalogue (`extensions.catalogue`, what
    `_()` in templates reads): its own way there went through `g` five more times for each label shown."""
    return LazyString(_translated, msgid)


GROUPS = {
    "ibu_hamil": _l("Ibu hamil"),
    "nifas": _l("Ibu nifas"),
    "balita": _l("Bayi & balita"),
    "usia_sekolah_remaja": _l("Usia sekolah & remaja"),
    "dewasa": _l("Usia produktif"),
    "lansia": _l("Lansia"),
}
SEX = {"L": _l("Laki-laki"), "P": _l("Perempuan")}
BATCH_STATUS = {"draft": _l("draf"), "approved": _l("disetujui"), "paid": _l("dibayar")}
ROLES = {
    "district_admin": _l("Admin kabupaten/kota"),
    "kelurahan_clerk": _l("Petugas kelurahan/desa"),
    "nakes": _l("Nakes Puskesmas"),
    "ketua": _l("Ketua Posyandu"),
    "kader": _l("Kader"),
    "installation_admin": _l("Admin instalasi"),
}
POSITIONS = {
    "kader": _l("Kader"),
    "ketua": _l("Ketua"),
    "sekretaris": _l("Sekretaris"),
    "bendahara": _l("Bendahara"),
    "bidang_pendidikan": _l("Ketua bidang pendidikan"),
    "bidang_kesehatan": _l("Ketua bidang kesehatan"),
    "bidang_pekerjaan_umum": _l("Ketua bidang pekerjaan umum"),
    "bidang_perumahan_rakyat": _l("Ketua bidang perumahan rakyat"),
    "bidang_trantibumlinmas": _l("Ketua bidang trantibumlinmas"),
    "bidang_sosial": _l("Ketua bidang sosial"),
}
OUTCOMES = {"lahir_hidup": _l("Lahir hidup"), "lahir_mati": _l("Lahir mati"), "keguguran": _l("Keguguran")}
ACTIONS = {"create": _l("dibuat"), "update": _l("diubah"), "delete": _l("dihapus"), "merge": _l("digabung")}
WEEKDAYS = [_l("Senin"), _l("Selasa"), _l("Rabu"), _l("Kamis"), _l("Jumat"), _l("Sabtu"), _l("Minggu")]
FIELD_NAMES = {
    "name": _l("Nama"), "nik": _l("NIK"), "kk_number": _l("No. KK"), "sex": _l("Jenis kelamin"),
    "birth_date": _l("Tanggal lahir"), "birth_place": _l("Tempat lahir"), "address": _l("Alamat"), "rt": _l("RT"),
    "rw": _l("RW"), "phone": _l("No. HP"), "mother_id": _l("Ibu"), "father_name": _l("Nama ayah"),
    "father_nik": _l("NIK ayah"), "birth_order": _l("Anak ke-"), "birth_weight_kg": _l("Berat lahir"),
    "birth_length_cm": _l("Panjang lahir"), "has_kia_book": _l("Buku KIA"), "consent": _l("Persetujuan"),
    "consent_by": _l("Pemberi persetujuan"), "posyandu_id": _l("Posyandu"), "deleted_at": _l("Dihapus"),
    "left_on": _l("Keluar sejak"), "left_reason": _l("Alasan keluar"), "left_note": _l("Keterangan keluar"),
    "merged_into_id": _l("Digabung ke"),
}


def _gettext(msgid: str, **variables) -> str:
    """flask-babel's `gettext`, read straight from the request's catalogue like `_l`."""
    text = catalogue().ugettext(msgid)
    return text % variables if variables else text


def age_text(birth, on) -> str:
    """Age as a kader says it: '1 th 4 bl', '7 bl', '12 hari'."""
    _ = _gettext  # eager: called per row while rendering, lazy strings cost more

    months = age_in_months(birth, on)
    if months < 1:
        return _("%(n)s hari", n=(on - birth).days)
    if months < 24:
        return _("%(n)s bl", n=months)
    if months < 60:
        return _("%(y)s th %(m)s bl", y=months // 12, m=months % 12)
    return _("%(y)s th", y=months // 12)


def masked_nik(nik: str | None) -> str:
    """Show a NIK's last four digits only, in lists that other people may glance at."""
    return "····" + nik[-4:] if nik else "—"

MEJA = {1: _l("Meja 1 · Pendaftaran"), 2: _l("Meja 2 · Penimbangan & pengukuran"), 3: _l("Meja 3 · Pencatatan"),
        4: _l("Meja 4 · Penyuluhan"), 5: _l("Meja 5 · Pelayanan"), 0: _l("Selesai")}
MEJA_SHORT = {1: _l("Pendaftaran"), 2: _l("Pengukuran"), 3: _l("Pencatatan"), 4: _l("Penyuluhan"),
              5: _l("Pelayanan"), 0: _l("Selesai")}
DUES = {"no_nik": _l("belum ada NIK"), "imunisasi": _l("imunisasi jatuh tempo"), "vitamin_a": _l("vitamin A"),
        "absent": _l("lama tidak datang")}
INDICATORS = {"bb_u": _l("BB/U"), "tb_u": _l("PB/U atau TB/U"), "bb_tb": _l("BB/PB atau BB/TB"), "imt_u": _l("IMT/U"),
              "lk_u": _l("LK/U"), "lila_u": _l("LILA/U"), "imt": _l("IMT"), "td": _l("Tekanan darah"),
              "lila": _l("LILA"), "lingkar_perut": _l("Lingkar perut"), "gula": _l("Gula darah sewaktu")}
CATEGORIES = {
    "sangat_kurang": _l("Berat badan sangat kurang"), "kurang": _l("Berat badan kurang"), "normal": _l("Normal"),
    "risiko_lebih": _l("Risiko berat badan lebih"), "sangat_pendek": _l("Sangat pendek"), "pendek": _l("Pendek"),
    "tinggi": _l("Tinggi"), "gizi_buruk": _l("Gizi buruk"), "gizi_kurang": _l("Gizi kurang"),
    "gizi_baik": _l("Gizi baik"), "berisiko_gizi_lebih": _l("Berisiko gizi lebih"), "gizi_lebih": _l("Gizi lebih"),
    "obesitas": _l("Obesitas"), "sangat_kurus": _l("Sangat kurus"), "kurus": _l("Kurus"), "gemuk": _l("Gemuk"),
    "prehipertensi": _l("Prahipertensi"), "hipertensi": _l("Hipertensi"), "kek": _l("KEK (kurang energi kronis)"),
    "obesitas_sentral": _l("Obesitas sentral"), "tinggi_gula": _l("Tinggi"), "waspada": _l("Waspada"),
}
NTOB = {"N": _l("N · naik"), "T": _l("T · tidak naik"), "O": _l("O · bulan lalu tidak ditimbang"),
        "B": _l("B · baru pertama ditimbang")}
FINDINGS = {"T": _l("Berat tidak naik (T)"), "2T": _l("Dua kali tidak naik (2T)"), "BGM": _l("Di bawah garis merah (BGM)"),
            "O": _l("Bulan lalu tidak ditimbang"), "stunted": _l("Pendek (stunting)"),
            "new_stunting": _l("Stunting baru"), "wasted": _l("Gizi kurang/buruk (wasting)"),
            "underweight": _l("Berat badan kurang"), "overweight": _l("Gizi lebih"), "kek": _l("KEK"),
            "high_bp": _l("Tekanan darah tinggi"), "high_glucose": _l("Gula darah tinggi"), "obese": _l("Obesitas")}
SERVICES = {"imunisasi": _l("Imunisasi"), "vitamin_a": _l("Vitamin A"), "obat_cacing": _l("Obat cacing"),
            "pmt": _l("PMT"), "ttd": _l("Tablet tambah darah (TTD)"), "kb": _l("KB"), "rujukan": _l("Rujukan")}
CHECKS = {"waz_flag": _l("BB/U di luar batas wajar WHO"), "lhaz_flag": _l("PB/TB menurut umur di luar batas wajar WHO"),
          "whz_flag": _l("BB/PB di luar batas wajar WHO"), "baz_flag": _l("IMT/U di luar batas wajar WHO"),
          "hcz_flag": _l("Lingkar kepala di luar batas wajar WHO"), "acz_flag": _l("LILA di luar batas wajar WHO"),
          "weight_drop": _l("Berat turun terlalu banyak sejak penimbangan terakhir"),
          "weight_jump": _l("Berat naik terlalu banyak sejak penimbangan terakhir"),
          "length_shrink": _l("Panjang/tinggi lebih pendek dari pengukuran terakhir"),
          "length_jump": _l("Panjang/tinggi naik terlalu banyak sejak pengukuran terakhir"),
          "bmi_implausible": _l("IMT dari berat dan tinggi ini tidak mungkin"),
          "height_implausible": _l("Tinggi badan di luar batas wajar"),
          "weight_implausible": _l("Berat badan di luar batas wajar"),
          "weight_change_adult": _l("Berat berubah lebih dari 10 kg sejak penimbangan terakhir")}

CARD_FLAGS = {**FINDINGS, "flagged": _l("Nilai terakhir ditandai tidak wajar"),
              "imunisasi_overdue": _l("Imunisasi terlambat"), "screening_refer": _l("Skrining: perlu rujuk")}

# Why a person left the roll (domain.identity.LEAVE_REASONS).
LEAVE_REASONS = {"pindah": _l("Pindah"), "meninggal": _l("Meninggal"), "lainnya": _l("Bukan sasaran lagi / lainnya")}
TRANSFER_STATES = {"requested": _l("menunggu persetujuan"), "approved": _l("disetujui"), "rejected": _l("ditolak")}

# The six SPM fields a Posyandu may serve (Permendagri 13/2024), in the regulation's order.
SPM_FIELDS = {
    "kesehatan": _l("Kesehatan"),
    "pendidikan": _l("Pendidikan"),
    "pekerjaan_umum": _l("Pekerjaan umum dan penataan ruang"),
    "perumahan_rakyat": _l("Perumahan rakyat dan kawasan permukiman"),
    "trantibumlinmas": _l("Ketenteraman, ketertiban umum dan perlindungan masyarakat"),
    "sosial": _l("Sosial"),
}
REGISTRATION_GAPS = {
    "registration_number": _l("Nomor registrasi"),
    "sk": _l("SK pembentukan"),
    "spm_fields": _l("Bidang SPM"),
    "board": _l("Pengurus"),
    "verification": _l("Verifikasi kelurahan/desa"),
    "validation": _l("Validasi kabupaten/kota"),
}
REVIEW_STATES = {"baru": _l("Belum diverifikasi"), "terverifikasi": _l("Terverifikasi"),
                 "tervalidasi": _l("Tervalidasi"), "dikembalikan": _l("Dikembalikan")}
ASSET_KINDS = {
    "laptop": _l("Laptop"),
    "baby_scale": _l("Timbangan bayi digital"),
    "dacin": _l("Dacin"),
    "standing_scale": _l("Timbangan berdiri"),
    "length_board": _l("Papan ukur panjang badan"),
    "stadiometer": _l("Stadiometer"),
    "lila_tape": _l("Pita LILA"),
    "head_tape": _l("Pita lingkar kepala"),
    "tensimeter": _l("Tensimeter"),
}
ASSET_CONDITIONS = {"baik": _l("Baik"), "rusak_ringan": _l("Rusak ringan"), "rusak_berat": _l("Rusak berat"),
                    "hilang": _l("Hilang")}
CHECK_STATES = {"ok": _l("sesuai jadwal"), "due_soon": _l("segera diperiksa"), "overdue": _l("lewat jadwal periksa"),
                "never": _l("belum pernah diperiksa")}


# Dates and weights in templates, remembered per (value, format, locale). Babel looks the locale's patterns up
# again for each call (the card's 69 dates and 49 numbers were a sixth of its time), while a Posyandu's pages
# show the same few hari buka dates and weights over and over. Only plain dates and numbers are kept: a datetime
# is moved to the user's timezone first and goes straight through.
_FORMATS = 8192


@lru_cache(maxsize=_FORMATS, typed=True)
def _date_in(value, fmt, _locale: str) -> str:
    return flask_babel.format_date(value, fmt)


@lru_cache(maxsize=_FORMATS, typed=True)
def _decimal_in(value, fmt, _locale: str) -> str:
    return flask_babel.format_decimal(value, fmt)


def dateformat(value=None, format=None, rebase=True):  # noqa: A002 (flask-babel's filter signature)
    """flask-babel's `dateformat` filter, remembered for plain dates."""
    if type(value) is date:
        return _date_in(value, format, locale_name())
    return flask_babel.format_date(value, format, rebase)


def decimalformat(number, format=None):  # noqa: A002
    """flask-babel's `decimalformat` filter, remembered for ints, floats and Decimals."""
    if type(number) in (int, float, Decimal):
        return _decimal_in(number, format, locale_name())
    return flask_babel.format_decimal(number, format)
