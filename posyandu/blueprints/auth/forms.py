from flask_babel import lazy_gettext as _l
from wtforms import PasswordField

from ...forms import BaseForm, clean_text, max_len, required, text_field


class LoginForm(BaseForm):
    username = text_field(_l("Nama pengguna"), 50, is_required=True)
    password = PasswordField(_l("Kata sandi"), validators=[clean_text, required(), max_len(200)])
