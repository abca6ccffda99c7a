"""Error pages, and fragments of them for htmx requests."""
from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .domain.errors import DomainError
from .extensions import db
from .services.idempotency import KeyConflict, KeyInvalid
from .services.month_lock import MonthClosed
from .web import wants_fragment

MESSAGES = {
    400: _l("Permintaan tidak dapat diproses."),
    403: _l("Anda tidak berhak membuka halaman ini."),
    404: _l("Halaman atau data tidak ditemukan."),
    405: _l("Cara membuka halaman ini tidak didukung."),
    409: _l("Perubahan ditolak: hari buka sudah ditutup atau data sudah berubah. Muat ulang halaman."),
    422: _l("Data yang dikirim tidak sah."),
    429: _l("Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi."),
    500: _l("Terjadi kesalahan di server. Data Anda tidak tersimpan; coba lagi."),
}


def error_response(code: int, message=None):
    """The error page (or its fragment) with the right status."""
    template = "errors/_error.html" if wants_fragment() else "errors/error.html"
    return render_template(template, code=code, message=message or MESSAGES.get(code, MESSAGES[500])), code


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: error_response(code))

    @app.errorhandler(500)
    def _server_error(e):
        db.session.rollback()  # the failed transaction must not leak into rendering the page
        return error_response(500)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(MonthClosed, _month_closed)
    app.register_error_handler(KeyInvalid, lambda e: error_response(400))
    app.register_error_handler(KeyConflict, lambda e: error_response(
        409, _l("Formulir ini sudah pernah dikirim untuk data lain. Muat ulang halaman lalu isi lagi.")))
    app.register_error_handler(
        CSRFError, lambda e: error_response(400, _l("Formulir kedaluwarsa; muat ulang halaman dan coba lagi."))
    )


def _domain_error(e: DomainError):
    """A service refused and no route turned it into a form error: nothing was kept, say so with its 4xx."""
    db.session.rollback()
    return error_response(e.status)


def _month_closed(e: MonthClosed):
    """A change to a record of an approved month: say which month is closed and how to correct it."""
    from flask_babel import format_date

    from .models import Posyandu

    db.session.rollback()
    posyandu = db.session.get(Posyandu, e.posyandu_id)
    return error_response(409, _l(
        "Perubahan ditolak: laporan bulan %(month)s Posyandu %(name)s sudah disetujui dan datanya dikunci. "
        "Untuk koreksi, kelurahan/desa membuka kembali bulan itu dengan alasan, lalu laporan disetujui ulang.",
        month=format_date(e.month, "MMMM y"), name=posyandu.name if posyandu else e.posyandu_id))
