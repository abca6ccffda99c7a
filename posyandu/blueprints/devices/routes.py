"""The district's Posyandu laptops: register one (its one-time code is shown once), list them, revoke one."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ...extensions import db
from ...forms import CsrfForm
from ...models import Device, Kelurahan
from ...roles import role_required
from ...services import scope
from ...sync import devices
from ...web import render
from . import bp
from .forms import DeviceForm


@bp.before_request
@login_required
@role_required("district_admin")
def _admins_only():
    """Only the district admin registers and revokes laptops."""


def _form() -> DeviceForm:
    form = DeviceForm()
    form.posyandu_id.choices = [(0, "—")] + [(p.id, f"{p.name} ({p.kelurahan.name})")
                                             for p in scope.visible_posyandu(current_user)]
    form.kelurahan_id.choices = [(0, "—")] + [(k.id, k.name) for k in db.session.scalars(
        select(Kelurahan).where(Kelurahan.id.in_(scope.kelurahan_ids(current_user))).order_by(Kelurahan.name))]
    return form


@bp.route("/", methods=["GET", "POST"])
def index():
    """The laptops of the district with their last contact; the form to register another."""
    form = _form()
    code = device = None
    if form.validate_on_submit():
        device, code = devices.register(current_user, form.name.data, form.posyandu_id.data or None,
                                        form.kelurahan_id.data or None)
        db.session.commit()
        form = _form()
        form.name.data, form.posyandu_id.data, form.kelurahan_id.data = None, 0, 0
    status = 422 if form.is_submitted() and code is None else 200
    return render("devices/index.html", form=form, rows=devices.of_district(current_user.district_id),
                  code=code, new_device=device, revoke_form=CsrfForm(), status=status)


@bp.route("/<int:device_id>/cabut", methods=["POST"])
def revoke(device_id: int):
    """Revoke a laptop: from now on the district refuses it (it can be registered again with a new code)."""
    device = db.session.get(Device, device_id)
    if device is None or device.district_id != current_user.district_id:
        abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    devices.revoke(current_user, device)
    db.session.commit()
    flash(_("%(name)s dicabut; permintaannya ditolak mulai sekarang.", name=device.name), "success")
    return redirect(url_for("devices.index"), 303)
