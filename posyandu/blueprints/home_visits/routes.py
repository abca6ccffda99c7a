"""Home visits: the task list of a Posyandu (from the data), and recording a visit that closes a task."""
from datetime import date

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ...database import unit_of_work
from ...domain.identity import initial
from ...extensions import db
from ...models import Kader, KaderRole, Person, Posyandu
from ...services import home_visits as svc
from ...services import month_lock, people, scope
from ...services.report_exports import safe_cell
from ...web import get_or_404, int_arg, render
from . import bp
from .forms import HomeVisitForm

TASKS = {"absent": _l("Tidak hadir di hari buka terakhir"), "T": _l("T · berat tidak naik"), "2T": _l("2T"),
         "BGM": _l("BGM"), "new_stunting": _l("Stunting baru"), "at_risk": _l("Berisiko stunting/wasting"),
         "kek": _l("Ibu hamil KEK"), "danger": _l("Ibu hamil: tanda bahaya"),
         "danger_adult": _l("Remaja, dewasa atau lansia: tanda bahaya"), "rujukan": _l("Dirujuk: tindak lanjut rujukan"),
         "imunisasi": _l("Imunisasi terlambat")}
PAGE = 25


@bp.before_request
@login_required
def _login():
    """Every page here needs a login."""


def _area() -> tuple[Posyandu | None, list[Posyandu]]:
    """Whose tasks: the user's own Posyandu; otherwise the one chosen, or every Posyandu of the user's area (a
    bidan sees her whole Puskesmas without first picking one of 25). Also the choices for the filter."""
    if current_user.posyandu_id:
        pos = get_or_404(Posyandu, current_user.posyandu_id)
        return pos, [pos]
    choices = scope.visible_posyandu(current_user)[:300]
    pid = int_arg("posyandu")
    return (get_or_404(Posyandu, pid) if pid else None), choices


@bp.route("/")
def tasks():
    """The open home-visit tasks, urgent first, with what a visit needs (address, RT/RW, phone, mother), of the
    user's Posyandu or the whole area (or one chosen), paginated; `?format=csv`."""
    pos, choices = _area()
    ids = [pos.id] if pos else [p.id for p in choices]
    today = date.today()
    open_ = svc.open_tasks(ids, today)
    if request.args.get("format") == "csv":
        persons = svc.people({t.person_id for t in open_})
        visible = _visible_mothers(persons.values())

        def lines():
            import csv
            import io

            buf = io.StringIO()
            w = csv.writer(buf)
            # The same as the task list: where to go and whom to call, the mother of a child (one registered
            # outside the user's area by her initial only, as on the list).
            w.writerow(["No", _("Nama"), "NIK", _("Posyandu"), _("Alamat"), "RT", "RW", _("No. HP"), _("Ibu"),
                        _("No. HP ibu"), _("Tugas"), _("Sejak"), _("Keterangan")])
            yield "\ufeff" + buf.getvalue()
            for i, t in enumerate(open_, 1):
                buf.seek(0)
                buf.truncate()
                p = persons[t.person_id]
                mum = p.mother if p.mother is not None and p.mother.deleted_at is None else None
                shown = mum is not None and mum.id in visible
                w.writerow([i, safe_cell(p.name), safe_cell(p.nik or ""), safe_cell(p.posyandu.name),
                            safe_cell(p.address or ""), safe_cell(p.rt or ""), safe_cell(p.rw or ""),
                            safe_cell(p.phone or ""),
                            safe_cell(mum.name if shown else initial(mum.name)) if mum is not None else "",
                            safe_cell(mum.phone or "") if shown else "",
                            str(TASKS[t.code]), t.since.isoformat(), safe_cell(t.detail)])
                yield buf.getvalue()
        resp = Response(stream_with_context(lines()), mimetype="text/csv")
        name = pos.id if pos else "wilayah"
        resp.headers["Content-Disposition"] = f'attachment; filename="kunjungan-rumah-{name}-{today}.csv"'
        return resp
    page = int_arg("page", 1, 1, 1000)
    rows = open_[(page - 1) * PAGE: page * PAGE]
    persons = svc.people({t.person_id for t in rows})
    return render("home_visits/tasks.html", pos=pos, choices=choices, rows=rows, persons=persons,
                  visible=_visible_mothers(persons.values()), total=len(open_), page=page,
                  more=len(open_) > page * PAGE, labels_tasks=TASKS, visits=svc.recent_visits(ids),
                  counts={c: sum(1 for t in open_ if t.code == c) for c in TASKS}, today=today,
                  urgent={c for c, rank in svc.URGENCY.items() if rank == 0})


def _visible_mothers(persons) -> set[int]:
    """Mothers the user may see by name (and call); one registered elsewhere shows only her initial."""
    return people.visible_ids(current_user, [p.mother_id for p in persons if p.mother_id])


def _kader_choices(posyandu_id: int, on: date) -> list[tuple[int, str]]:
    rows = db.session.execute(select(Kader.id, Kader.name).join(KaderRole, KaderRole.kader_id == Kader.id).where(
        KaderRole.posyandu_id == posyandu_id, KaderRole.start_date <= on,
        (KaderRole.end_date.is_(None)) | (KaderRole.end_date >= on), Kader.deleted_at.is_(None))
        .distinct().order_by(Kader.name)).all()
    return [(0, _("— pilih kader —"))] + [(k, n) for k, n in rows]


def _refused(form: HomeVisitForm, code: str) -> None:
    """The service's refusal on the field it concerns (the form's own checks catch most before)."""
    if code == "kader":
        form.kader_id.errors = [_("Kader ini tidak bertugas di Posyandu orang ini pada tanggal kunjungan.")]
    elif code == "follow_up":
        form.follow_up_on.errors = [_("Tanggal tindak lanjut sebelum tanggal kunjungan.")]
    elif code == "task":
        abort(404)
    else:  # born, date
        form.visited_on.errors = [_("Tanggal kunjungan sebelum tanggal lahir.")]


@bp.route("/catat/<int:person_id>", methods=["GET", "POST"])
def record(person_id: int):
    """Record a home visit to a person; a task named in `?tugas=` is closed by it."""
    person = get_or_404(Person, person_id)
    form = HomeVisitForm()
    form.born = person.birth_date
    form.kader_id.choices = _kader_choices(person.posyandu_id, date.today())
    task_key = request.values.get("tugas") or form.task_key.data or ""
    if task_key and task_key.split(":", 1)[0] not in TASKS:
        abort(404)
    if request.method == "GET":
        form.visited_on.data = date.today()
        form.task_key.data = task_key
    if form.validate_on_submit():
        if form.kader_id.data and form.kader_id.data not in {k for k, _n in form.kader_id.choices}:
            abort(404)
        data = {k: getattr(form, k).data for k in ("visited_on", "kader_id", "findings", "advice", "referred",
                                                    "referral_note", "follow_up_on")}
        data["task_key"] = task_key or None
        try:
            with unit_of_work():
                svc.record(current_user, person, data, form.idempotency_key.data)
        except month_lock.MonthClosed:
            form.visited_on.errors = [_("Laporan bulan itu sudah disetujui dan datanya dikunci. Pilih tanggal di "
                                        "bulan yang masih terbuka, atau minta kelurahan membuka kembali bulan itu.")]
        except svc.HomeVisitError as e:  # the rules the sync applies too (services.home_visits.check)
            _refused(form, e.code)
        else:
            flash(_("Kunjungan rumah dicatat."), "success")
            return redirect(url_for("home_visits.tasks", posyandu=person.posyandu_id), 303)
    status = 422 if request.method == "POST" else 200
    return render("home_visits/record.html", form=form, person=person, task_key=task_key,
                  task_label=TASKS.get(task_key.split(":", 1)[0]) if task_key else None, status=status,
                  today=date.today(), visible=_visible_mothers([person]))
