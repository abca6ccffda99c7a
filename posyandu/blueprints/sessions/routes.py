"""The session day: open the hari buka, the five meja, the live queues, close with a summary."""
from datetime import date

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ...database import unit_of_work
from ...extensions import db
from ...domain.rules import LYING_STANDING_DAY
from ...forms import CsrfForm
from ...models import HariBuka, Person, Posyandu, Visit
from ...roles import role_required
from ...services import month_lock, scope, session_day, session_views
from ...web import get_or_404, int_arg, render, unchanged
from . import bp
from .forms import CounsellingForm, EnqueueForm, MeasureForm, OpenForm, PastImmunisationForm, ServicesForm

MEJA = (1, 2, 3, 4, 5)


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _session(hb_id: int, page: bool = True) -> HariBuka:
    """The hari buka in scope. For a page, `g.month_frozen` says whether its month is approved (the page then
    offers no form that would be refused); a queue poll skips that query."""
    hb = get_or_404(HariBuka, hb_id)
    if page:
        g.month_frozen = month_lock.is_frozen(db.session, hb.posyandu_id, hb.held_on)
    return hb


def _visit(hb: HariBuka, visit_id: int) -> Visit:
    # The person comes with the visit: every meja page shows them (a lazy load of its own before).
    visit = db.session.get(Visit, visit_id, options=[joinedload(Visit.person)])
    if visit is None or visit.hari_buka_id != hb.id:
        abort(404)
    return visit


def _editable(hb: HariBuka) -> None:
    """A save at a meja: refused when the month is approved (409 naming the month), or the day is closed."""
    if g.get("month_frozen") is None:  # the page's own check (see _session) answers it without a query
        month_lock.assert_open(db.session, hb.posyandu_id, hb.held_on)
    elif g.month_frozen:
        raise month_lock.MonthClosed(hb.posyandu_id, hb.held_on.replace(day=1))
    if hb.closed_at is not None:
        flash(_("Hari buka sudah ditutup."), "error")
        abort(409)


@bp.route("/")
def index():
    """Recent and today's hari buka of the Posyandu in scope, and the form to open one."""
    form = OpenForm()
    form.posyandu_id.choices = [(p.id, p.name) for p in scope.visible_posyandu(current_user)][:200]
    form.held_on.data = date.today()
    if current_user.posyandu_id:
        form.posyandu_id.data = current_user.posyandu_id
    page = int_arg("page", 1, 1, 10_000)
    rows, more = session_views.recent_sessions(current_user, page, 20)
    return render("sessions/index.html", form=form, rows=rows, more=more, page=page,
                  can_open=current_user.role in ("ketua", "nakes", "district_admin"))


@bp.route("/buka", methods=["POST"])
@role_required("ketua", "nakes", "district_admin")
def open_session():
    """Open the hari buka of a Posyandu on a date (the same one again if it is already open)."""
    form = OpenForm()
    form.posyandu_id.choices = [(p.id, p.name) for p in scope.visible_posyandu(current_user)]
    if not form.validate_on_submit():
        rows, more = session_views.recent_sessions(current_user, 1, 20)
        return render("sessions/index.html", form=form, rows=rows, more=more, page=1, can_open=True, status=422)
    with unit_of_work():
        hb = session_day.open_session(current_user, get_or_404(Posyandu, form.posyandu_id.data), form.held_on.data)
    return redirect(url_for("sessions.view_session", hb_id=hb.id), 303)


@bp.route("/<int:hb_id>")
def view_session(hb_id: int):
    """The day at a glance: the meja with their queues, who is on duty, and the summary."""
    hb = _session(hb_id)
    return render("sessions/view.html", hb=hb, counts=session_views.queue_counts(hb),
                  summary=session_views.summary(hb), can_manage=current_user.role in ("ketua", "nakes", "district_admin"))


@bp.route("/<int:hb_id>/petugas", methods=["POST"])
@role_required("ketua", "nakes", "district_admin")
def save_duties(hb_id: int):
    """Assign the kader on duty to meja and record who came."""
    hb = _session(hb_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    assignments = {}
    for duty in hb.duties:
        meja = int_arg(f"meja-{duty.kader_id}", source=request.form)
        assignments[duty.kader_id] = (meja if meja in MEJA else None, request.form.get(f"hadir-{duty.kader_id}") == "y")
    with unit_of_work():
        session_day.set_duties(current_user, hb, assignments)
    flash(_("Petugas disimpan."), "success")
    return redirect(url_for("sessions.view_session", hb_id=hb.id), 303)


@bp.route("/<int:hb_id>/tutup", methods=["POST"])
@role_required("ketua", "nakes", "district_admin")
def close_session(hb_id: int):
    """Close the day; its summary stays on the page."""
    hb = _session(hb_id)
    if CsrfForm().validate_on_submit():
        if request.form.get("reopen") == "y":
            with unit_of_work():
                session_day.reopen_session(current_user, hb)
        else:
            with unit_of_work():
                session_day.close_session(current_user, hb)
    return redirect(url_for("sessions.view_session", hb_id=hb.id), 303)


@bp.route("/<int:hb_id>/meja/<int:meja>", methods=["GET", "POST"])
def meja(hb_id: int, meja: int):
    """One meja: its live queue, and at meja 1 the search (posted: a NIK stays out of URLs) and who is
    expected but has not come."""
    hb = _session(hb_id)
    if meja not in MEJA or (request.method == "POST" and meja != 1):
        abort(404)
    if request.method == "POST" and not CsrfForm().validate_on_submit():
        abort(400)
    ctx = {"hb": hb, "meja": meja, "queue": session_views.queue(hb, meja), "enqueue_form": EnqueueForm(),
           "lanjut": _next_offer(hb)}
    if meja == 1:
        q = request.form.get("q", "")[:100]
        ctx.update(q=q, found=session_views.search_for_queue(current_user, hb, q) if q else [],
                   expected=session_views.expected_not_come(hb, limit=15))
        if q and request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "meja1-found":
            return render("sessions/_found.html", **ctx)
    return render("sessions/meja.html", **ctx)


@bp.route("/<int:hb_id>/meja/<int:meja>/antrian")
def poll_queue(hb_id: int, meja: int):
    """The queue of a meja for polling: an empty answer (nothing to swap) while the day's version is unchanged.

    See web.unchanged for why the unchanged answer is an empty 200 with as few headers as it can have."""
    hb = _session(hb_id, page=False)
    if meja not in MEJA:
        abort(404)
    if int_arg("v", lo=0) == hb.version:
        return unchanged()
    return render("sessions/_queue.html", "sessions/_queue.html", hb=hb, meja=meja, queue=session_views.queue(hb, meja))


@bp.route("/<int:hb_id>/antri", methods=["POST"])
def enqueue(hb_id: int):
    """Meja 1: give a person a queue number for today."""
    hb = _session(hb_id)
    _editable(hb)
    form = EnqueueForm()
    if not form.validate_on_submit():
        abort(422)
    person = get_or_404(Person, form.person_id.data)
    with unit_of_work():
        visit = session_day.add_to_queue(current_user, hb, person)
    flash(_("%(name)s: nomor antrian %(n)s.", name=person.name, n=visit.queue_number), "success")
    return redirect(url_for("sessions.meja", hb_id=hb.id, meja=1, lanjut=visit.id), 303)


@bp.route("/<int:hb_id>/kunjungan/<int:visit_id>/meja/<int:meja>", methods=["GET", "POST"])
def work(hb_id: int, visit_id: int, meja: int):
    """The work of one meja for one person: measure, see the results, counsel, serve."""
    hb = _session(hb_id)
    visit = _visit(hb, visit_id)
    if meja not in (2, 3, 4, 5):
        abort(404)
    if request.method == "POST":
        _editable(hb)
    return {2: _meja2, 3: _meja3, 4: _meja4, 5: _meja5}[meja](hb, visit)


def _next_offer(hb: HariBuka) -> Visit | None:
    """The person just served here (`?lanjut=<visit id>`), offered at their next meja beside the queue."""
    visit_id = int_arg("lanjut")
    visit = db.session.get(Visit, visit_id) if visit_id else None
    if visit is None or visit.hari_buka_id != hb.id or visit.step not in (2, 3, 4, 5) or hb.closed_at is not None:
        return None
    return visit


def _following() -> bool:
    """The kader is walking one person through the meja (came by a "lanjut" link): after a save, go straight to
    that person's next meja instead of this meja's queue."""
    return request.args.get("ikut") == "1"


def _back(hb, meja, visit=None):
    """After a save: the person's next meja when following them, else this meja's queue offering it."""
    if visit is not None:
        db.session.refresh(visit)
        if _following() and visit.step in (2, 3, 4, 5):
            return redirect(url_for("sessions.work", hb_id=hb.id, visit_id=visit.id, meja=visit.step, ikut=1), 303)
        return redirect(url_for("sessions.meja", hb_id=hb.id, meja=meja, lanjut=visit.id), 303)
    return redirect(url_for("sessions.meja", hb_id=hb.id, meja=meja), 303)


def _meja2(hb, visit):
    if request.method == "GET":
        m = session_views.measurement(visit)
        form = MeasureForm(obj=m) if m else MeasureForm()
        ctx = session_views.person_context(visit)
        if not m and visit.group == "balita":
            form.position.data = "l" if ctx["age_days"] < LYING_STANDING_DAY else "h"
        return render("sessions/meja2.html", hb=hb, visit=visit, form=form, problems=[], **ctx)
    ctx = session_views.person_context(visit)
    form = MeasureForm(group=visit.group, previous=ctx["previous"])
    problems, refused = [], []
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in session_day.MEASURE_FIELDS}
        if visit.group == "balita" and values["length_cm"] and not values["position"]:
            form.position.errors = [_("Pilih cara ukur: berbaring atau berdiri.")]
        else:
            name = visit.person.name  # read before the commit expires it
            try:
                with unit_of_work():
                    result = session_day.save_measurement(current_user, visit, values, form.confirm.data)
            except session_day.NotApplicable as e:
                refused = e.fields
            else:
                if not result.problems or form.confirm.data:
                    flash(_("Pengukuran %(name)s disimpan.", name=name), "success")
                    return _back(hb, 2, visit)
                problems = result.problems
    return render("sessions/meja2.html", "sessions/_meja2_form.html", status=422, hb=hb, visit=visit, form=form,
                  problems=problems, refused=refused, **ctx)


def _meja3(hb, visit):
    if request.method == "POST":
        if CsrfForm().validate_on_submit():
            with unit_of_work():
                session_day.advance(current_user, visit, 3)
        return _back(hb, 3, visit)
    return render("sessions/meja3.html", hb=hb, visit=visit, **session_views.results_context(visit))


def _meja4(hb, visit):
    form = CounsellingForm()
    ctx = session_views.counselling_context(visit)
    if form.validate_on_submit():
        allowed = {t.code for t in ctx["all_topics"]}
        topics = [t for t in request.form.getlist("topic") if t in allowed]
        with unit_of_work():
            session_day.record_counselling(current_user, visit, topics, form.notes.data)
        flash(_("Penyuluhan %(name)s dicatat.", name=visit.person.name), "success")
        return _back(hb, 4, visit)
    if request.method == "GET":
        form.notes.data = visit.counselling_notes
    status = 422 if form.is_submitted() else 200
    return render("sessions/meja4.html", status=status, hb=hb, visit=visit, form=form, **ctx)


def _meja5(hb, visit):
    form = ServicesForm()
    ctx = session_views.services_context(visit)
    if form.validate_on_submit():
        items = session_views.services_from_form(request.form, ctx)
        if ctx["kb"] and form.kb_method.data:  # only where it was offered (never to an ibu hamil)
            items.append(("kb", form.kb_method.data, None))
        if request.form.get("rujuk") == "y":
            reason = form.referral_reason.data or ", ".join(ctx["referral_reasons"]) or None
            if not reason:
                form.referral_reason.errors = [_("Tulis alasan rujukan.")]
                return render("sessions/meja5.html", status=422, hb=hb, visit=visit, form=form, **ctx)
            items.append(("rujukan", "", reason))
        with unit_of_work():
            session_day.record_services(current_user, visit, items, done=True)
        flash(_("Pelayanan %(name)s dicatat.", name=visit.person.name), "success")
        return _back(hb, 5, visit)
    status = 422 if form.is_submitted() else 200
    return render("sessions/meja5.html", status=status, hb=hb, visit=visit, form=form, **ctx)


@bp.route("/<int:hb_id>/kunjungan/<int:visit_id>/skrining/<code>", methods=["GET", "POST"])
def screening(hb_id: int, visit_id: int, code: str):
    """A screening questionnaire (TBC, PUMA, SKILAS, AKS) for the person, scored from its versioned data."""
    hb = _session(hb_id)
    visit = _visit(hb, visit_id)
    q = session_views.questionnaire_for(visit, code)
    if q is None:
        abort(404)
    form = CsrfForm()
    missing = []
    if form.validate_on_submit():
        _editable(hb)
        answers = {question.id: request.form.get(question.id, "") for question in q.questions}
        result = session_views.score_screening(q, answers)
        if result is not None and not result.missing:
            with unit_of_work():
                session_day.record_screening(current_user, visit, q.code, q.version, answers, result.score,
                                             result.band, result.refer)
            flash(_("Skrining disimpan: %(label)s", label=result.label), "success")
            return redirect(url_for("sessions.work", hb_id=hb.id, visit_id=visit.id, meja=5), 303)
        missing = result.missing if result else [qq.id for qq in q.questions]
    status = 422 if form.is_submitted() else 200
    return render("sessions/screening.html", status=status, hb=hb, visit=visit, q=q, form=form, missing=missing,
                  answers=request.form)


@bp.route("/sasaran/<int:person_id>/imunisasi", methods=["POST"])
def past_immunisation(person_id: int):
    """Copy an immunisation given elsewhere from the Buku KIA into the record."""
    person = get_or_404(Person, person_id)
    form = PastImmunisationForm()
    form.code.choices = session_views.vaccine_choices()
    if form.validate_on_submit():
        if form.given_on.data < person.birth_date or form.given_on.data > date.today():
            flash(_("Tanggal imunisasi tidak sah."), "error")
        elif month_lock.is_frozen(db.session, person.posyandu_id, form.given_on.data):
            flash(_("Laporan bulan itu sudah disetujui dan datanya dikunci; imunisasi tidak dapat ditambahkan ke "
                    "bulan itu."), "error")
        else:
            with unit_of_work():
                session_day.record_past_immunisation(current_user, person, form.code.data, form.given_on.data)
            flash(_("Imunisasi dicatat."), "success")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/")
                    else url_for("people.view_person", person_id=person.id), 303)
