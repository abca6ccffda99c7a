"""One person, one record: leaving the roll, transfers (pindah) between Posyandu, merging duplicates."""
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...database import unit_of_work
from ...models import Person, PersonTransfer
from ...roles import role_required
from ...services import identity, people, scope
from ...web import get_or_404, render
from . import bp
from .forms import DeleteForm, LeaveForm, MergeForm, TransferForm


@bp.route("/sasaran/<int:person_id>/keluar", methods=["POST"])
def leave_person(person_id: int):
    """Take a person off the roll with a reason and a date (not a delete: the record and history stay)."""
    person = get_or_404(Person, person_id)
    form = LeaveForm()
    if form.validate_on_submit():
        if form.left_on.data < person.birth_date:
            form.left_on.errors.append(_("Tanggal tidak boleh sebelum tanggal lahir."))
        else:
            with unit_of_work():
                people.leave(current_user, person, form.reason.data, form.left_on.data, form.note.data)
            flash(_("%(name)s keluar dari daftar.", name=person.name), "success")
            return redirect(url_for("people.view_person", person_id=person.id), 303)
    return render("people/leave.html", status=422, person=person, leave_form=form)


@bp.route("/sasaran/<int:person_id>/kembali", methods=["POST"])
def rejoin_person(person_id: int):
    """Put a person who left back on the roll."""
    person = get_or_404(Person, person_id)
    if DeleteForm().validate_on_submit() and person.left_on is not None:
        try:
            with unit_of_work():
                people.rejoin(current_user, person)
            flash(_("%(name)s kembali ke daftar.", name=person.name), "success")
        except people.NikTaken:
            flash(_("NIK ini sudah terdaftar pada orang lain yang masih aktif."), "error")
    return redirect(url_for("people.view_person", person_id=person.id), 303)


def _receiving_choices(form):
    form.posyandu_id.choices = [(p.id, f"{p.name} — {p.kelurahan.name}") for p in scope.visible_posyandu(current_user)]


@bp.route("/pindah/minta", methods=["POST"])
def request_transfer():
    """Ask for a person registered at another Posyandu (found by NIK, which stays out of URLs). Posted first from
    the registration form (then only the date and a note are asked), then confirmed here."""
    form = TransferForm()
    _receiving_choices(form)
    if request.form.get("step") != "confirm":
        form.moved_on.data = date.today()
        return render("people/transfer_request.html", "people/_transfer_request_form.html", form=form)
    if form.validate_on_submit():
        try:
            with unit_of_work():
                t = identity.request_transfer(current_user, form.nik.data, form.posyandu_id.data,
                                              form.moved_on.data, form.note.data)
        except identity.TransferProblem as e:
            form.nik.errors.append(_("Tidak ada orang aktif dengan NIK ini.") if e.code == "no_person"
                                   else _("Orang ini sudah terdaftar di Posyandu ini."))
        else:
            flash(_("Pindah disetujui.") if t.status == "approved" else _("Permintaan pindah dikirim."), "success")
            return redirect(url_for("people.transfers"), 303)
    return render("people/transfer_request.html", "people/_transfer_request_form.html", status=422, form=form)


@bp.route("/pindah/")
def transfers():
    """Transfers to and from the Posyandu in scope; the sending side decides."""
    rows = identity.transfers(current_user)
    visible = people.visible_ids(current_user, [t.person_id for t in rows])
    return render("people/transfers.html", rows=rows, visible=visible, may_decide=identity.may_decide,
                  form=DeleteForm())


def _decide(transfer_id: int, approve: bool):
    t = get_or_404(PersonTransfer, transfer_id)
    if not identity.may_decide(current_user, t):
        abort(403)
    if DeleteForm().validate_on_submit():
        with unit_of_work():
            identity.decide(current_user, t, approve)
        flash(_("Pindah disetujui.") if approve else _("Permintaan pindah ditolak."), "success")
    return redirect(url_for("people.transfers"), 303)


@bp.route("/pindah/<int:transfer_id>/setujui", methods=["POST"])
@role_required(*identity.DECIDERS)
def approve_transfer(transfer_id: int):
    return _decide(transfer_id, True)


@bp.route("/pindah/<int:transfer_id>/tolak", methods=["POST"])
@role_required(*identity.DECIDERS)
def reject_transfer(transfer_id: int):
    return _decide(transfer_id, False)


@bp.route("/sasaran/<int:person_id>/gabung", methods=["GET", "POST"])
@role_required(*identity.MERGERS)
def merge_person(person_id: int):
    """Merge another record of the same person into this one (kelurahan and district only, on the server)."""
    if identity.on_laptop():
        abort(403)
    person = get_or_404(Person, person_id)
    candidates = identity.merge_candidates(current_user, person)
    form = MergeForm()
    form.other_id.choices = [(c.id, c.name) for c in candidates]
    if form.validate_on_submit():
        other = get_or_404(Person, form.other_id.data)
        try:
            with unit_of_work():
                identity.merge(current_user, person, other)
        except identity.MergeConflict:
            form.other_id.errors.append(_("Keduanya tercatat pada hari buka yang sama; perbaiki kunjungannya dahulu."))
        else:
            flash(_("Data %(other)s digabung ke %(name)s.", other=other.name, name=person.name), "success")
            return redirect(url_for("people.view_person", person_id=person.id), 303)
    status = 422 if form.is_submitted() else 200
    return render("people/merge.html", status=status, person=person, candidates=candidates, form=form)
