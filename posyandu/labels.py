"""Display names for the codes stored in the database, through gettext."""
from flask_babel import lazy_gettext as _l

GROUPS = {
    "ibu_hamil": _l("Ibu hamil"),
    "nifas": _l("Ibu nifas"),
    "balita": _l("Bayi & balita"),
    "usia_sekolah_remaja": _l("Usia sekolah & remaja"),
    "dewasa": _l("Usia produktif"),
    "lansia": _l("Lansia"),
}
SEX = {"L": _l("Laki-laki"), "P": _l("Perempuan")}
ROLES = {
    "district_admin": _l("Admin kabupaten/kota"),
    "kelurahan_clerk": _l("Petugas kelurahan/desa"),
    "nakes": _l("Nakes Puskesmas"),
    "ketua": _l("Ketua Posyandu"),
    "kader": _l("Kader"),
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
ACTIONS = {"create": _l("dibuat"), "update": _l("diubah"), "delete": _l("dihapus")}
WEEKDAYS = [_l("Senin"), _l("Selasa"), _l("Rabu"), _l("Kamis"), _l("Jumat"), _l("Sabtu"), _l("Minggu")]
FIELD_NAMES = {
    "name": _l("Nama"), "nik": _l("NIK"), "kk_number": _l("No. KK"), "sex": _l("Jenis kelamin"),
    "birth_date": _l("Tanggal lahir"), "birth_place": _l("Tempat lahir"), "address": _l("Alamat"), "rt": _l("RT"),
    "rw": _l("RW"), "phone": _l("No. HP"), "mother_id": _l("Ibu"), "father_name": _l("Nama ayah"),
    "father_nik": _l("NIK ayah"), "birth_order": _l("Anak ke-"), "birth_weight_kg": _l("Berat lahir"),
    "birth_length_cm": _l("Panjang lahir"), "has_kia_book": _l("Buku KIA"), "consent": _l("Persetujuan"),
    "consent_by": _l("Pemberi persetujuan"), "posyandu_id": _l("Posyandu"), "deleted_at": _l("Dihapus"),
}


def age_text(birth, on) -> str:
    """Age as a kader says it: '1 th 4 bl', '7 bl', '12 hari'."""
    from .domain.lifecycle import age_in_months

    months = age_in_months(birth, on)
    if months < 1:
        return _l("%(n)s hari", n=(on - birth).days)
    if months < 24:
        return _l("%(n)s bl", n=months)
    if months < 60:
        return _l("%(y)s th %(m)s bl", y=months // 12, m=months % 12)
    return _l("%(y)s th", y=months // 12)


def masked_nik(nik: str | None) -> str:
    """Show a NIK's last four digits only, in lists that other people may glance at."""
    return "····" + nik[-4:] if nik else "—"
