from datetime import date, timedelta

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import Optional, ValidationError

from ...domain.measure_input import UNITS, unit_slip
from ...forms import BaseForm, MeasureField, clean_text, in_range, max_len, present, required, text_field


class OpenForm(BaseForm):
    posyandu_id = SelectField(_l("Posyandu"), coerce=int, validators=[required()])
    held_on = DateField(_l("Tanggal"), validators=[present()])

    # A hari buka is opened on the day, or entered afterwards from the paper register (the reports look two
    # years back); never years ahead.
    DAYS_BACK, DAYS_AHEAD = 2 * 366, 31

    def validate_held_on(self, field):
        today = date.today()
        if field.data and not (today - timedelta(days=self.DAYS_BACK) <= field.data
                               <= today + timedelta(days=self.DAYS_AHEAD)):
            raise ValidationError(_l("Tanggal hari buka harus dalam dua tahun terakhir atau bulan depan."))


class EnqueueForm(BaseForm):
    person_id = IntegerField(validators=[present()])


class MeasureForm(BaseForm):
    """Meja 2: every measurement any group may need; the template shows the person's group's fields."""

    weight_kg = MeasureField(_l("Berat badan (kg)"), validators=[present(), in_range(0.5, 250, "kg")])
    length_cm = MeasureField(_l("Panjang/tinggi badan (cm)"), validators=[Optional(), in_range(35, 220, "cm")])
    position = RadioField(_l("Cara ukur"), choices=[("l", _l("Berbaring (panjang badan)")),
                                                    ("h", _l("Berdiri (tinggi badan)"))], validators=[Optional()])
    head_cm = MeasureField(_l("Lingkar kepala (cm)"), validators=[Optional(), in_range(25, 60, "cm")])
    muac_cm = MeasureField(_l("LILA (cm)"), validators=[Optional(), in_range(7, 50, "cm")])
    oedema = BooleanField(_l("Ada edema (bengkak) di kedua punggung kaki"))
    waist_cm = MeasureField(_l("Lingkar perut (cm)"), validators=[Optional(), in_range(40, 200, "cm")])
    systolic = IntegerField(_l("Tekanan darah sistolik (mmHg)"), validators=[Optional(), in_range(60, 260, "mmHg")])
    diastolic = IntegerField(_l("Tekanan darah diastolik (mmHg)"), validators=[Optional(), in_range(30, 160, "mmHg")])
    glucose_mg_dl = IntegerField(_l("Gula darah sewaktu (mg/dL)"), validators=[Optional(), in_range(20, 600, "mg/dL")])
    confirm = BooleanField(_l("Sudah saya ukur ulang: nilai ini benar"))

    def __init__(self, *args, group: str | None = None, previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.group, self.previous = group, previous

    def validate(self, extra_validators=None):
        """The field checks, then the group's range: a unit or comma slip is named before any WHO check."""
        ok = super().validate(extra_validators)
        for key in UNITS:
            f = getattr(self, key)
            slip = unit_slip(key, f.data, self.group, getattr(self.previous, key, None)) if f.data is not None else None
            if slip is not None:
                msg = _l("%(value)s %(unit)s tidak mungkin di sini: isi dalam %(unit)s, antara %(low)s dan %(high)s.",
                         value=format_decimal(slip.value), unit=slip.unit, low=format_decimal(slip.low),
                         high=format_decimal(slip.high))
                if slip.likely is not None:
                    msg = f"{msg} {_l('Maksudnya %(v)s %(unit)s?', v=format_decimal(slip.likely), unit=slip.unit)}"
                f.errors = [msg]
                ok = False
        return ok

    def validate_diastolic(self, field):
        if (field.data is None) != (self.systolic.data is None):
            raise ValidationError(_l("Isi sistolik dan diastolik bersama."))
        if field.data is not None and self.systolic.data is not None and field.data >= self.systolic.data:
            raise ValidationError(_l("Diastolik harus lebih kecil dari sistolik."))


class CounsellingForm(BaseForm):
    notes = TextAreaField(_l("Catatan penyuluhan"), validators=[clean_text, Optional(), max_len(1000)])


class ServicesForm(BaseForm):
    kb_method = SelectField(_l("KB"), choices=[("", "—"), ("pil", _l("Pil")), ("suntik", _l("Suntik")),
                                                ("implan", _l("Implan")), ("iud", _l("IUD")),
                                                ("kondom", _l("Kondom")), ("mow_mop", _l("MOW/MOP"))],
                            validators=[Optional()])
    referral_reason = text_field(_l("Alasan rujukan ke Puskesmas"), 300)
    done = BooleanField(default=True)


class PastImmunisationForm(BaseForm):
    code = SelectField(_l("Imunisasi"), validators=[required()])
    given_on = DateField(_l("Tanggal diberikan"), validators=[present()])
