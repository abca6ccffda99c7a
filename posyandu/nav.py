"""The main navigation: (endpoint, label, roles that see it). Entries whose blueprint is absent are skipped."""
from flask_babel import lazy_gettext as _l

ALL = ("district_admin", "kelurahan_clerk", "nakes", "ketua", "kader")

NAV = [
    ("sessions.index", _l("Hari buka"), ALL),
    ("people.list_people", _l("Sasaran"), ALL),
    ("people.register_person", _l("Daftar baru"), ALL),
    ("home_visits.tasks", _l("Kunjungan rumah"), ("ketua", "kader", "nakes", "kelurahan_clerk")),
    ("reports.index", _l("Laporan"), ALL),
    ("months.overview", _l("Tutup bulan"), ("district_admin", "kelurahan_clerk", "nakes", "ketua")),
    ("kader.list_kader", _l("Kader"), ("district_admin", "kelurahan_clerk", "nakes", "ketua")),
    ("kader.commitments_list", _l("Komitmen"), ("kader",)),
    ("me.home", _l("Saya"), ("kader", "ketua")),
    ("incentives.batches", _l("Insentif"), ("district_admin", "kelurahan_clerk")),
    ("bpjs.enrolment", _l("BPJS TK"), ("district_admin", "kelurahan_clerk")),
    ("places.index", _l("Wilayah"), ("district_admin",)),
    ("kit.totals", _l("Inventaris"), ("district_admin", "kelurahan_clerk", "nakes")),
    ("institution.completeness", _l("Registrasi Posyandu"), ("district_admin", "kelurahan_clerk")),
    ("accounts.list_users", _l("Akun"), ("district_admin",)),
    ("reference.kbm", _l("Referensi"), ("district_admin",)),
    ("devices.index", _l("Laptop"), ("district_admin",)),
    ("districts.settings", _l("Pengaturan"), ("district_admin",)),
    ("districts.installation", _l("Kabupaten/kota"), ("installation_admin",)),
]


def items_for(user, view_functions) -> list[tuple[str, str]]:
    """The nav entries this user sees."""
    return [(ep, label) for ep, label, roles in NAV if user.role in roles and ep in view_functions]
