"""Incentive forms. Money is typed as people write it ("Rp1.000.000", "1.000.000") and kept as whole Rupiah;
rates as percentages ("2,5") kept as basis points."""
import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, MonthField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from ...domain.incentives import CONDITIONS, FUNDING_SOURCES
from ...forms import BaseForm, IdempotentForm, not_before_1900, present, required, text_field
from ...parsing import is_digits, parse_int

MAX_RUPIAH = 1_000_000_000


def parse_rupiah(text: str | None, signed: bool = False) -> int | None:
    """'Rp1.000.000' → 1000000; None when blank; ValueError when it is not whole Rupiah."""
    t = (text or "").strip().replace(" ", "")
    if not t:
        return None
    sign = -1 if signed and t.startswith("-") else 1
    t = t.lstrip("-+") if signed else t
    t = t.removeprefix("Rp").removeprefix("rp").replace(".", "")
    if t.endswith(",00"):
        t = t[:-3]
    if not is_digits(t, 15) or int(t) > MAX_RUPIAH:
        raise ValueError(t)
    return sign * int(t)


def parse_percent_bp(text: str | None) -> int | None:
    """'2,5' or '2.5' or '2,5%' → 250 basis points; None when blank."""
    t = (text or "").strip().rstrip("%").strip().replace(",", ".")
    if not t:
        return None
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,4})?", t, re.ASCII):
        raise ValueError(t)
    try:
        value = Decimal(t) * 100
    except InvalidOperation as e:
        raise ValueError(t) from e
    if value != value.to_integral_value() or not 0 <= value <= 10_000:
        raise ValueError(t)
    return int(value)


class RupiahField(StringField):
    """Whole Rupiah; `.value` holds the integer after validation."""

    def __init__(self, label=None, validators=None, signed=False, blank=False, **kw):
        super().__init__(label, validators, **kw)
        self.signed, self.blank, self.value = signed, blank, None

    def pre_validate(self, form):
        if self.blank and not (self.data or "").strip():  # an optional amount left empty: None
            self.value = None
            return
        try:
            self.value = parse_rupiah(self.data, self.signed)
        except ValueError:
            self.value = None
            raise ValidationError(_l("Isi jumlah rupiah tanpa sen, misalnya 1.000.000."))


class PercentField(StringField):
    """A percentage with up to two decimals; `.value` holds basis points."""

    def pre_validate(self, form):
        try:
            self.value = parse_percent_bp(self.data)
        except ValueError:
            self.value = None
            raise ValidationError(_l("Isi persen antara 0 dan 100, misalnya 2,5."))


class PolicyForm(IdempotentForm):
    valid_from = MonthField(_l("Berlaku mulai bulan"), validators=[present(), not_before_1900])
    amount = RupiahField(_l("Insentif per kader per bulan (Rp)"), validators=[required()])
    funding_source = SelectField(_l("Sumber dana"), choices=[(s, s) for s in FUNDING_SOURCES], validators=[required()])
    pph21 = PercentField(_l("Tarif PPh 21 bawaan (%)"), validators=[required()])
    bpjs_deduction = BooleanField(_l("Potong iuran BPJS Ketenagakerjaan bagi kader yang terdaftar"))
    bpjs_amount = RupiahField(_l("Iuran BPJS Ketenagakerjaan per bulan (Rp)"), default="16.800",
                              validators=[required()])
    pay_per_role = BooleanField(_l("Bayar per peran (bila tidak dicentang: satu orang dibayar satu kali)"))
    min_home_visits = StringField(_l("Kunjungan rumah minimal per bulan"), default="0")
    legal_basis = text_field(_l("Dasar hukum (Perwali/Perbup/Perdes)"), 200)
    hold_unverified = BooleanField(_l("Tahan insentif kader yang datanya belum diverifikasi kelurahan (baris nol: "
                                      "menunggu verifikasi)"), default=True)
    board_amount = RupiahField(_l("Insentif pengurus tanpa tugas kader per bulan (Rp; kosong: tidak dibayar)"),
                               blank=True)

    def validate_min_home_visits(self, field):
        if parse_int(field.data, 0, 100) is None:
            raise ValidationError(_l("Isi bilangan bulat 0 sampai 100."))


CONDITION_LABELS = {
    "attendance": _l("Hadir pada hari buka bulan itu"),
    "commitment": _l("Sudah menandatangani komitmen kinerja tahun itu"),
    "home_visits": _l("Melakukan kunjungan rumah minimal"),
    "on_time": _l("Laporan bulan Posyandunya tepat waktu (dikirim paling lambat batas hari setelah bulan berakhir)"),
}
CUT_KINDS = [("percent", _l("persen")), ("amount", _l("rupiah"))]


def _add_condition_fields():
    for c in CONDITIONS:
        setattr(PolicyForm, f"{c}_required", BooleanField(CONDITION_LABELS[c]))
        setattr(PolicyForm, f"{c}_cut_kind", SelectField(_l("Potongan dalam"), choices=CUT_KINDS, default="percent"))
        setattr(PolicyForm, f"{c}_cut_value", StringField(_l("Besar potongan"), default="0"))
        setattr(PolicyForm, f"{c}_cut_reason", text_field(_l("Alasan potongan (dicetak pada slip)"), 200))


_add_condition_fields()


def condition_values(form: PolicyForm) -> dict | None:
    """The conditions' columns, or None after putting errors beside the fields."""
    out, ok = {}, True
    for c in CONDITIONS:
        req = getattr(form, f"{c}_required").data
        kind = getattr(form, f"{c}_cut_kind").data
        value_field = getattr(form, f"{c}_cut_value")
        reason_field = getattr(form, f"{c}_cut_reason")
        try:
            value = (parse_percent_bp(value_field.data) if kind == "percent" else parse_rupiah(value_field.data)) or 0
        except ValueError:
            value_field.errors = list(value_field.errors) + [
                _l("Isi persen antara 0 dan 100.") if kind == "percent" else _l("Isi jumlah rupiah tanpa sen.")]
            ok, value = False, 0
        if req and not reason_field.data:
            reason_field.errors = list(reason_field.errors) + [_l("Tulis alasan potongan; alasan dicetak pada slip.")]
            ok = False
        out.update({f"{c}_required": req, f"{c}_cut_kind": kind, f"{c}_cut_value": value,
                    f"{c}_cut_reason": reason_field.data or None})
    return out if ok else None


class ComputeForm(IdempotentForm):
    kelurahan_id = SelectField(_l("Kelurahan/desa"), coerce=int, validators=[required()])
    month = MonthField(_l("Bulan"), validators=[present(), not_before_1900])
    pph21 = PercentField(_l("Tarif PPh 21 batch ini (%) — kosongkan untuk tarif kebijakan"), validators=[Optional()])


class AdjustForm(BaseForm):
    amount = RupiahField(_l("Penyesuaian (Rp; negatif untuk mengurangi, 0 untuk menghapus)"), signed=True,
                         validators=[required()])
    reason = text_field(_l("Alasan penyesuaian"), 300)

    def validate_reason(self, field):
        if getattr(self.amount, "value", None) and not field.data:
            raise ValidationError(_l("Tulis alasan penyesuaian."))


class PaidForm(BaseForm):
    paid_on = DateField(_l("Tanggal dibayar"), validators=[present(), not_before_1900])
    reference = text_field(_l("Nomor bukti bayar (SP2D / transfer / kuitansi)"), 100, is_required=True)


class CorrectForm(IdempotentForm):
    """Creates an adjusting batch: a repeated post finds the first."""
