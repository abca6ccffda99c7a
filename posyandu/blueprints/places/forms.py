from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField
from wtforms.validators import Optional, ValidationError

from ...forms import BaseForm, digits, in_range, nik_field, not_in_future, present, required, text_field
from ...labels import POSITIONS, WEEKDAYS
from ...models import BOARD_POSITIONS


class KecamatanForm(BaseForm):
    name = text_field(_l("Nama kecamatan"), 100, is_required=True)
    code = text_field(_l("Kode wilayah"), 10)


class PuskesmasForm(BaseForm):
    kecamatan_id = SelectField(_l("Kecamatan"), coerce=int, validators=[required()])
    name = text_field(_l("Nama Puskesmas"), 100, is_required=True)
    code = text_field(_l("Kode Puskesmas"), 20)
    address = text_field(_l("Alamat"), 200)


class KelurahanForm(BaseForm):
    kecamatan_id = SelectField(_l("Kecamatan"), coerce=int, validators=[required()])
    puskesmas_id = SelectField(_l("Puskesmas yang melayani"), coerce=int, validators=[Optional()])
    name = text_field(_l("Nama kelurahan/desa"), 100, is_required=True)
    kind = RadioField(_l("Jenis"), choices=[("kelurahan", _l("Kelurahan")), ("desa", _l("Desa"))], default="kelurahan")
    code = text_field(_l("Kode desa/kelurahan"), 13, checks=[digits(13)])


class PosyanduForm(BaseForm):
    """The Posyandu as an institution (Permendagri 13/2024) and its hari buka schedule."""

    kelurahan_id = SelectField(_l("Kelurahan/desa"), coerce=int, validators=[required()])
    name = text_field(_l("Nama Posyandu"), 100, is_required=True)
    registration_number = text_field(_l("Nomor registrasi"), 50)
    sk_number = text_field(_l("Nomor SK pembentukan"), 100)
    sk_date = DateField(_l("Tanggal SK pembentukan"), validators=[Optional(), not_in_future])
    sk_update_number = text_field(_l("Nomor SK perubahan/pengurus"), 100)
    sk_update_date = DateField(_l("Tanggal SK perubahan"), validators=[Optional(), not_in_future])
    company_run = BooleanField(_l("Posyandu perusahaan"))
    company_name = text_field(_l("Nama perusahaan"), 150)
    address = text_field(_l("Alamat"), 200)
    rw = text_field(_l("RW"), 3, checks=[digits(3)])
    schedule_kind = RadioField(_l("Hari buka"), default="day_of_month", choices=[
        ("day_of_month", _l("Tanggal tetap setiap bulan")), ("nth_weekday", _l("Hari tertentu pada minggu ke-"))])
    schedule_day = IntegerField(_l("Tanggal"), validators=[Optional(), in_range(1, 28)])
    schedule_week = SelectField(_l("Minggu ke-"), coerce=int, choices=[(0, "—")] + [(i, str(i)) for i in range(1, 5)],
                                validators=[Optional()])
    schedule_weekday = SelectField(_l("Hari"), coerce=int, choices=[(-1, "—")] + list(enumerate(WEEKDAYS)),
                                   validators=[Optional()])
    schedule_time = text_field(_l("Jam"), 20)
    active = BooleanField(_l("Aktif"), default=True)

    def validate_schedule_day(self, field):
        if self.schedule_kind.data == "day_of_month" and not field.data:
            raise ValidationError(_l("Isi tanggal hari buka (1–28)."))

    def validate_schedule_week(self, field):
        if self.schedule_kind.data == "nth_weekday" and (not field.data or self.schedule_weekday.data < 0):
            raise ValidationError(_l("Pilih minggu ke- dan harinya."))

    def validate_company_name(self, field):
        if self.company_run.data and not field.data:
            raise ValidationError(_l("Isi nama perusahaan untuk Posyandu perusahaan."))


class KaderForm(BaseForm):
    name = text_field(_l("Nama kader"), 100, is_required=True)
    nik = nik_field(_l("NIK"))
    phone = text_field(_l("No. HP"), 20, checks=[digits(15)])
    joined_on = DateField(_l("Mulai menjadi kader"), validators=[Optional(), not_in_future])


class PositionForm(BaseForm):
    position = SelectField(_l("Jabatan"), choices=[(p, POSITIONS[p]) for p in BOARD_POSITIONS])
    kader_id = SelectField(_l("Kader"), coerce=int, validators=[required()])
    start_date = DateField(_l("Mulai"), validators=[present()])
