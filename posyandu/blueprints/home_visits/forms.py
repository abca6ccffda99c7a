from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Optional

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
