"""The organisation tree, managed by district admins; Posyandu pages visible to everyone in scope."""
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ...database import unit_of_work
from ...extensions import db
from ...models import Kader, Kecamatan, Kelurahan, Person, Posyandu, Puskesmas
from ...roles import role_required
from ...services import places, scope
from ...services.people import on_roll
from ...web import get_or_404, int_arg, render
from ..institution.routes import panel_context as institution_panel
from . import bp
from .forms import KaderForm, KecamatanForm, KelurahanForm, PositionForm, PosyanduForm, PuskesmasForm

admin_only = role_required("district_admin")


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _in_scope(model):
    ids = {Kecamatan: scope.kecamatan_ids, Kelurahan: scope.kelurahan_ids, Puskesmas: scope.puskesmas_ids}[model]
    return list(db.session.scalars(select(model).where(model.id.in_(ids(current_user))).order_by(model.name)))


def _choices(form):
    """Fill the selects of a place form with what the user's scope holds."""
    if hasattr(form, "kecamatan_id"):
        form.kecamatan_id.choices = [(k.id, k.name) for k in _in_scope(Kecamatan)]
    if hasattr(form, "puskesmas_id"):
        form.puskesmas_id.choices = [(0, "—")] + [(p.id, p.name) for p in _in_scope(Puskesmas)]
    if hasattr(form, "kelurahan_id"):
        form.kelurahan_id.choices = [(k.id, k.name) for k in _in_scope(Kelurahan)]


@bp.route("/wilayah/")
@admin_only
def index():
    """The district's tree: kecamatan, their kelurahan with Puskesmas, and Posyandu counts."""
    kecamatan = _in_scope(Kecamatan)
    counts = dict(db.session.execute(
        select(Posyandu.kelurahan_id, func.count()).where(Posyandu.id.in_(scope.posyandu_ids(current_user)))
        .group_by(Posyandu.kelurahan_id)).all())
    return render("places/index.html", kecamatan=kecamatan, counts=counts, puskesmas=_in_scope(Puskesmas),
                  district=current_user.district)


# One form view per kind of place: the same steps, a different form and template title.
_SIMPLE = {
    "kecamatan": (Kecamatan, KecamatanForm),
    "kelurahan": (Kelurahan, KelurahanForm),
    "puskesmas": (Puskesmas, PuskesmasForm),
}


def _edit_place(kind: str, obj_id: int | None):
    model, form_cls = _SIMPLE[kind]
    obj = get_or_404(model, obj_id) if obj_id else model()
    form = form_cls(obj=obj if obj_id else None)
    _choices(form)
    if not obj_id and request.method == "GET" and hasattr(form, "kecamatan_id"):
        form.kecamatan_id.data = int_arg("kecamatan")
    if form.validate_on_submit():
        data = {f.name: f.data for f in form if f.name not in ("csrf_token",)}
        if kind == "kecamatan":
            data["district_id"] = current_user.district_id
        if "puskesmas_id" in data:
            data["puskesmas_id"] = data["puskesmas_id"] or None
        with unit_of_work():
            places.save(current_user, obj, data)
        flash(_("Tersimpan."), "success")
        return redirect(url_for("places.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render("places/edit.html", form=form, kind=kind, obj=obj if obj_id else None, status=status)


@bp.route("/wilayah/<any(kecamatan,kelurahan,puskesmas):kind>/baru", methods=["GET", "POST"])
@admin_only
def new_place(kind: str):
    """Add a kecamatan, kelurahan/desa or Puskesmas."""
    return _edit_place(kind, None)


@bp.route("/wilayah/<any(kecamatan,kelurahan,puskesmas):kind>/<int:obj_id>/ubah", methods=["GET", "POST"])
@admin_only
def edit_place(kind: str, obj_id: int):
    """Change a kecamatan, kelurahan/desa or Puskesmas."""
    return _edit_place(kind, obj_id)


@bp.route("/wilayah/kelurahan/<int:kelurahan_id>")
@role_required("district_admin", "kelurahan_clerk", "nakes")
def view_kelurahan(kelurahan_id: int):
    """A kelurahan with its Posyandu."""
    kel = get_or_404(Kelurahan, kelurahan_id)
    return render("places/kelurahan.html", kel=kel)


@bp.route("/posyandu/<int:posyandu_id>")
def view_posyandu(posyandu_id: int):
    """A Posyandu: its registration, schedule, board and kader."""
    pos = get_or_404(Posyandu, posyandu_id)
    today = date.today()
    people_count = db.session.scalar(select(func.count()).where(Person.posyandu_id == pos.id, on_roll(today)))
    position_form = PositionForm()
    kader = places.kader_of(pos.id, today)
    position_form.kader_id.choices = [(k.id, k.name) for k in kader]
    position_form.start_date.data = today
    return render("places/posyandu.html", pos=pos, board=places.board(pos.id, today), kader=kader,
                  people_count=people_count, position_form=position_form, kader_form=KaderForm(), today=today,
                  can_edit=current_user.role == "district_admin", **institution_panel(pos, today))


@bp.route("/wilayah/posyandu/baru", methods=["GET", "POST"])
@bp.route("/wilayah/posyandu/<int:posyandu_id>/ubah", methods=["GET", "POST"])
@admin_only
def edit_posyandu(posyandu_id: int | None = None):
    """Register or change a Posyandu."""
    pos = get_or_404(Posyandu, posyandu_id) if posyandu_id else Posyandu()
    form = PosyanduForm(obj=pos if posyandu_id else None)
    _choices(form)
    if not posyandu_id and request.method == "GET":
        form.kelurahan_id.data = int_arg("kelurahan")
    if form.validate_on_submit():
        data = {f.name: f.data for f in form if f.name != "csrf_token"}
        if data["schedule_kind"] == "day_of_month":
            data["schedule_week"] = data["schedule_weekday"] = None
        else:
            data["schedule_day"] = None
        with unit_of_work():
            places.save(current_user, pos, data)
        flash(_("Tersimpan."), "success")
        return redirect(url_for("places.view_posyandu", posyandu_id=pos.id), 303)
    status = 422 if form.is_submitted() else 200
    return render("places/edit.html", form=form, kind="posyandu", obj=pos if posyandu_id else None, status=status)


@bp.route("/posyandu/<int:posyandu_id>/kader", methods=["POST"])
@role_required("district_admin", "kelurahan_clerk", "ketua")
def add_kader(posyandu_id: int):
    """Enrol a kader in this Posyandu."""
    pos = get_or_404(Posyandu, posyandu_id)
    form = KaderForm()
    if form.validate_on_submit():
        with unit_of_work():
            places.add_kader(current_user, pos.id, {f.name: f.data for f in form if f.name != "csrf_token"},
                             form.joined_on.data or date.today())
        flash(_("Kader ditambahkan."), "success")
        return redirect(url_for("places.view_posyandu", posyandu_id=pos.id), 303)
    return render("places/kader_form.html", form=form, pos=pos, status=422)


@bp.route("/posyandu/<int:posyandu_id>/pengurus", methods=["POST"])
@role_required("district_admin", "kelurahan_clerk")
def assign_position(posyandu_id: int):
    """Give a board position (ketua, sekretaris, bendahara, ketua bidang) to one of the kader."""
    pos = get_or_404(Posyandu, posyandu_id)
    form = PositionForm()
    kader = places.kader_of(pos.id, date.today())
    form.kader_id.choices = [(k.id, k.name) for k in kader]
    if form.validate_on_submit():
        with unit_of_work():
            places.assign_position(current_user, pos.id, db.session.get(Kader, form.kader_id.data),
                                   form.position.data, form.start_date.data)
        flash(_("Pengurus disimpan."), "success")
        return redirect(url_for("places.view_posyandu", posyandu_id=pos.id), 303)
    if not kader:
        abort(422)
    return render("places/position_form.html", form=form, pos=pos, status=422)
