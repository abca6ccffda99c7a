"""Replays (issue 10): one POST sent 50 times at once — a phone retrying on a bad connection, a double-tapping
clerk — has one effect and one audit row, and no copy of it ends in a server error.

Every copy is the same request of the same browser session (same cookie, same form, same idempotency key),
sent from its own thread after a barrier. On PostgreSQL the copies really run side by side (row locks, unique
keys, the paid-batch trigger); on SQLite the write lock takes them one at a time.
"""
import threading
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from posyandu.extensions import db
from posyandu.models import (AuditLog, Certificate, Commitment, HariBuka, HomeVisit, IncentiveBatch, IncentivePolicy,
                             Measurement, Person, Visit)
from posyandu.services import commitments

from . import incentive_factories, kader_factories

COPIES = 50


def replay(app, client, url, data, copies=COPIES) -> Counter:
    """POST `data` to `url` `copies` times at once from the client's browser session; the status codes."""
    client.token()
    cookie = client.c.get_cookie("session").value
    data = dict(data, csrf_token=client.token())
    db.session.commit()
    barrier = threading.Barrier(copies)
    statuses = []

    def send():
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        with app.app_context():
            barrier.wait()
            try:
                statuses.append(browser.post(url, data=data).status_code)
            except Exception:  # the test app propagates what would be a 500 in production
                statuses.append(500)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    return Counter(statuses)


def audit_rows(entity: str, entity_id: int | None = None, action: str | None = None, after: int = 0) -> int:
    q = select(func.count()).select_from(AuditLog).where(AuditLog.entity == entity, AuditLog.id > after)
    if entity_id is not None:
        q = q.where(AuditLog.entity_id == entity_id)
    if action is not None:
        q = q.where(AuditLog.action == action)
    return db.session.scalar(q)


def last_audit() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def no_5xx(statuses: Counter):
    assert not [s for s in statuses if s >= 500], statuses
    assert sum(statuses.values()) == COPIES


def test_replayed_creates_make_one_record(app, tree, login):
    ketua = login("ketua_a1")
    mark = last_audit()
    person = {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi Ulang", "sex": "L",
              "birth_date": date.today().isoformat(), "idempotency_key": "replay-person-0001"}
    no_5xx(replay(app, ketua, "/sasaran/baru", person))
    assert count(Person, Person.name == "Bayi Ulang") == 1
    assert audit_rows("person", action="create", after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, ketua, "/hari-buka/buka", {"posyandu_id": tree.posyandu["A1"].id,
                                                   "held_on": date.today().isoformat()}))
    hb = db.session.scalar(select(HariBuka).where(HariBuka.posyandu_id == tree.posyandu["A1"].id,
                                                  HariBuka.held_on == date.today()))
    assert hb is not None and audit_rows("hari_buka", hb.id, "create", after=mark) == 1

    mother = tree.people["mother_A1"]
    mark = last_audit()
    no_5xx(replay(app, ketua, f"/hari-buka/{hb.id}/antri", {"person_id": mother.id}))
    assert count(Visit, Visit.hari_buka_id == hb.id, Visit.person_id == mother.id) == 1
    assert audit_rows("visit", action="create", after=mark) == 1

    mark = last_audit()
    child = tree.people["child_A1"]
    no_5xx(replay(app, ketua, f"/kunjungan-rumah/catat/{child.id}",
                  {"visited_on": date.today().isoformat(), "findings": "Sehat",
                   "idempotency_key": "replay-visit-0001"}))
    assert count(HomeVisit, HomeVisit.person_id == child.id) == 1
    assert audit_rows("home_visit", action="create", after=mark) == 1


def test_replayed_meja_2_save_keeps_one_measurement(app, tree, login):
    hb = tree.sessions["A1"]
    visit = hb.visits[0]
    mark = last_audit()
    no_5xx(replay(app, login("kader_a1"), f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2",
                  {"weight_kg": "9,1", "length_cm": "76", "position": "l"}))
    assert count(Measurement, Measurement.visit_id == visit.id) == 1
    assert audit_rows("measurement", after=mark) == 1  # the same values again change nothing


def test_replayed_incentive_steps_happen_once(app, tree, login):
    incentive_factories.kader_factories.kader_of(tree, "A1")
    incentive_factories.policy_of(tree, "A1")
    clerk, admin = login("clerk_a"), login("admin_d")
    month = incentive_factories.last_month()
    mark = last_audit()
    no_5xx(replay(app, clerk, "/insentif/hitung", {"kelurahan_id": tree.kelurahan["A"].id,
                                                   "month": month.strftime("%Y-%m"),
                                                   "idempotency_key": "replay-batch-0001"}))
    batch = db.session.scalar(select(IncentiveBatch).where(IncentiveBatch.kelurahan_id == tree.kelurahan["A"].id))
    assert count(IncentiveBatch, IncentiveBatch.kelurahan_id == tree.kelurahan["A"].id) == 1
    assert audit_rows("incentive_batch", batch.id, "create", after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, clerk, f"/insentif/{batch.id}/hitung-ulang", {}))
    assert count(IncentiveBatch) == 1

    mark = last_audit()
    no_5xx(replay(app, admin, f"/insentif/{batch.id}/setujui", {}))
    db.session.refresh(batch)
    assert batch.status == "approved"
    assert audit_rows("incentive_batch", batch.id, after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, clerk, f"/insentif/{batch.id}/bayar", {"paid_on": date.today().isoformat(),
                                                              "reference": "SP2D-1"}))
    db.session.refresh(batch)
    assert batch.status == "paid" and audit_rows("incentive_batch", batch.id, after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, admin, "/insentif/kebijakan", {
        "valid_from": "2026-01", "amount": "Rp1.000.000", "funding_source": "APBD", "pph21": "2,5",
        "bpjs_amount": "16.800", "min_home_visits": "0", "attendance_cut_kind": "percent",
        "attendance_cut_value": "0", "commitment_cut_kind": "amount", "commitment_cut_value": "0",
        "home_visits_cut_kind": "percent", "home_visits_cut_value": "0", "idempotency_key": "replay-policy-0001"}))
    assert count(IncentivePolicy, IncentivePolicy.valid_from == date(2026, 1, 1)) == 1
    assert audit_rows("incentive_policy", action="create", after=mark) == 1


def test_replayed_signatures_and_certificates_happen_once(app, tree, login):
    kader = kader_factories.with_pin(kader_factories.kader_of(tree, "A1"))
    template = commitments.ensure_template(tree.users["admin_d"], tree.districts["D"].id, date.today().year)
    ketua, clerk = login("ketua_a1"), login("clerk_a")
    mark = last_audit()
    statuses = replay(app, ketua, f"/kader/{kader.id}/komitmen", {  # on the Posyandu laptop, with her PIN
        "posyandu_id": tree.posyandu["A1"].id, "agree": "y", "text_sha256": template.body_sha256,
        "signature": kader_factories.STROKES, "pin": kader_factories.PIN, "idempotency_key": "replay-sign-0001"})
    no_5xx(statuses)
    # Exactly one signature. Once 1 run in 10 on PostgreSQL signed none: the PIN count committed mid-request, the
    # copies deadlocked (kader row against counter row) and the retried victims were throttled (all 429).
    assert count(Commitment, Commitment.kader_id == kader.id) == 1, statuses
    c = db.session.scalar(select(Commitment).where(Commitment.kader_id == kader.id))
    assert audit_rows("commitment", c.id, "create", after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, clerk, f"/kader/komitmen/{c.id}/ketahui", {  # the kelurahan enters the lurah's name
        "name": "Andi Baso", "title": "Lurah Kelurahan A", "signature": kader_factories.STROKES}))
    db.session.refresh(c)
    assert c.countersigned_at is not None and audit_rows("commitment", c.id, after=mark) == 1

    mark = last_audit()
    no_5xx(replay(app, clerk, f"/kader/{kader.id}/sertifikat", {
        "type_code": "piagam", "issued_on": date.today().isoformat(), "issuer_name": "dr. Kepala",
        "issuer_title": "Kepala Dinas", "idempotency_key": "replay-cert-0001"}))
    assert count(Certificate, Certificate.kader_id == kader.id) == 1
    assert audit_rows("certificate", action="create", after=mark) == 1
