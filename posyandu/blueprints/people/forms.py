from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField
from wtforms.validators import Optional, ValidationError

from ...domain import lifecycle
from ...domain.nik import nik_birth_date, normalise
from ...forms import (BaseForm, CsrfForm, IdempotentForm, MeasureField, TypedDateField, digits, in_range, nik_field,
                      not_before_1900, not_in_future, present, required, text_field, valid_kk)
from ...labels import LEAVE_REASONS


class PersonForm(BaseForm):
    """The fields of a person, shared by registration and editing."""

    posyandu_id = SelectField(_l("Posyandu"), coerce=int, validators=[required()])
    name = text_field(_l("Nama lengkap"), 100, is_required=True)
    nik = nik_field(_l("NIK"))
    kk_number = nik_field(_l("No. KK"), valid_kk)
    sex = RadioField(_l("Jenis kelamin"), choices=[("L", _l("Laki-laki")), ("P", _l("Perempuan"))],
                     validators=[required()])
    birth_date = TypedDateField(_l("Tanggal lahir"), validators=[present(), not_in_future, not_before_1900])
    birth_place = text_field(_l("Tempat lahir"), 100)
    address = text_field(_l("Alamat"), 200)
    rt = text_field(_l("RT"), 3, checks=[digits(3)])
    rw = text_field(_l("RW"), 3, checks=[digits(3)])
    phone = text_field(_l("No. HP"), 20, checks=[digits(15)])
    mother_id = HiddenField()
    mother_nik = nik_field(_l("NIK ibu (untuk anak)"))
    father_name = text_field(_l("Nama ayah"), 100)
    father_nik = nik_field(_l("NIK ayah"))
    birth_order = IntegerField(_l("Anak ke-"), validators=[Optional(), in_range(1, 20)])
    birth_weight_kg = MeasureField(_l("Berat lahir (kg)"), validators=[Optional(), in_range(0.3, 7, "kg")])
    birth_length_cm = MeasureField(_l("Panjang lahir (cm)"), validators=[Optional(), in_range(20, 65, "cm")])
    has_kia_book = BooleanField(_l("Punya Buku KIA / KMS"), default=True)
    consent = BooleanField(_l("Setuju datanya dicatat (untuk anak: persetujuan orang tua/wali)"))
    consent_by = text_field(_l("Nama yang memberi persetujuan"), 100)
    confirm_nik = BooleanField(_l("Data sudah benar walau tidak sama dengan NIK"))

    # For the template (and register.js): which fieldsets belong to which people, from the life-cycle rule.
    CHILD_UNTIL_MONTHS = lifecycle.CHILD_UNTIL_MONTHS
    CHILDBEARING_YEARS = lifecycle.CHILDBEARING_YEARS

    def validate(self, extra_validators=None):
        """A birth date and sex left empty are taken from a valid NIK (without JavaScript too)."""
        from_nik = nik_birth_date(normalise(self.nik.data) or "", date.today()) if self.nik.data else None
        if from_nik:
            if not (self.birth_date.raw_data and self.birth_date.raw_data[0]):
                self.birth_date.raw_data, self.birth_date.data = [from_nik[0].isoformat()], from_nik[0]
                self.birth_date.process_errors = []
            if not self.sex.data:
                self.sex.raw_data, self.sex.data = [from_nik[1]], from_nik[1]
        return super().validate(extra_validators)


class RegisterForm(PersonForm, IdempotentForm):
    """Registration: a person, optionally a pregnancy, and the duplicate confirmation."""

    hpht = TypedDateField(_l("HPHT (hari pertama haid terakhir)"), validators=[Optional(), not_in_future])
    gravida = IntegerField(_l("Kehamilan ke- (gravida)"), validators=[Optional(), in_range(1, 20)])
    confirm_new = BooleanField(_l("Ini orang yang berbeda; tetap daftarkan"))
    antri = HiddenField()  # a hari buka id: registered at meja 1, so queue the person there

    def validate_hpht(self, field):
        if field.data and self.sex.data != "P":
            raise ValidationError(_l("Kehamilan hanya untuk perempuan."))


class PregnancyForm(IdempotentForm):
    hpht = DateField(_l("HPHT (hari pertama haid terakhir)"), validators=[present(), not_in_future])
    gravida = IntegerField(_l("Kehamilan ke- (gravida)"), validators=[Optional(), in_range(1, 20)])
    para = IntegerField(_l("Persalinan (para)"), validators=[Optional(), in_range(0, 20)])
    abortus = IntegerField(_l("Keguguran (abortus)"), validators=[Optional(), in_range(0, 20)])


class LeaveForm(BaseForm):
    """Leaving the roll: why and since when."""

    reason = SelectField(_l("Alasan"), choices=[(k, v) for k, v in LEAVE_REASONS.items()], validators=[required()])
    left_on = TypedDateField(_l("Sejak tanggal"), validators=[present(), not_in_future, not_before_1900])
    note = text_field(_l("Keterangan"), 200)


class TransferForm(BaseForm):
    """A request to move a person registered elsewhere (found by NIK) to a Posyandu of the user's scope."""

    nik = nik_field(_l("NIK"))
    posyandu_id = SelectField(_l("Pindah ke Posyandu"), coerce=int, validators=[required()])
    moved_on = TypedDateField(_l("Tanggal pindah"), validators=[present(), not_before_1900])
    note = text_field(_l("Keterangan"), 200)

    def validate_nik(self, field):
        if not field.data:
            raise ValidationError(_l("Wajib diisi."))


class MergeForm(BaseForm):
    """Choose the other record of the same person."""

    other_id = RadioField(_l("Data ganda yang digabung ke data ini"), coerce=int, validators=[required()])


DeleteForm = CsrfForm
