"""Helpers for the sync tests: JSON calls to /sync/v1 through the test client, as a laptop makes them."""
import gzip
import json

from posyandu.extensions import db
from posyandu.sync.protocol import HEADER, PROTOCOL


def api(app, method, path, payload=None, credential=None, protocol=PROTOCOL, gz=False):
    """(status, json) of one sync request, in its own app context like a real request."""
    headers = {}
    if protocol is not None:
        headers[HEADER] = str(protocol)
    if credential:
        headers["Authorization"] = f"Device {credential}"
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        if gz:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = "application/json"
    db.session.commit()
    with app.app_context():
        resp = app.test_client().open("/sync/v1" + path, method=method, data=data, headers=headers)
    db.session.commit()
    return resp.status_code, resp.get_json(silent=True)


def enrolled(app, posyandu_id, name="Laptop A1"):
    """A device registered for the Posyandu and enrolled: (device uuid, credential)."""
    from posyandu.sync import devices

    dev, code = devices.register(None, name, posyandu_id)
    db.session.commit()
    status, body = api(app, "POST", "/enrol", {"code": code, "label": "test"})
    assert status == 201, body
    return body["device"], body["credential"]


def on(app, fn):
    """fn() run in the app (a laptop's or the district's) with its own session, committed; its result."""
    with app.app_context():
        try:
            out = fn()
            db.session.commit()
            return out
        finally:
            db.session.remove()
            db.engine.dispose()  # no file or socket left open between the apps of one test
