"""Laptops of a district: registering one (page and CLI), enrolling it for a credential, refusing it when revoked,
out of scope or speaking an older protocol (docs/sync.md)."""
import re

from posyandu.extensions import db
from posyandu.models import Device
from posyandu.sync import devices
from tests.sync_helpers import api, enrolled


def test_admin_registers_a_laptop_and_sees_its_code_once(app, tree, login):
    admin = login("admin_d")
    page = admin.get("/perangkat/")
    assert page.status_code == 200 and "Daftarkan laptop" in page.get_data(as_text=True)
    resp = admin.post("/perangkat/", {"name": "Laptop Mawar", "posyandu_id": tree.posyandu["A1"].id,
                                      "kelurahan_id": 0})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    code = re.search(r"<strong>([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2})</strong>", html).group(1)
    device = db.session.query(Device).one()
    assert device.name == "Laptop Mawar" and device.posyandu_id == tree.posyandu["A1"].id
    assert device.code_hash and code.replace("-", "") not in device.code_hash  # only its hash is kept
    again = admin.get("/perangkat/").get_data(as_text=True)
    assert "Laptop Mawar" in again and code not in again  # the code is shown once


def test_a_laptop_has_exactly_one_scope(app, tree, login):
    admin = login("admin_d")
    resp = admin.post("/perangkat/", {"name": "Laptop", "posyandu_id": tree.posyandu["A1"].id,
                                      "kelurahan_id": tree.kelurahan["A"].id})
    assert resp.status_code == 422 and db.session.query(Device).count() == 0
    resp = admin.post("/perangkat/", {"name": "Laptop", "posyandu_id": 0, "kelurahan_id": tree.kelurahan["A"].id})
    assert resp.status_code == 200 and db.session.query(Device).one().kelurahan_id == tree.kelurahan["A"].id


def test_only_district_admins_manage_laptops(app, tree, login):
    assert login("ketua_a1").get("/perangkat/").status_code == 403
    dev, _ = devices.register(None, "Laptop", tree.posyandu["A1"].id)
    db.session.commit()
    other = login("admin_e")  # another district's admin cannot revoke it
    assert other.post(f"/perangkat/{dev.id}/cabut").status_code == 404
    assert db.session.get(Device, dev.id).revoked_at is None


def test_enrol_gives_a_credential_once_and_the_code_is_burnt(app, tree):
    dev, code = devices.register(None, "Laptop A1", tree.posyandu["A1"].id)
    db.session.commit()
    status, body = api(app, "POST", "/enrol", {"code": code.lower().replace("-", " "), "label": "laptop-01"})
    assert status == 201 and body["device"] == dev.uuid and body["scope"]["id"] == tree.posyandu["A1"].id
    assert api(app, "GET", "/status", credential=body["credential"]) == (
        200, {"device": dev.uuid, "name": "Laptop A1", "protocol": 1})
    assert api(app, "POST", "/enrol", {"code": code})[1]["error"] == "code_invalid"
    db.session.refresh(dev)
    assert dev.last_seen_at is not None and dev.label == "laptop-01"


def test_refusals_carry_a_code(app, tree, login):
    device_uuid, credential = enrolled(app, tree.posyandu["A1"].id)
    assert api(app, "GET", "/status")[0:2] == (401, {"error": "no_credential",
                                                     "message": "Authorization: Device <uuid>:<token> expected"})
    assert api(app, "GET", "/status", credential=device_uuid + ":wrong")[1]["error"] == "bad_credential"
    status, body = api(app, "GET", "/status", credential=credential, protocol=0)
    assert status == 426 and body["error"] == "protocol_outdated" and body["min"] == 1
    assert api(app, "GET", "/status", credential=credential, protocol=None)[1]["error"] == "protocol_unknown"
    tree.posyandu["A1"].active = False
    db.session.commit()
    assert api(app, "GET", "/status", credential=credential) [0:2] == (
        403, {"error": "out_of_scope", "message": "the device's Posyandu is not active"})
    tree.posyandu["A1"].active = True
    db.session.commit()
    admin = login("admin_d")
    dev = db.session.query(Device).one()
    assert admin.post(f"/perangkat/{dev.id}/cabut").status_code == 303
    status, body = api(app, "GET", "/status", credential=credential)
    assert status == 401 and body["error"] == "device_revoked"
    assert "dicabut" in admin.get("/perangkat/").get_data(as_text=True)


def test_cli_device_add_prints_the_code_last(app, tree):
    result = app.test_cli_runner().invoke(args=["device", "add", "--posyandu", str(tree.posyandu["A2"].id),
                                                "--name", "Laptop A2"])
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2}", code)
    assert api(app, "POST", "/enrol", {"code": code}, gz=True)[0] == 201
    bad = app.test_cli_runner().invoke(args=["device", "add", "--name", "x"])
    assert bad.exit_code != 0


def test_credential_file_is_private(tmp_path):
    from posyandu.sync.client import load_credential, save_credential

    path = save_credential(str(tmp_path / "sync.json"), {"url": "http://x", "credential": "a:b"})
    assert path.stat().st_mode & 0o777 == 0o600 and load_credential(str(path))["credential"] == "a:b"


def test_a_pull_writes_the_last_contact_only_when_it_is_stale(app, tree):
    from datetime import timedelta

    from sqlalchemy import event, select

    from posyandu.models import AuditLog
    from posyandu.models.base import utcnow

    dev_uuid, cred = enrolled(app, tree.posyandu["A1"].id)
    assert api(app, "GET", "/pull?since=0", credential=cred)[0] == 200
    writes = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE DEVICE"):
            writes.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(3):  # the pages of one sync run, and a status check
            assert api(app, "GET", "/pull?since=0", credential=cred)[0] == 200
        assert api(app, "GET", "/status", credential=cred)[0] == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert writes == []
    device = db.session.query(Device).filter_by(uuid=dev_uuid).one()
    device.last_seen_at = utcnow() - timedelta(minutes=30)  # a laptop back after half an hour
    db.session.commit()
    assert api(app, "GET", "/pull?since=0", credential=cred)[0] == 200
    db.session.refresh(device)
    assert utcnow() - device.last_seen_at < timedelta(minutes=1)  # the devices page shows the new contact
    assert not [a for a in db.session.scalars(select(AuditLog).where(AuditLog.entity == "device"))
                if "last_seen_at" in a.changes]  # a contact is not an audited change of the device


def test_an_office_enrols_many_laptops_from_one_address_but_guesses_are_throttled(app, tree):
    for i in range(8):  # more than the free attempts: good codes are not guesses
        enrolled(app, tree.posyandu["A1"].id, f"Laptop {i}")
    statuses = [api(app, "POST", "/enrol", {"code": "WRONG-CODE-XX", "label": "x"})[0] for _ in range(7)]
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429
