from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Optional, ValidationError

from ...forms import IdempotentForm, clean_text, max_len, present, text_field


class HomeVisitForm(IdempotentForm):
    visited_on = DateField(_l("Tanggal kunjungan"), validators=[present()])
    kader_id = SelectField(_l("Kader yang berkunjung"), coerce=int, validators=[Optional()])
    task_key = HiddenField()
    findings = TextAreaField(_l("Temuan"), validators=[clean_text, Optional(), max_len(2000)])
    advice = TextAreaField(_l("Saran / penyuluhan"), validators=[clean_text, Optional(), max_len(2000)])
    referred = BooleanField(_l("Dirujuk ke Puskesmas"))
    referral_note = text_field(_l("Alasan rujukan"), 300)
    follow_up_on = DateField(_l("Tanggal tindak lanjut"), validators=[Optional()])

    born: date | None = None  # the person's birth date, set by the view: no visit before it

    def validate_visited_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError(_l("Tanggal tidak boleh di masa depan."))
        if field.data and self.born and field.data < self.born:
            raise ValidationError(_l("Tanggal kunjungan sebelum tanggal lahir."))

    def validate_follow_up_on(self, field):
        if field.data and self.visited_on.data and field.data < self.visited_on.data:
            raise ValidationError(_l("Tanggal tindak lanjut sebelum tanggal kunjungan."))
