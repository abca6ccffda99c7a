import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, TextAreaField
from wtforms.validators import ValidationError

from ...forms import BaseForm, clean_text, max_len, present, required, text_field

_LINE = re.compile(r"^\s*(\d{1,2})\s*[:=]\s*(\d{1,4})\s*$")


def parse_grams(text: str) -> dict[str, int]:
    """'1: 800' lines → {'1': 800, …}; every month 1–60 exactly once, 0–2000 g."""
    out = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m or not 1 <= int(m.group(1)) <= 60 or int(m.group(2)) > 2000 or m.group(1).lstrip("0") in out:
            raise ValueError(line.strip())
        out[str(int(m.group(1)))] = int(m.group(2))
    if len(out) != 60:
        raise ValueError("count")
    return out


class KbmForm(BaseForm):
    name = text_field(_l("Nama versi (sumber)"), 100, is_required=True)
    valid_from = DateField(_l("Berlaku mulai"), validators=[present()])
    grams = TextAreaField(_l("KBM per bulan umur (bulan: gram), 1–60"), validators=[clean_text, required(), max_len(2000)])

    def validate_grams(self, field):
        try:
            self.parsed = parse_grams(field.data)
        except ValueError as e:
            if str(e) == "count":
                raise ValidationError(_l("Isi tepat satu baris untuk setiap bulan 1 sampai 60."))
            raise ValidationError(_l("Baris tidak sah: %(line)s (contoh: 7: 400)", line=str(e)))
