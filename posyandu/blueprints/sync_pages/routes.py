"""Sync pages for people. On the district server: the cases a laptop's push flagged (a field edited on both sides,
one NIK registered twice), which the kelurahan clerk and the district admin decide. On a laptop: *Sinkronkan*,
what waits, what the district refused and why, and the button that runs a sync as a background job."""
import json

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...extensions import db
from ...forms import CsrfForm
from ...jobs import enqueue
from ...jobs import runner as job_runner
from ...nav import ALL
from ...roles import role_required
from ...services import jobs
from ...sync import cases as sync_cases
from ...sync import runs
from ...web import render
from . import bp

POLL_SECONDS = 2


@bp.route("/konflik-sinkron/")
@login_required
@role_required(*sync_cases.ROLES)
def cases():
    """The open cases of the laptops in the user's scope, and the ones decided lately."""
    return render("sync_pages/cases.html", rows=sync_cases.open_cases(current_user),
                  done=sync_cases.recently_resolved(current_user))


def _choices(case) -> tuple[dict, dict]:
    choices = {f: request.form.get(f"choice-{f}") for f in case.fields}
    typed = {f: request.form.get(f"typed-{f}", "")[:200] for f in case.fields}
    return choices, typed


@bp.route("/konflik-sinkron/<int:case_id>", methods=["GET", "POST"])
@login_required
@role_required(*sync_cases.ROLES)
def case(case_id: int):
    """One case: both sides' values per field; the clerk picks (or types) each and saves, or, for one NIK
    registered twice, keeps two people apart by fixing the wrong NIK."""
    case = sync_cases.get(current_user, case_id)
    if case is None:
        abort(404)
    form = CsrfForm()
    problems, choices, typed = {}, {}, {}
    if request.method == "POST" and case.status != "open":
        flash(_("Kasus ini sudah diputuskan."), "info")
        return redirect(url_for("sync_pages.case", case_id=case.id), 303)
    if form.validate_on_submit():
        choices, typed = _choices(case)
        try:
            if request.form.get("action") == "two_people" and case.kind == "same_nik":
                other = sync_cases.keep_apart(current_user, case, request.form.get("fix", ""),
                                              request.form.get("new_nik", "")[:40])
                message = _("Disimpan sebagai dua orang: %(name)s mendapat data sendiri.", name=other.name)
            else:
                person = sync_cases.resolve_one_person(current_user, case, choices, typed)
                message = _("Keputusan disimpan untuk %(name)s. Laptop menerimanya pada sinkronisasi berikutnya.",
                            name=person.name)
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("sync_pages.cases"), 303)
        except sync_cases.CaseProblem as e:
            db.session.rollback()
            problems = e.fields
    status = 422 if request.method == "POST" else 200
    person = sync_cases.person_of(case)
    sides = sync_cases.sides(case) if case.kind == "same_nik" else None
    return render("sync_pages/case.html", case=case, person=person, sides=sides, rows=sync_cases.rows(case),
                  form=form, problems=problems,
                  choices=choices, typed=typed, status=status)


@job_runner(runs.JOB_KIND)
def _run_sync(params, out, progress):
    """The Sinkronkan button's job: push then pull; a cut run fails the job (its page says what was sent)."""
    report = runs.run_now()
    out.write(json.dumps({"pushed": dict(report.pushed), "pulled": report.pulled}).encode())


@bp.route("/sinkronkan/", methods=["GET", "POST"])
@login_required
@role_required(*ALL)
def laptop():
    """The laptop's sync: server and device, last success, what waits and what was refused; the button starts a
    background run (push, then pull) and the page follows it."""
    cred = runs.credential()
    job = runs.current_job() if cred else None
    form = CsrfForm()
    if request.method == "POST":
        if cred is None:
            abort(404)
        if form.validate_on_submit() and not runs.busy(job):
            job = jobs.create(current_user, runs.JOB_KIND, {"base_url": request.host_url, "locale": str(get_locale())},
                              _("Sinkronkan"), "sinkron.json", "application/json")
            job_id = job.id
            db.session.commit()
            enqueue(job_id)
        return redirect(url_for("sync_pages.laptop"), 303)
    busy = runs.busy(job)
    return render("sync_pages/laptop.html", "sync_pages/_laptop_status.html", cred=cred,
                  st=runs.status() if cred else None, job=job, busy=busy, form=form, poll=POLL_SECONDS,
                  laptop_mode=bool(current_app.config.get("SYNC_LAPTOP")))
