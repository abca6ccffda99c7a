"""Words for the month-close pages (also used by the home page)."""
from flask_babel import lazy_gettext as _l

STATES = {"open": _l("belum dikirim"), "submitted": _l("dikirim"), "verified": _l("diverifikasi Puskesmas"),
          "approved": _l("disetujui")}
ACTIONS = {"submit": _l("dikirim"), "verify": _l("diverifikasi"), "approve": _l("disetujui"),
           "reopen": _l("dikembalikan / dibuka kembali")}
BUTTONS = {"submit": _l("Kirim laporan"), "verify": _l("Verifikasi"), "approve": _l("Setujui"),
           "reopen": _l("Kembalikan / buka kembali")}
DONE = {"submit": _l("Laporan dikirim."), "verify": _l("Laporan diverifikasi."),
        "approve": _l("Laporan disetujui; data bulan ini dikunci."),
        "reopen": _l("Laporan dikembalikan; bulan ini terbuka lagi untuk koreksi.")}
