from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import Optional, ValidationError

from ...domain import assets as dom
from ...forms import BaseForm, IdempotentForm, in_range, not_before_1900, not_in_future, present, required, text_field
from ...labels import ASSET_CONDITIONS, ASSET_KINDS


class AssetFields:
    kind = SelectField(_l("Jenis"), choices=list(ASSET_KINDS.items()), validators=[required()])
    label = text_field(_l("Label / nomor seri"), 60)
    received_on = DateField(_l("Tanggal diterima"), validators=[Optional(), not_in_future, not_before_1900])
    source = text_field(_l("Sumber (mis. APBD Kota Bontang 2025)"), 100)
    condition = SelectField(_l("Kondisi"), choices=list(ASSET_CONDITIONS.items()), default="baik",
                            validators=[required()])
    checked_on = DateField(_l("Terakhir diperiksa/dikalibrasi"),
                           validators=[Optional(), not_in_future, not_before_1900])
    check_months = IntegerField(_l("Interval pemeriksaan (bulan)"), validators=[Optional(), in_range(1, 60)])
    notes = text_field(_l("Catatan"), 300)

    def validate_checked_on(self, field):
        if field.data and self.kind.data not in dom.CHECKED:
            raise ValidationError(_l("Hanya timbangan dan tensimeter yang dicatat pemeriksaannya."))


class AssetForm(AssetFields, IdempotentForm):
    """A new item of the kit."""


class AssetEditForm(AssetFields, BaseForm):
    """A correction, a new condition or a new check of an item."""


class RetireForm(BaseForm):
    retired_on = DateField(_l("Tanggal"), validators=[present(), not_in_future, not_before_1900])
    retired_reason = text_field(_l("Alasan (dikembalikan, dihapus dari inventaris, hilang …)"), 200, is_required=True)
