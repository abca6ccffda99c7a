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
    ("sync_pages.cases", _l("Konflik sinkron"), ("district_admin", "kelurahan_clerk")),
    ("sync_pages.laptop", _l("Sinkronkan"), ALL),
    ("districts.settings", _l("Pengaturan"), ("district_admin",)),
    ("districts.installation", _l("Kabupaten/kota"), ("installation_admin",)),
]


def _sync_entry(endpoint: str, label, user):
    """The sync entries: the laptop's *Sinkronkan* only where a device credential is (a laptop), the conflict
    cases only on the district server, with how many are open."""
    from flask import current_app

    laptop = bool(current_app.config.get("SYNC_LAPTOP"))
    if endpoint == "sync_pages.laptop":
        return label if laptop else None
    if laptop:
        return None
    from .sync import cases

    n = cases.open_count(user)
    return f"{label} ({n})" if n else label


SYNC = ("sync_pages.cases", "sync_pages.laptop")


def items_for(user, view_functions) -> list[tuple[str, str]]:
    """The nav entries this user sees."""
    out = []
    for ep, label, roles in NAV:
        if user.role not in roles or ep not in view_functions:
            continue
        if ep in SYNC:
            label = _sync_entry(ep, label, user)
            if label is None:
                continue
        out.append((ep, label))
    return out
