from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, PasswordField, RadioField, SelectField,
                     SelectMultipleField, TextAreaField)
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ...forms import (BaseForm, CsrfForm, IdempotentForm, TypedDateField, clean_text, digits, in_range, max_len,
                      nik_field, not_before_1900, not_in_future, present, required, text_field)

EDUCATION = [("", "—"), ("sd", "SD/sederajat"), ("smp", "SMP/sederajat"), ("sma", "SMA/SMK/sederajat"),
             ("d3", "Diploma"), ("s1", "S1"), ("s2", "S2/S3")]


class KaderForm(BaseForm):
    """A kader's own data: identity, contact, education, BPJS Ketenagakerjaan and bank account."""

    name = text_field(_l("Nama lengkap"), 100, is_required=True)
    nik = nik_field(_l("NIK"))
    sex = RadioField(_l("Jenis kelamin"), choices=[("P", _l("Perempuan")), ("L", _l("Laki-laki"))],
                     validators=[required()])
    birth_date = TypedDateField(_l("Tanggal lahir"), validators=[Optional(), not_in_future, not_before_1900])
    phone = text_field(_l("No. HP"), 20, checks=[digits(15)])
    education = SelectField(_l("Pendidikan terakhir"), choices=EDUCATION, validators=[Optional()])
    joined_on = DateField(_l("Menjadi kader sejak"), validators=[Optional(), not_in_future, not_before_1900])
    address = text_field(_l("Alamat"), 200)
    bpjs_tk_number = text_field(_l("No. BPJS Ketenagakerjaan"), 20, checks=[digits(16)])
    bpjs_tk_since = DateField(_l("Terdaftar BPJS sejak"), validators=[Optional(), not_before_1900])
    bpjs_tk_active_until = DateField(_l("BPJS aktif sampai"), validators=[Optional(), not_before_1900])
    bank_name = text_field(_l("Bank"), 50)
    bank_account = text_field(_l("No. rekening"), 30, checks=[digits(20)])
    bank_account_holder = text_field(_l("Nama pemilik rekening"), 100)

    def validate_bpjs_tk_active_until(self, field):
        if field.data and self.bpjs_tk_since.data and field.data < self.bpjs_tk_since.data:
            raise ValidationError(_l("Tanggal aktif sampai tidak boleh sebelum tanggal terdaftar."))

    def validate_bank_account(self, field):
        if field.data and not self.bank_name.data:
            raise ValidationError(_l("Isi juga nama bank."))


class RoleForm(BaseForm):
    posyandu_id = SelectField(_l("Posyandu"), coerce=int, validators=[required()])
    role = SelectField(_l("Peran"), validators=[required()])
    start_date = DateField(_l("Mulai"), validators=[present(), not_before_1900])


class EndRoleForm(BaseForm):
    role_id = HiddenField(validators=[required()])
    end_date = DateField(_l("Berakhir"), validators=[present(), not_before_1900])


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssessmentForm(BaseForm):
    skills = MultiCheckbox(_l("Keterampilan yang dinilai"), validators=[required()])
    assessed_on = DateField(_l("Tanggal penilaian"), validators=[present(), not_in_future, not_before_1900])
    assessor = text_field(_l("Penilai (nama dan instansi)"), 100, is_required=True)
    passed = RadioField(_l("Hasil"), choices=[("1", _l("Kompeten")), ("0", _l("Belum kompeten"))], default="1",
                        validators=[required()])


class ReviewForm(BaseForm):
    reason = text_field(_l("Alasan dikembalikan"), 300)


class TemplateForm(BaseForm):
    year = IntegerField(_l("Tahun"), validators=[present(), in_range(2020, 2100)])
    title = text_field(_l("Judul"), 200, is_required=True)
    body = TextAreaField(_l("Teks komitmen"), validators=[clean_text, required(), max_len(8000)])


class SignatureFields:
    signature = HiddenField()
    typed_name = text_field(_l("Ketik nama lengkap sebagai tanda tangan"), 100)
    # Her personal PIN, when the account at the screen is not her own (a shared Posyandu login).
    pin = PasswordField(_l("PIN pribadi"), validators=[clean_text, Optional(), max_len(32)])


class SignForm(IdempotentForm):
    posyandu_id = SelectField(_l("Sebagai kader Posyandu"), coerce=int, validators=[required()])
    text_sha256 = HiddenField(validators=[required()])
    agree = BooleanField(_l("Saya telah membaca dan menyetujui komitmen ini"), validators=[required()])
    signature = SignatureFields.signature
    typed_name = SignatureFields.typed_name
    pin = SignatureFields.pin


class CountersignForm(BaseForm):
    """The ketua signs as the kader in that board position (name and title come from it); the kelurahan enters
    the lurah's name and title."""

    name = text_field(_l("Nama lurah/kepala desa"), 100)
    title = text_field(_l("Jabatan"), 100)
    signature = SignatureFields.signature
    typed_name = SignatureFields.typed_name
    pin = SignatureFields.pin


class PinForm(BaseForm):
    pin = PasswordField(_l("PIN baru (6 angka)"), validators=[clean_text, required(), max_len(32)])
    confirm = PasswordField(_l("Ulangi PIN"), validators=[clean_text, required(), max_len(32)])

    def validate_confirm(self, field):
        if field.data != self.pin.data:
            raise ValidationError(_l("PIN tidak sama."))


class OwnPinForm(PinForm):
    """The kader replaces her PIN: the old one first (unless she is on her own account)."""
    current = PasswordField(_l("PIN lama"), validators=[clean_text, Optional(), max_len(32)])


class LinkForm(BaseForm):
    user_id = SelectField(_l("Akun milik kader ini"), coerce=int, validators=[Optional()])


class CertificateForm(IdempotentForm):
    type_code = SelectField(_l("Jenis sertifikat"), validators=[required()])
    issued_on = DateField(_l("Tanggal terbit"), validators=[present(), not_before_1900])
    issuer_name = text_field(_l("Nama penanda tangan"), 100, is_required=True)
    issuer_title = text_field(_l("Jabatan penanda tangan"), 150, is_required=True)


class AwardForm(CertificateForm):
    """A kelurahan award: the same fields and the kelurahan it honours."""

    kelurahan_id = SelectField(_l("Kelurahan/desa"), coerce=int, validators=[required()])


class RevokeForm(BaseForm):
    reason = text_field(_l("Alasan pencabutan"), 300, is_required=True)


DeleteForm = CsrfForm
