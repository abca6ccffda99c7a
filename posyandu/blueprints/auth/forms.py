from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import EqualTo, ValidationError

from ...forms import BaseForm, clean_text, max_len, required, strong_enough, text_field


class LoginForm(BaseForm):
    username = text_field(_l("Nama pengguna"), 50, is_required=True)
    password = PasswordField(_l("Kata sandi"), validators=[clean_text, required(), max_len(200)])


class PasswordChangeForm(BaseForm):
    current = PasswordField(_l("Kata sandi saat ini"), validators=[clean_text, required(), max_len(200)])
    new = PasswordField(_l("Kata sandi baru"), validators=[clean_text, required(), max_len(200), strong_enough])
    confirm = PasswordField(_l("Ulangi kata sandi baru"),
                            validators=[clean_text, required(), EqualTo("new", message=_l("Tidak sama dengan kata sandi baru."))])

    def validate_new(self, field):
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("Kata sandi baru harus berbeda dari yang lama."))


class InvitationForm(BaseForm):
    """Her own password, set from an invitation link (the same rules as a password change)."""

    new = PasswordField(_l("Kata sandi baru"), validators=[clean_text, required(), max_len(200), strong_enough])
    confirm = PasswordField(_l("Ulangi kata sandi baru"),
                            validators=[clean_text, required(), EqualTo("new", message=_l("Tidak sama dengan kata sandi baru."))])
