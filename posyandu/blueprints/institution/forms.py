from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional

from ...blueprints.kader.forms import MultiCheckbox
from ...forms import BaseForm, text_field
from ...labels import SPM_FIELDS


class SpmForm(BaseForm):
    fields = MultiCheckbox(_l("Bidang SPM yang dilayani"), choices=list(SPM_FIELDS.items()))


class InstitutionReviewForm(BaseForm):
    reason = text_field(_l("Alasan dikembalikan"), 300)


class TargetForm(BaseForm):
    target = DateField(_l("Target semua Posyandu terdaftar pada"), validators=[Optional()])
