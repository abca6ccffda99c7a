import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import Optional, ValidationError

from ...forms import BaseForm, clean_text, max_len, strong_enough, text_field
from ...labels import ROLES as ROLE_LABELS
from ...models import DISTRICT_ROLES

def valid_username(form, field):
    if field.data and not re.fullmatch(r"[a-z0-9._-]{3,50}", field.data.lower()):
        raise ValidationError(_l("3–50 huruf kecil, angka, titik, garis bawah atau tanda hubung."))
    field.data = (field.data or "").lower()


class UserForm(BaseForm):
    username = text_field(_l("Nama pengguna"), 50, is_required=True, checks=[valid_username])
    display_name = text_field(_l("Nama lengkap"), 100, is_required=True)
    role = SelectField(_l("Peran"), choices=[(r, ROLE_LABELS[r]) for r in DISTRICT_ROLES])
    kelurahan_id = SelectField(_l("Kelurahan/desa (untuk petugas kelurahan)"), coerce=int, validators=[Optional()])
    puskesmas_id = SelectField(_l("Puskesmas (untuk nakes)"), coerce=int, validators=[Optional()])
    posyandu_id = SelectField(_l("Posyandu (untuk ketua dan kader)"), coerce=int, validators=[Optional()])
    # A new account left without a password gets a one-time invitation link (services.invitations).
    password = PasswordField(_l("Kata sandi baru"), validators=[clean_text, Optional(), max_len(200), strong_enough])
    active = BooleanField(_l("Aktif"), default=True)

    def validate_role(self, field):
        need = {"kelurahan_clerk": self.kelurahan_id, "nakes": self.puskesmas_id, "ketua": self.posyandu_id,
                "kader": self.posyandu_id}.get(field.data)
        if need is not None and not need.data:
            need.errors = list(need.errors) + [_l("Pilih tempat tugas untuk peran ini.")]
            raise ValidationError(_l("Peran ini perlu tempat tugas."))
