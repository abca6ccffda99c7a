"""Form base and validators shared by every blueprint; messages in Bahasa Indonesia through gettext."""
import secrets
from datetime import date
from urllib.parse import unquote_to_bytes

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_babel import format_decimal
from wtforms import DateField, FloatField, HiddenField, IntegerField, StringField
from wtforms.widgets import TextInput
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError

from .domain.measure_input import parse_decimal
from .domain.nik import kk_problem, nik_problem, normalise
from .parsing import is_digits, parse_int


def _quick_html_params() -> None:
    """WTForms writes each attribute through `Markup("{k}=\"{v}\"").format(...)`: markupsafe's escaping
    formatter costs tens of microseconds per attribute (the fifteen CSRF fields of meja 1 were a third of its
    time). The same attributes, written the same way: the key escaped, the value escaped with `"` as `&quot;`,
    True as a bare attribute, False left out (tests/test_page_queries.py compares the two)."""
    import wtforms.widgets
    from markupsafe import Markup, escape
    from wtforms.widgets import core

    original = core.html_params
    if getattr(original, "posyandu_quick", False):
        return

    def html_params(**kwargs):
        params = []
        for k, v in sorted(kwargs.items()):
            k = core.clean_key(k)
            if v is True:
                params.append(str(escape(k)))
            elif v is not False:
                params.append(f'{escape(k)}="{str(escape(v)).replace(chr(34), "&quot;")}"')
        return Markup(" ".join(params))

    html_params.posyandu_quick = True
    html_params.original = original
    core.html_params = wtforms.widgets.html_params = html_params
    for cls in vars(core).values():
        if isinstance(cls, type) and cls.__dict__.get("html_params") is not None:
            cls.html_params = staticmethod(html_params)


_quick_html_params()

# Every date any form takes lies in this range (year 1 or 9999 is a slip of the keyboard, not a date);
# fields with a narrower meaning (a hari buka, a visit, a birth) check their own range on top.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_YEARS_AHEAD = 10

# WTForms' own messages, said in our language (WTForms ships no Indonesian catalogue).
_WTFORMS_MESSAGES = {
    "Not a valid float value.": _l("Isi dengan angka, misalnya 7,5."),
    "Not a valid decimal value.": _l("Isi dengan angka, misalnya 7,5."),
    "Not a valid integer value.": _l("Isi dengan bilangan bulat."),
    "Not a valid date value.": _l("Tanggal tidak sah."),
    "Not a valid choice.": _l("Pilihan tidak sah."),
    "Invalid Choice: could not coerce.": _l("Pilihan tidak sah."),
    "This field is required.": _l("Wajib diisi."),
    "The CSRF token is missing.": _l("Formulir kedaluwarsa; muat ulang halaman dan coba lagi."),
    "The CSRF token is invalid.": _l("Formulir kedaluwarsa; muat ulang halaman dan coba lagi."),
    "The CSRF session token is missing.": _l("Formulir kedaluwarsa; muat ulang halaman dan coba lagi."),
    "The CSRF tokens do not match.": _l("Formulir kedaluwarsa; muat ulang halaman dan coba lagi."),
}


class _Translations:
    def gettext(self, string):
        return str(_WTFORMS_MESSAGES.get(string, string))

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)


_NOT_A_NUMBER = "Not a valid float value."  # WTForms' msgid, said in our language by _WTFORMS_MESSAGES


class MeasureField(FloatField):
    """A measurement typed the Indonesian way ("7,5") or the other ("7.5"), shown back with a decimal comma.

    A text input with the decimal keypad, not type=number: Chromium's number input drops a comma typed in a
    locale that does not use it ("12,4" arrived as 124)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {"inputmode": "decimal", "autocomplete": "off", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_decimal(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(self.gettext(_NOT_A_NUMBER)) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}".replace(".", ",")


class TypedDateField(DateField):
    """A date a kader can type on a phone keypad (17-05-2024, 17/05/2024, 17052024) as well as ISO 2024-05-17:
    a text input, because the date picker alone makes a birth date thirty years back a long scroll."""

    widget = TextInput()
    FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d%m%Y", "%Y-%m-%d")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {"inputmode": "numeric", "autocomplete": "off", "placeholder": "hh-bb-tttt",
                               **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, format=list(self.FORMATS), **kwargs)

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].strip().replace(" ", "")]
        super().process_formdata(valuelist)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%d-%m-%Y") if self.data else ""


class BaseForm(FlaskForm):
    """A form with CSRF and Indonesian messages for WTForms' built-in errors, and the checks every number and date
    field needs whatever its form: whole numbers in ASCII digits that fit a database integer, dates in a sane
    range."""

    class Meta:
        def get_translations(self, form):
            return _Translations()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            problem = _sanity_problem(field)
            if problem is not None:
                field.errors = [*field.errors, problem]
                field.data = None
                ok = False
        return ok


def _sanity_problem(field):
    """Why a parsed number or date cannot be meant, or None (blank fields are for their own validators)."""
    if field.data is None:
        return None
    if isinstance(field, IntegerField) and field.raw_data:
        if parse_int(field.raw_data[0], -(2**31), 2**31 - 1) is None:
            return _l("Isi dengan bilangan bulat.")
    elif isinstance(field, DateField) and isinstance(field.data, date):
        latest = date(date.today().year + LATEST_YEARS_AHEAD, 12, 31)
        if not (EARLIEST_DATE <= field.data <= latest):
            return _l("Tanggal harus antara tahun %(low)s dan %(high)s.", low=EARLIEST_DATE.year, high=latest.year)
    return None


class CsrfForm(BaseForm):
    """Only the CSRF token: for buttons that post (delete, close, next step)."""


class IdempotentForm(BaseForm):
    """A create form: the hidden key makes a repeated post create nothing new."""

    idempotency_key = HiddenField(default=lambda: secrets.token_urlsafe(24))


def _not_utf8(value: str) -> bool:
    """Werkzeug keeps posted bytes that are not UTF-8 re-quoted ("%FF") rather than failing; find them."""
    if "%" not in value:
        return False
    try:
        unquote_to_bytes(value).decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def clean_text(form, field):
    """Reject what a person cannot have meant: bytes that were not UTF-8, and control characters."""
    value = field.data
    if not isinstance(value, str):
        return
    if _not_utf8(value) or "\ufffd" in value or any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        raise StopValidation(_l("Berisi karakter yang tidak sah (bukan teks UTF-8)."))
    field.data = value.strip()


def required():
    """For text: blank or only spaces is missing."""
    return DataRequired(message=_l("Wajib diisi."))


def present():
    """For dates and numbers: keeps the parse error ("Tanggal tidak sah.") that DataRequired would hide."""
    return InputRequired(message=_l("Wajib diisi."))


def max_len(n: int):
    return Length(max=n, message=_l("Paling banyak %(n)s karakter.", n=n))


def text_field(label, n: int, is_required: bool = False, checks=(), **kw):
    """A text input with the checks every free-text field needs, then any extra checks."""
    validators = [clean_text, required() if is_required else Optional(), max_len(n), *checks]
    return StringField(label, validators=validators, **kw)


MIN_PASSWORD = 10


def strong_enough(form, field):
    """A password long enough (length beats rules about character classes)."""
    if field.data and len(field.data) < MIN_PASSWORD:
        raise ValidationError(_l("Kata sandi paling sedikit %(n)s karakter.", n=MIN_PASSWORD))


def not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("Tanggal tidak boleh di masa depan."))


def not_before_1900(form, field):
    if field.data and field.data.year < 1900:
        raise ValidationError(_l("Tanggal terlalu lama."))


def in_range(low: float, high: float, unit: str = ""):
    """A number within a plausible range, said with its unit."""

    def check(form, field):
        if field.data is not None and not (low <= field.data <= high):
            raise ValidationError(_l("Harus antara %(low)s dan %(high)s %(unit)s.", low=format_decimal(low),
                                     high=format_decimal(high), unit=unit))

    return check


def digits(max_n: int):
    def check(form, field):
        if field.data and not is_digits(field.data, max_n):
            raise ValidationError(_l("Isi dengan angka, paling banyak %(n)s digit.", n=max_n))

    return check


NIK_MESSAGES = {
    "length": _l("NIK harus 16 angka."),
    "digits": _l("NIK hanya berisi angka."),
    "region": _l("Kode wilayah pada NIK tidak sah."),
    "birth": _l("Tanggal lahir pada NIK tidak sah."),
    "serial": _l("Nomor urut pada NIK tidak sah."),
}


def valid_nik(form, field):
    field.data = normalise(field.data)
    if field.data and (problem := nik_problem(field.data)):
        raise ValidationError(NIK_MESSAGES[problem])


def valid_kk(form, field):
    field.data = normalise(field.data)
    if field.data and kk_problem(field.data):
        raise ValidationError(_l("No. KK harus 16 angka."))


def nik_field(label, check=valid_nik):
    # 24 characters leaves room for the spaces and dots people type; normalised to 16 digits.
    # Normalised as it is read: an empty box is no NIK (None), not "" (a second "" broke the one-live-NIK rule).
    return text_field(label, 24, checks=[check], filters=[normalise])
