"""The Posyandu's kit: its asset register, add/edit/retire, and the district's totals by kind."""
from datetime import date

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ... import labels
from ...database import unit_of_work
from ...domain import assets as dom
from ...models import Asset, Posyandu
from ...roles import role_required
from ...services import assets
from ...web import get_or_404, page_number, render
from . import bp
from .forms import AssetEditForm, AssetForm, RetireForm

VIEW = ("district_admin", "kelurahan_clerk", "nakes", "ketua")
EDIT = ("district_admin", "kelurahan_clerk", "ketua")
TOTALS = ("district_admin", "kelurahan_clerk", "nakes")


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _data(form) -> dict:
    data = {k: getattr(form, k).data for k in assets.FIELDS}
    data["label"] = data["label"] or None
    if data["kind"] not in dom.CHECKED:
        data["checked_on"] = data["check_months"] = None
    return data


@bp.route("/posyandu/<int:posyandu_id>/inventaris")
@role_required(*VIEW)
def register(posyandu_id: int):
    """A Posyandu's kit: every item with its label, source, condition and check; retired items below."""
    pos = get_or_404(Posyandu, posyandu_id)
    today = date.today()
    items = assets.register(pos.id, include_retired=True)
    return render("kit/register.html", pos=pos, items=items, today=today, dom=dom, may_edit=current_user.role in EDIT)


@bp.route("/posyandu/<int:posyandu_id>/inventaris/baru", methods=["GET", "POST"])
@role_required(*EDIT)
def add_asset(posyandu_id: int):
    """Register an item of the kit."""
    pos = get_or_404(Posyandu, posyandu_id)
    form = AssetForm()
    if form.validate_on_submit():
        with unit_of_work():
            assets.add(current_user, pos.id, _data(form), key=form.idempotency_key.data)
        flash(_("Barang dicatat."), "success")
        return redirect(url_for("kit.register", posyandu_id=pos.id), 303)
    return render("kit/edit.html", form=form, pos=pos, asset=None, status=422 if form.is_submitted() else 200)


@bp.route("/inventaris/<int:asset_id>/ubah", methods=["GET", "POST"])
@role_required(*EDIT)
def edit_asset(asset_id: int):
    """Correct an item, record its condition or its latest check."""
    asset = get_or_404(Asset, asset_id)
    form = AssetEditForm(obj=asset)
    if form.validate_on_submit():
        with unit_of_work():
            assets.update(current_user, asset, _data(form))
        flash(_("Tersimpan."), "success")
        return redirect(url_for("kit.register", posyandu_id=asset.posyandu_id), 303)
    retire_form = RetireForm()
    retire_form.retired_on.data = date.today()
    return render("kit/edit.html", form=form, pos=asset.posyandu, asset=asset, retire_form=retire_form,
                  status=422 if form.is_submitted() else 200)


@bp.route("/inventaris/<int:asset_id>/keluarkan", methods=["POST"])
@role_required(*EDIT)
def retire_asset(asset_id: int):
    """Take an item off the register with a date and reason (it stays in the history)."""
    asset = get_or_404(Asset, asset_id)
    form = RetireForm()
    if asset.retired_on is None and form.validate_on_submit():
        with unit_of_work():
            assets.retire(current_user, asset, form.retired_on.data, form.retired_reason.data)
        flash(_("Barang dikeluarkan dari inventaris."), "success")
        return redirect(url_for("kit.register", posyandu_id=asset.posyandu_id), 303)
    return render("kit/edit.html", form=AssetEditForm(obj=asset), pos=asset.posyandu, asset=asset,
                  retire_form=form, status=422)


@bp.route("/inventaris/")
@role_required(*TOTALS)
def totals():
    """Items in service per kind and condition across the Posyandu in scope, and the checks that are due;
    `?format=csv` downloads every item."""
    today = date.today()
    if request.args.get("format") == "csv":
        resp = make_response(assets.register_csv(current_user, labels.ASSET_KINDS, labels.ASSET_CONDITIONS))
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        resp.headers["Content-Disposition"] = f'attachment; filename="inventaris-posyandu-{today.isoformat()}.csv"'
        return resp
    t = assets.totals(current_user, today)
    # Every due check is counted; the list shows one page of them (the CSV holds every item).
    page, size = page_number(), current_app.config["PAGE_SIZE"]
    return render("kit/totals.html", t=t, today=today, dom=dom, overdue=t.overdue[(page - 1) * size:page * size],
                  page=page, more=len(t.overdue) > page * size)
