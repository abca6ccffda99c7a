"""Registration of sasaran: search, register, view, edit, delete, pregnancies."""
from datetime import date

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import unchanged_pages
from ...database import unit_of_work
from ...domain.identity import nik_disagrees
from ...extensions import db
from ...models import AuditLog, HariBuka, Person, Posyandu, Pregnancy, User
from ...services import idempotency, people, person_card, scope, session_day
from ...services.scope import get_in_scope
from ...parsing import parse_id
from ...web import get_or_404, int_arg, render, search_query
from . import bp
from .forms import DeleteForm, LeaveForm, PersonForm, PregnancyForm, RegisterForm

PERSON_DATA = [f for f in people.PERSON_FIELDS if f != "mother_id"]
# What the person's page shows of the person, loaded with it (three lazy loads before).
CARD_LOADS = (joinedload(Person.posyandu, innerjoin=True).joinedload(Posyandu.kelurahan, innerjoin=True),
              joinedload(Person.mother))


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


@bp.route("/sasaran/", methods=["GET", "POST"])
def list_people():
    """The list of people, with active search by name, NIK or mother's name.

    The search is a POST (a read, CSRF-checked like any post) so a NIK never lands in a URL, a server log or
    the browser history."""
    q, page = search_query()
    today = date.today()
    found = people.list_page(current_user, q, page, current_app.config["PAGE_SIZE"], today)
    if any(r.mother_id and r.mother_id not in found.visible_mothers for r in found.rows):
        unchanged_pages.shows_outside()  # a mother registered outside the scope, by her initial
    return render("people/list.html", "people/_results.html", rows=found.rows, more=found.more, q=q, page=page,
                  today=today, visible=found.visible_mothers, groups=found.groups)


def _posyandu_choices(form):
    form.posyandu_id.choices = [(p.id, f"{p.name} — {p.kelurahan.name}") for p in scope.visible_posyandu(current_user)]


def _person_data(form) -> dict:
    return {k: getattr(form, k).data for k in PERSON_DATA}


def _resolve_mother(form, by_id: bool = True) -> Person | None | bool:
    """The mother named by the hidden id or by NIK, within scope; False (with an error) when not found."""
    if by_id and form.mother_id.data:
        mother = people.get_mother(current_user, form.mother_id.data)
        if mother is None:
            form.mother_nik.errors.append(_("Ibu tidak ditemukan."))
            return False
        return mother
    if form.mother_nik.data:
        mother = people.find_by_nik_in_scope(current_user, form.mother_nik.data)
        if mother is None:
            form.mother_nik.errors.append(_("Belum ada ibu dengan NIK ini. Daftarkan ibunya dahulu."))
            return False
        return mother
    return None


@bp.route("/sasaran/baru", methods=["GET", "POST"])
def register_person():
    """Register a person; warns of a likely duplicate and offers the existing person instead."""
    form = RegisterForm()
    _posyandu_choices(form)
    mother = None
    if request.method == "GET":
        mother_id = int_arg("ibu")
        mother = get_or_404(Person, mother_id) if mother_id else None
        if mother is not None:
            form.mother_id.data = str(mother.id)
            form.posyandu_id.data = mother.posyandu_id
            form.address.data, form.rt.data, form.rw.data = mother.address, mother.rt, mother.rw
            form.kk_number.data = mother.kk_number
        elif current_user.posyandu_id:
            form.posyandu_id.data = current_user.posyandu_id
        form.antri.data = request.args.get("antri", "")
        return render("people/register.html", "people/_register_form.html", form=form, mother=mother, duplicates=[])
    earlier = idempotency.seen(form.idempotency_key.data, user_id=current_user.id, entity="person")
    if earlier is not None:  # a re-post of a form already handled: show what it made
        return redirect(url_for("people.view_person", person_id=earlier.entity_id), 303)
    duplicates, mismatch = [], False
    if form.validate_on_submit():
        mother = _resolve_mother(form)
        if mother is not False:
            data = _person_data(form)
            data["mother_id"] = mother.id if mother else None
            # Looked up across the whole installation; a live NIK can never be registered twice.
            duplicates = people.likely_duplicates(current_user, data)
            if any(d.same_nik for d in duplicates):
                _nik_taken(form)
            elif form.confirm_new.data:
                duplicates = []
            mismatch = _nik_mismatch(form)
            if not duplicates and not mismatch:
                pregnancy = {"hpht": form.hpht.data, "gravida": form.gravida.data}
                try:
                    with unit_of_work():
                        result = people.register(current_user, data, pregnancy, form.idempotency_key.data)
                except people.NikTaken:  # a concurrent request registered it first
                    _nik_taken(form)
                    duplicates = people.likely_duplicates(current_user, data)
                else:
                    if not result.repeated:
                        flash(_("%(name)s terdaftar.", name=result.person.name), "success")
                    return _after_register(result.person, form.antri.data)
    return render("people/register.html", "people/_register_form.html", status=422, form=form,
                  mother=mother or None, duplicates=duplicates, nik_mismatch=mismatch)


def _nik_taken(form) -> None:
    form.nik.errors.append(_("NIK ini sudah terdaftar."))


def _nik_mismatch(form) -> bool:
    """The birth date or sex coded in the NIK differ from the form: a warning to confirm (the NIK or the date
    may be mistyped, but some NIKs really were issued so)."""
    if form.confirm_nik.data or not nik_disagrees(form.nik.data, form.birth_date.data, form.sex.data):
        return False
    form.nik.errors.append(_("Tanggal lahir atau jenis kelamin tidak sama dengan NIK. Periksa lagi, atau "
                             "centang bahwa data sudah benar."))
    return True


def _after_register(person: Person, antri: str | None):
    """Show the new person, or — when registered from meja 1 — queue them for the hari buka."""
    hb_id = parse_id(antri)
    hb = get_in_scope(current_user, HariBuka, hb_id) if hb_id else None
    if hb is not None and hb.closed_at is None:
        with unit_of_work():
            session_day.add_to_queue(current_user, hb, person)
        return redirect(url_for("sessions.meja", hb_id=hb.id, meja=1), 303)
    return redirect(url_for("people.view_person", person_id=person.id), 303)


@bp.route("/sasaran/<int:person_id>")
def view_person(person_id: int):
    """A person's page: details, family, pregnancies and the history of changes."""
    person = get_or_404(Person, person_id, CARD_LOADS)
    history = db.session.connection().execute(  # rows shown as they are: no ORM objects
        select(AuditLog.at, AuditLog.action, AuditLog.changes, User.display_name.label("actor"))
        .outerjoin(User, AuditLog.actor_id == User.id)
        .where(AuditLog.entity == "person", AuditLog.entity_id == person.id).order_by(AuditLog.id.desc()).limit(50)
    ).all()
    today = date.today()
    group, pregnancy = people.group_of(person, today), people.active_pregnancy(person, today)
    mothering = person.sex == "P" and group != "balita"  # the page shows her children and pregnancies
    children = [c for c in person.children if c.deleted_at is None] if mothering else []
    visible = people.visible_ids(current_user, [person.mother_id] + [c.id for c in children])
    return render("people/view.html", person=person, history=history, today=today,
                  children=[c for c in children if c.id in visible], mother_visible=person.mother_id in visible,
                  card=person_card.card(person, today), group=group, pregnancy=pregnancy,
                  leave_form=LeaveForm() if not person.left_on else None, delete_form=DeleteForm(),
                  pregnancy_form=PregnancyForm() if mothering and not pregnancy else None)


@bp.route("/sasaran/<int:person_id>/ubah", methods=["GET", "POST"])
def edit_person(person_id: int):
    """Correct a person's data; the old values stay in the history."""
    person = get_or_404(Person, person_id)
    form = PersonForm(obj=person)
    _posyandu_choices(form)
    # A mother registered at a Posyandu outside the user's scope: shown by initial only, and kept on save.
    mother_elsewhere = person.mother if person.mother_id not in people.visible_ids(current_user, [person.mother_id]) else None
    if request.method == "GET" and person.mother is not None and mother_elsewhere is None:
        form.mother_nik.data = person.mother.nik
    mismatch = False
    if form.validate_on_submit():
        mother = _resolve_mother(form, by_id=False) if form.mother_nik.data else None
        if mother is not False:
            data = _person_data(form)
            data["mother_id"] = mother.id if mother else person.mother_id
            mismatch = _nik_mismatch(form)
            if data["mother_id"] == person.id:
                form.mother_nik.errors.append(_("Seseorang tidak bisa menjadi ibunya sendiri."))
            elif people.live_with_nik(data["nik"], exclude_id=person.id) is not None:
                _nik_taken(form)
            elif not mismatch:
                try:
                    with unit_of_work():
                        people.update(current_user, person, data)
                except people.NikTaken:
                    _nik_taken(form)
                else:
                    flash(_("Perubahan disimpan."), "success")
                    return redirect(url_for("people.view_person", person_id=person.id), 303)
    status = 422 if form.is_submitted() else 200
    return render("people/edit.html", "people/_edit_form.html", status=status, form=form, person=person,
                  mother_elsewhere=mother_elsewhere, nik_mismatch=mismatch)


@bp.route("/sasaran/<int:person_id>/hapus", methods=["POST"])
def delete_person(person_id: int):
    """Remove a person from the lists (a soft delete: the record and history stay)."""
    person = get_or_404(Person, person_id)
    if DeleteForm().validate_on_submit():
        with unit_of_work():
            people.soft_delete(current_user, person)
        flash(_("%(name)s dihapus dari daftar.", name=person.name), "success")
        return redirect(url_for("people.list_people"), 303)
    return redirect(url_for("people.view_person", person_id=person.id), 303)


@bp.route("/sasaran/<int:person_id>/kehamilan", methods=["POST"])
def add_pregnancy(person_id: int):
    """Record a new pregnancy for a woman."""
    person = get_or_404(Person, person_id)
    form = PregnancyForm()
    if person.sex != "P":
        form.hpht.errors = [_("Kehamilan hanya untuk perempuan.")]
    elif form.validate_on_submit():
        with unit_of_work():
            people.add_pregnancy(current_user, person,
                                 {k: getattr(form, k).data for k in ("hpht", "gravida", "para", "abortus")})
        flash(_("Kehamilan dicatat."), "success")
        return redirect(url_for("people.view_person", person_id=person.id), 303)
    return render("people/pregnancy.html", status=422, form=form, person=person)


@bp.route("/sasaran/<int:person_id>/kehamilan/<int:pregnancy_id>/selesai", methods=["POST"])
def end_pregnancy(person_id: int, pregnancy_id: int):
    """Close a pregnancy (birth or loss) on a date."""
    person = get_or_404(Person, person_id)
    preg = db.session.get(Pregnancy, pregnancy_id)
    if preg is None or preg.person_id != person.id:
        abort(404)
    outcome = request.form.get("outcome")
    if DeleteForm().validate_on_submit() and outcome in ("lahir_hidup", "lahir_mati", "keguguran"):
        with unit_of_work():
            people.end_pregnancy(current_user, preg, date.today(), outcome)
        flash(_("Kehamilan ditutup."), "success")
    return redirect(url_for("people.view_person", person_id=person.id), 303)
