"""Accounts of the district, managed by its admins."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ...database import unit_of_work
from ...extensions import db
from ...models import Kader, KaderSigner, Kelurahan, Posyandu, Puskesmas, User
from ...roles import role_required
from ...forms import CsrfForm
from ...services import accounts, invitations, scope
from ...web import get_or_404, int_arg, invited_page, render
from . import bp
from .forms import UserForm


@bp.before_request
@login_required
@role_required("district_admin")
def _admins_only():
    """Only district admins manage accounts."""


@bp.route("/akun/")
def list_users():
    """The accounts of the district, with the kader each personal account belongs to."""
    page = int_arg("page", 1, 1, 10_000)
    size = current_app.config["PAGE_SIZE"]
    rows = list(db.session.scalars(select(User).where(User.district_id == current_user.district_id)
                                   .order_by(User.username).offset((page - 1) * size).limit(size + 1)))
    ids = [u.id for u in rows[:size]]
    kader_of = {uid: (kid, name) for uid, kid, name in db.session.execute(
        select(KaderSigner.user_id, Kader.id, Kader.name).join(Kader, Kader.id == KaderSigner.kader_id)
        .where(KaderSigner.user_id.in_(ids)))} if ids else {}
    return render("accounts/list.html", rows=rows[:size], more=len(rows) > size, page=page, kader_of=kader_of)


def _choices(form):
    ids = {Kelurahan: scope.kelurahan_ids, Puskesmas: scope.puskesmas_ids, Posyandu: scope.posyandu_ids}
    for fname, model in (("kelurahan_id", Kelurahan), ("puskesmas_id", Puskesmas), ("posyandu_id", Posyandu)):
        objs = db.session.scalars(select(model).where(model.id.in_(ids[model](current_user))).order_by(model.name))
        getattr(form, fname).choices = [(0, "—")] + [(o.id, o.name) for o in objs]


@bp.route("/akun/baru", methods=["GET", "POST"])
@bp.route("/akun/<int:user_id>/ubah", methods=["GET", "POST"])
def edit_user(user_id: int | None = None):
    """Create or change an account."""
    user = get_or_404(User, user_id) if user_id else User(district_id=current_user.district_id)
    form = UserForm(obj=user if user_id else None)
    _choices(form)
    if form.validate_on_submit():
        taken = db.session.scalar(select(User.id).where(User.username == form.username.data))
        if taken is not None and taken != user.id:
            form.username.errors.append(_("Nama pengguna sudah dipakai."))
        else:
            data = {k: getattr(form, k).data for k in ("username", "display_name", "role", "kelurahan_id",
                                                      "puskesmas_id", "posyandu_id", "active")}
            for k in ("kelurahan_id", "puskesmas_id", "posyandu_id"):
                data[k] = data[k] or None
            if user.id == current_user.id:
                data["active"], data["role"] = True, user.role  # an admin cannot lock herself out
            with unit_of_work():  # the account and its invitation link: both or neither
                accounts.save_user(current_user, user, data, form.password.data)
                token = invitations.create(current_user, user) if not user_id and not form.password.data else None
            if token:  # she sets her own password from a one-time link
                return invited_page(user, token, url_for("accounts.list_users"))
            flash(_("Akun %(u)s disimpan.", u=user.username), "success")
            return redirect(url_for("accounts.list_users"), 303)
    status = 422 if form.is_submitted() else 200
    return render("accounts/edit.html", form=form, user=user if user_id else None, status=status,
                  invite_form=CsrfForm() if user_id else None)


@bp.route("/akun/<int:user_id>/undangan", methods=["POST"])
def invite_user(user_id: int):
    """A new one-time invitation link for an account of the district (the earlier link stops working): for a
    lost or expired link, or a forgotten password."""
    user = get_or_404(User, user_id)
    if user.district_id != current_user.district_id or user.id == current_user.id or not user.active:
        abort(404)
    if not CsrfForm().validate_on_submit():
        abort(400)
    with unit_of_work():
        token = invitations.create(current_user, user)
    return invited_page(user, token, url_for("accounts.edit_user", user_id=user.id))
