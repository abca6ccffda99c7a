"""A background job's page: its progress (htmx polls a small fragment; without JavaScript the page reloads
itself) and, when done, its file. Only the user who started a job sees it; anyone else gets 404."""
from flask import abort, send_file
from flask_login import current_user, login_required

from ...services import jobs
from ...web import render
from . import bp

POLL_SECONDS = 1


@bp.before_request
@login_required
def _login():
    """Every job page needs a login."""


def _job(token: str):
    job = jobs.of_owner(current_user, token)
    if job is None:
        abort(404)
    return job


@bp.route("/<token>")
def show(token: str):
    """A job's page: what it makes, how far it is, the download when done."""
    job = _job(token)
    resp = render("jobs/show.html", "jobs/_status.html", job=job, poll=POLL_SECONDS)
    return resp


@bp.route("/<token>/unduh")
def download(token: str):
    """The file a finished job made (its owner only, until it expires)."""
    job = _job(token)
    path = jobs.file_path(job)
    if job.status != "done" or not path.exists():
        abort(404)
    return send_file(path, mimetype=job.mimetype, as_attachment=True, download_name=job.file_name,
                     max_age=0, conditional=False)
