from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import Optional

from ...forms import BaseForm, text_field


class DeviceForm(BaseForm):
    """A laptop to register: a name, and one scope (a Posyandu, or a whole kelurahan/desa)."""

    name = text_field(_l("Nama laptop (mis. Laptop Posyandu Mawar)"), 100, is_required=True)
    posyandu_id = SelectField(_l("Untuk Posyandu"), coerce=int, validators=[Optional()])
    kelurahan_id = SelectField(_l("Atau untuk seluruh kelurahan/desa"), coerce=int, validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and bool(self.posyandu_id.data) == bool(self.kelurahan_id.data):
            self.posyandu_id.errors.append(_l("Pilih satu: Posyandu atau kelurahan/desa."))
            return False
        return ok
