from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, PasswordField, RadioField, TextAreaField
from wtforms.validators import Optional, ValidationError

from ...services.certificates import types as cert_types
from ...forms import BaseForm, IdempotentForm, clean_text, digits, in_range, max_len, strong_enough, text_field
from ..accounts.forms import valid_username

KINDS = [("kabupaten", _l("Kabupaten")), ("kota", _l("Kota"))]


def _code(form, field):
    """A kabupaten/kota code: four digits, written 64.02 or 6402."""
    if field.data:
        plain = field.data.replace(".", "")
        if not (plain.isdigit() and len(plain) == 4):
            raise ValidationError(_l("Kode kabupaten/kota: empat angka, misalnya 64.02."))
        field.data = f"{plain[:2]}.{plain[2:]}"


class DistrictForm(BaseForm):
    name = text_field(_l("Nama kabupaten/kota"), 100, is_required=True)
    kind = RadioField(_l("Jenis"), choices=KINDS, default="kabupaten")
    code = text_field(_l("Kode wilayah"), 10, checks=[_code])

    def validate_name(self, field):
        words = {"kabupaten": "Kabupaten ", "kota": "Kota "}
        if field.data and not field.data.startswith(words.get(self.kind.data, "")):
            raise ValidationError(_l("Tulis nama lengkap, misalnya \u201cKabupaten Kutai Kartanegara\u201d."))


class AdminForm(BaseForm):
    """The district's (first) admin: left without a password, she gets a one-time invitation link to set her own;
    with one, it is given to her in person and changed at her first login."""

    username = text_field(_l("Nama pengguna admin"), 50, is_required=True, checks=[valid_username])
    display_name = text_field(_l("Nama lengkap admin"), 100, is_required=True)
    password = PasswordField(_l("Kata sandi awal (boleh kosong)"),
                             validators=[clean_text, Optional(), max_len(200), strong_enough])


class NewDistrictForm(IdempotentForm, DistrictForm, AdminForm):
    pass


class SettingsForm(BaseForm):
    government_name = text_field(_l("Kop dokumen (pemerintah daerah)"), 150)
    place_name = text_field(_l("Tempat penandatanganan dokumen"), 60)
    trained_target_pct = IntegerField(_l("Target kader terlatih (%)"), validators=[Optional(), in_range(1, 100, "%")])
    stratum_rule = TextAreaField(_l("Aturan strata kader (JSON)"), validators=[clean_text, Optional(), max_len(4000)])
    # Closing the month (DESIGN §6): the on-time window and the Puskesmas verify level.
    timely_days = IntegerField(_l("Batas tepat waktu (hari setelah akhir bulan)"),
                               validators=[Optional(), in_range(0, 60, _l("hari"))])
    month_verify = BooleanField(_l("Laporan diverifikasi nakes Puskesmas sebelum disetujui kelurahan/desa"))
    # The year's Komitmen Kinerja Kader: a changed text publishes a new version (services.commitments).
    commitment_title = text_field(_l("Judul naskah komitmen"), 200)
    commitment_body = TextAreaField(_l("Teks komitmen"), validators=[clean_text, Optional(), max_len(8000)])


# The district's wording of each certificate type: cert_<code>_<field>, one set per type of the shipped list.
CERT_FIELDS = {"title": (_l("Judul"), 200), "heading": (_l("Baris utama"), 200), "body": (_l("Teks"), 1000),
               "issuer_title": (_l("Jabatan penanda tangan"), 150), "issuer_name": (_l("Nama penanda tangan"), 100)}


def cert_field_name(code: str, key: str) -> str:
    return f"cert_{code}_{key}"


for _code in cert_types():
    for _key, (_label, _n) in CERT_FIELDS.items():
        setattr(SettingsForm, cert_field_name(_code, _key),
                TextAreaField(_label, validators=[clean_text, Optional(), max_len(_n)]) if _key == "body"
                else text_field(_label, _n))


class ImportForm(BaseForm):
    file = FileField(_l("Berkas CSV kode wilayah"))


class ConfirmImportForm(BaseForm):
    content = TextAreaField(validators=[max_len(2_000_000)])


__all__ = ["AdminForm", "ConfirmImportForm", "DistrictForm", "ImportForm", "NewDistrictForm", "SettingsForm",
           "digits"]
