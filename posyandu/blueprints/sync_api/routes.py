"""Enrol, push, pull: thin JSON views over posyandu.sync; every refusal is JSON with a code."""
import gzip
import io
import json
from datetime import timedelta

from flask import current_app, g, jsonify, request

from ...database import unit_of_work
from ...extensions import db
from ...services import throttle
from ...sync import apply, devices, serve, tracking
from ...sync.protocol import HEADER, MAX_CHANGES, PROTOCOL, PULL_LIMIT, Refused, check_version
from ...web import int_arg
from . import bp

MAX_BODY = 8 * 1024 * 1024  # a push batch, unzipped
ENROL_RULE = throttle.Rule(free=5, base=30, cap=3600, window=3600)


@bp.errorhandler(Refused)
def _refused(e: Refused):
    db.session.rollback()
    return jsonify(e.body()), e.status


def body() -> dict:
    """The request's JSON object, gunzipped when the laptop compressed it."""
    raw = request.get_data(cache=False)
    if request.headers.get("Content-Encoding") == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
                raw = f.read(MAX_BODY + 1)
        except (OSError, EOFError):
            raise Refused(400, "bad_request", "body is not gzip") from None
    if len(raw) > MAX_BODY:
        raise Refused(413, "too_large", "split the push into smaller batches")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise Refused(400, "bad_request", "body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "bad_request", "body must be a JSON object")
    return data


@bp.before_request
def _version():
    """Every request names its protocol; an older laptop is told to update (426)."""
    check_version(request.headers.get(HEADER))


def device(seen_every=None):
    """The authenticated device of this request (its last contact recorded, on a read at most every
    `seen_every`)."""
    if "device" not in g:
        g.device = devices.authenticate(request.headers.get("Authorization"), seen_every or timedelta(0))
    return g.device


@bp.route("/enrol", methods=["POST"])
def enrol():
    """Exchange a one-time enrolment code for the device's credential and scope."""
    data = body()
    key = f"enrol:{request.remote_addr or ''}"
    verdict = throttle.attempt(key, ENROL_RULE)
    if not verdict.allowed:
        raise Refused(429, "too_many_attempts", "wait before trying another code", retry_after=verdict.retry_after)
    dev, credential = devices.enrol(str(data.get("code") or ""), str(data.get("label") or "")[:100])
    throttle.refund(key)  # a good code is not a guess: an office enrols all its laptops from one address
    scope = ({"kind": "posyandu", "id": dev.posyandu_id, "name": dev.posyandu.name} if dev.posyandu_id else
             {"kind": "kelurahan", "id": dev.kelurahan_id, "name": dev.kelurahan.name})
    answer = {"device": dev.uuid, "credential": credential, "name": dev.name, "scope": scope, "protocol": PROTOCOL}
    db.session.commit()
    current_app.logger.info("device %s enrolled", dev.uuid)
    return jsonify(answer), 201


@bp.route("/status")
def status():
    """Who the server thinks this device is (a cheap check that the credential and the protocol still work)."""
    dev = device(devices.SEEN_EVERY)
    answer = {"device": dev.uuid, "name": dev.name, "protocol": PROTOCOL}
    db.session.commit()
    return jsonify(answer)


def server_seq() -> int:
    return tracking.horizon(db.session)


@bp.route("/push", methods=["POST"])
def push():
    """Apply a batch of the laptop's changes; one answer per change (applied, duplicate, conflict, refused)."""
    dev = device()
    changes = body().get("changes")
    if not isinstance(changes, list):
        raise Refused(400, "bad_request", "changes must be a list")
    if len(changes) > MAX_CHANGES:
        raise Refused(413, "too_large", f"at most {MAX_CHANGES} changes in one push", max=MAX_CHANGES)
    with unit_of_work():
        answers = apply.apply_changes(dev, changes)
    answer = {"results": apply.with_sequence(answers), "seq": server_seq()}
    db.session.commit()
    return jsonify(answer)


@bp.route("/pull")
def pull():
    """The scope's records changed above the laptop's cursor (`since`), in server-sequence order."""
    dev = device(devices.SEEN_EVERY)  # a GET: no write on every page of every sync run
    since = int_arg("since", 0, 0, 2**62)
    limit = int_arg("limit", PULL_LIMIT, 1, PULL_LIMIT)
    answer = serve.pull(dev, since, limit, request.args.get("ref"))
    db.session.commit()  # the device's last contact, when it was older than SEEN_EVERY
    return jsonify(answer)
