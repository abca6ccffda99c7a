"""Incentive batches on the database: policy change at a month boundary, proration and withholding with reasons from
real attendance and commitments, one payment per person, the lock of a paid batch (service, ORM and database
triggers), corrections as adjusting batches, four-eyes approval, idempotency, audit, totals."""
from datetime import date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from posyandu.database import unit_of_work
from posyandu.extensions import db
from posyandu.models import (AuditLog, Commitment, Duty, HariBuka, IncentiveBatch, IncentiveLine, Kader, KaderRole,
                             LockedBatch)
from posyandu.services import incentives as svc

from .incentive_factories import approve_month, close_months, policy_data, reopen_month

OCT, NOV = date(2025, 10, 1), date(2025, 11, 1)


def kader(t, name, roles, **kw):
    """roles: [(posyandu key, role, start, end)]"""
    k = Kader(name=name, sex="P", **kw)
    for key, role, start, end in roles:
        k.roles.append(KaderRole(posyandu_id=t.posyandu[key].id, role=role, start_date=start, end_date=end))
    db.session.add(k)
    db.session.commit()
    return k


def hari_buka(t, key, on, present=(), absent=()):
    hb = HariBuka(posyandu_id=t.posyandu[key].id, held_on=on, closed_at=datetime(on.year, on.month, on.day, 12))
    for k in present:
        hb.duties.append(Duty(kader_id=k.id, present=True))
    for k in absent:
        hb.duties.append(Duty(kader_id=k.id, present=False))
    db.session.add(hb)
    db.session.commit()
    return hb


def sign(k, t, key, year=2025):
    db.session.add(Commitment(kader_id=k.id, posyandu_id=t.posyandu[key].id, template_id=_template(t).id, year=year,
                              title="Komitmen", text="x", text_sha256="0" * 64, signer_name=k.name,
                              signature_kind="typed", signature=k.name, signed_at=datetime(year, 1, 10, 9)))
    db.session.commit()


def _template(t):
    from posyandu.services import commitments

    return commitments.ensure_template(t.users["admin_d"], t.districts["D"].id, 2025)


def bontang(t):
    admin = t.users["admin_d"]
    old = svc.save_policy(admin, policy_data(date(2024, 1, 1), 300_000))
    new = svc.save_policy(admin, policy_data(
        date(2025, 11, 1), 1_000_000, bpjs_deduction=True, attendance_required=True, commitment_required=True,
        legal_basis="Perwali Bontang (contoh)"))
    return old, new


def line_of(batch, k) -> IncentiveLine:
    return next(ln for ln in batch.lines if ln.kader_id == k.id)


@pytest.fixture
def people(tree):
    t = tree
    early = date(2024, 1, 1)
    ppl = {
        "full": kader(t, "Siti Full", [("A1", "kader", early, None)], bpjs_tk_number="23001", nik="6474014506800001",
                      bank_name="Bankaltimtara", bank_account="0011223344", bank_account_holder="Siti Full"),
        "double": kader(t, "Ni Luh Putu \u0100yu", [("A1", "kader", early, None), ("A1", "bendahara", early, None),
                                                    ("A2", "kader", date(2025, 3, 1), None)]),
        "cross": kader(t, "Dewi Dua Kelurahan", [("A2", "kader", early, None), ("B1", "kader", date(2025, 6, 1), None)]),
        "joined": kader(t, "Rina Baru", [("A2", "kader", date(2025, 11, 20), None)]),
        "left": kader(t, "Ayu Pindah", [("A1", "kader", early, date(2025, 11, 10))]),
        "absent": kader(t, "Wulan Absen", [("A1", "kader", early, None)]),
    }
    hari_buka(t, "A1", date(2025, 11, 10), present=[ppl["full"], ppl["double"], ppl["left"]], absent=[ppl["absent"]])
    hari_buka(t, "A2", date(2025, 11, 12), present=[ppl["cross"], ppl["joined"]])
    for key in ("full", "double", "cross", "left", "absent"):
        sign(ppl[key], t, "A1")
    close_months(t, NOV, "A1", "A2", "B1", "B2")  # a batch pays from approved months only (issue 13)
    return ppl


def test_policy_change_at_the_month_boundary_and_kukar_is_separate(app, tree, people):
    old, new = bontang(tree)
    kukar = svc.save_policy(tree.users["admin_e"], policy_data(date(2025, 1, 1), 250_000, funding_source="APBDes"))
    assert svc.policy_in_force(tree.districts["D"].id, date(2025, 10, 31)).id == old.id
    assert svc.policy_in_force(tree.districts["D"].id, NOV).id == new.id
    assert svc.policy_in_force(tree.districts["E"].id, NOV).id == kukar.id
    clerk = tree.users["clerk_a"]
    close_months(tree, OCT, "A1", "A2", "B1")
    oct_ = svc.compute(clerk, tree.kelurahan["A"], OCT)
    nov = svc.compute(clerk, tree.kelurahan["A"], NOV)
    assert oct_.policy_id == old.id and nov.policy_id == new.id
    assert line_of(oct_, people["full"]).gross == 300_000
    assert line_of(nov, people["full"]).gross == 1_000_000
    kader(tree, "Kader Kukar", [("C1", "kader", date(2024, 1, 1), None)])
    approve_month(tree, "C1", NOV)
    kb = svc.compute(tree.users["admin_e"], tree.kelurahan["C"], NOV)
    assert [ln.gross for ln in kb.lines] == [250_000]


def test_proration_withholding_bpjs_and_reasons_from_real_records(app, tree, people):
    bontang(tree)
    nov = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    full = line_of(nov, people["full"])
    assert (full.gross, full.pph21, full.bpjs, full.net) == (1_000_000, 25_000, 16_800, 958_200)
    joined = line_of(nov, people["joined"])  # 20–30 November, attended, no commitment
    assert (joined.days_served, joined.prorated) == (11, 366_666)
    assert joined.reductions == [{"code": "commitment", "amount": 100_000,
                                  "reason": "Belum menandatangani komitmen kinerja tahun ini"}]
    assert joined.gross == 266_666 and joined.pph21 == 6_666 and joined.net == 260_000
    left = line_of(nov, people["left"])
    assert (left.days_served, left.prorated, left.gross) == (10, 333_333, 333_333)
    absent = line_of(nov, people["absent"])
    assert absent.reductions[0]["reason"] == "Tidak hadir pada hari buka bulan ini"
    assert absent.gross == 500_000 and absent.net == 487_500
    assert any("Kunjungan rumah" not in n for n in absent.notes) or absent.notes == []


def test_a_person_with_several_roles_in_one_or_two_kelurahan_is_paid_once(app, tree, people):
    bontang(tree)
    a = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    b = svc.compute(tree.users["admin_d"], tree.kelurahan["B"], NOV)
    double = [ln for ln in a.lines if ln.kader_id == people["double"].id]
    assert len(double) == 1 and double[0].gross == 1_000_000 and double[0].units == 1
    assert "Bendahara" in double[0].roles_text and "Memegang 3 peran; dibayar satu kali." in double[0].notes
    # Her home role (the earliest) is in kelurahan A, so B does not pay her.
    assert people["cross"].id in {ln.kader_id for ln in a.lines}
    assert people["cross"].id not in {ln.kader_id for ln in b.lines}
    # And the database refuses a second regular line for the same person and month, whatever the code does.
    db.session.add(IncentiveLine(batch_id=b.id, kader_id=people["cross"].id, regular_month=NOV, name="x",
                                 days_served=30, days_in_month=30, base=1, prorated=1, gross=1, pph21=0, net=1))
    with pytest.raises(Exception):
        db.session.commit()
    db.session.rollback()


def test_totals_equal_the_sum_of_lines(app, tree, people):
    bontang(tree)
    nov = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    svc.adjust_line(tree.users["clerk_a"], line_of(nov, people["absent"]), 250_000, "Hadir di posbindu pengganti")
    t = svc.batch_totals(nov)
    for key in ("gross", "pph21", "bpjs", "net", "adjustment"):
        assert t[key] == sum(getattr(ln, key) for ln in nov.lines)
    assert t["net"] == t["gross"] - t["pph21"] - t["bpjs"]
    assert t["adjustment"] == 250_000


def test_adjust_approve_pay_lock_and_audit(app, tree, people):
    bontang(tree)
    clerk, admin = tree.users["clerk_a"], tree.users["admin_d"]
    nov = svc.compute(clerk, tree.kelurahan["A"], NOV)
    line = line_of(nov, people["absent"])
    with pytest.raises(svc.IncentiveError, match="reason"):
        svc.adjust_line(clerk, line, 100_000, "")
    svc.adjust_line(clerk, line, 100_000, "Surat izin dari ketua")
    assert (line.gross, line.adjustment_reason) == (600_000, "Surat izin dari ketua")
    with pytest.raises(svc.IncentiveError, match="role"):
        svc.approve(clerk, nov)
    svc.approve(admin, nov)
    with pytest.raises(svc.IncentiveError, match="state"):
        svc.adjust_line(clerk, line, 0, "")
    svc.mark_paid(clerk, nov, date(2025, 12, 5), "SP2D 900/123")
    assert nov.status == "paid"
    entities = {(a.entity, a.action) for a in db.session.scalars(select(AuditLog))}
    assert {("incentive_batch", "create"), ("incentive_batch", "update"), ("incentive_line", "create"),
            ("incentive_line", "update"), ("incentive_policy", "create")} <= entities


def test_the_preparer_cannot_approve_her_own_batch(app, tree, people):
    bontang(tree)
    admin = tree.users["admin_d"]
    nov = svc.compute(admin, tree.kelurahan["A"], NOV)
    with pytest.raises(svc.IncentiveError, match="same_person"):
        svc.approve(admin, nov)


def _paid(tree):
    bontang(tree)
    with unit_of_work():  # the services flush; the caller commits
        nov = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
        svc.approve(tree.users["admin_d"], nov)
        svc.mark_paid(tree.users["clerk_a"], nov, date(2025, 12, 5), "TRF-1")
    return nov


def test_a_paid_batch_refuses_every_change_in_the_service(app, tree, people):
    nov = _paid(tree)
    clerk, admin = tree.users["clerk_a"], tree.users["admin_d"]
    for call in (lambda: svc.adjust_line(clerk, nov.lines[0], 1_000, "x"), lambda: svc.recompute(clerk, nov),
                 lambda: svc.approve(admin, nov), lambda: svc.reopen(admin, nov),
                 lambda: svc.mark_paid(clerk, nov, date(2025, 12, 6), "again"), lambda: svc.delete_draft(clerk, nov)):
        with pytest.raises(svc.IncentiveError, match="state"):
            call()


def test_a_paid_batch_refuses_every_change_in_the_orm(app, tree, people):
    nov = _paid(tree)
    batch_id, line_id = nov.id, nov.lines[0].id
    for change in (lambda b, ln: setattr(b, "payment_reference", "changed"), lambda b, ln: setattr(ln, "net", 1),
                   lambda b, ln: db.session.delete(ln), lambda b, ln: setattr(b, "status", "draft")):
        b, ln = db.session.get(IncentiveBatch, batch_id), db.session.get(IncentiveLine, line_id)
        change(b, ln)
        with pytest.raises(LockedBatch):
            db.session.commit()
        db.session.rollback()
    b = db.session.get(IncentiveBatch, batch_id)
    db.session.add(IncentiveLine(batch_id=b.id, kader_id=b.lines[0].kader_id, name="x", days_served=1,
                                 days_in_month=30, base=1, prorated=1, gross=1, pph21=0, net=1))
    with pytest.raises(LockedBatch):
        db.session.commit()
    db.session.rollback()


def test_a_paid_batch_refuses_every_change_in_the_database(app, tree, people):
    nov = _paid(tree)
    batch_id, line_id, kid = nov.id, nov.lines[0].id, nov.lines[0].kader_id
    db.session.commit()
    for sql in (f"UPDATE incentive_batch SET status = 'draft' WHERE id = {batch_id}",
                f"UPDATE incentive_batch SET payment_reference = 'x' WHERE id = {batch_id}",
                f"DELETE FROM incentive_batch WHERE id = {batch_id}",
                f"UPDATE incentive_line SET net = 1 WHERE id = {line_id}",
                f"DELETE FROM incentive_line WHERE id = {line_id}",
                "INSERT INTO incentive_line (uuid, created_at, updated_at, batch_id, kader_id, position, name, "
                "roles_text, posyandu_name, units, days_served, days_in_month, base, prorated, reductions, "
                "reductions_total, adjustment, gross, pph21, bpjs_due, bpjs, net, notes) VALUES ('u-1', "
                f"'2025-12-01', '2025-12-01', {batch_id}, {kid}, 99, 'x', '', '', 1, 1, 30, 1, 1, '[]', 0, 0, 1, 0, "
                "0, 0, 1, '[]')"):
        with pytest.raises(DBAPIError, match="paid and locked"):
            with db.engine.begin() as conn:
                conn.execute(text(sql))
    assert db.session.get(IncentiveBatch, batch_id).status == "paid"


def test_a_correction_is_a_new_adjusting_batch_with_the_differences(app, tree, people):
    nov = _paid(tree)
    clerk = tree.users["clerk_a"]
    with pytest.raises(svc.IncentiveError, match="no_difference"):
        svc.correct(clerk, nov)
    # Attendance of the absent kader was recorded late: she did come. The month is closed, so it is reopened,
    # corrected and approved again (issue 13); the paid batch is corrected from the new snapshot.
    reopen_month(tree, "A1", NOV, "Kehadiran Wulan tercatat terlambat")
    duty = db.session.scalar(select(Duty).where(Duty.kader_id == people["absent"].id))
    duty.present = True
    db.session.commit()
    approve_month(tree, "A1", NOV)
    fix = svc.correct(clerk, nov, key="k-fix")
    assert svc.correct(clerk, nov, key="k-fix").id == fix.id  # double click
    assert (fix.sequence, fix.corrects_id, fix.status) == (1, nov.id, "draft")
    assert [(ln.kader_id, ln.gross, ln.pph21, ln.net) for ln in fix.lines] == [
        (people["absent"].id, 500_000, 12_500, 487_500)]
    assert fix.lines[0].regular_month is None
    assert svc.correct(clerk, nov).id == fix.id  # an open correction is not doubled


def test_compute_is_idempotent_and_one_regular_batch_per_month(app, tree, people):
    bontang(tree)
    clerk = tree.users["clerk_a"]
    first = svc.compute(clerk, tree.kelurahan["A"], NOV, key="same-key")
    assert svc.compute(clerk, tree.kelurahan["A"], NOV, key="same-key").id == first.id
    assert svc.compute(clerk, tree.kelurahan["A"], date(2025, 11, 17), key="other").id == first.id
    assert db.session.scalar(select(db.func.count()).select_from(IncentiveBatch)) == 1


def test_recompute_keeps_adjustments_and_follows_new_records(app, tree, people):
    bontang(tree)
    clerk = tree.users["clerk_a"]
    nov = svc.compute(clerk, tree.kelurahan["A"], NOV)
    svc.adjust_line(clerk, line_of(nov, people["full"]), -50_000, "Terlambat laporan")
    sign(people["joined"], tree, "A2")
    svc.recompute(clerk, nov)
    # The batch reads the approved month's snapshot: a commitment signed afterwards counts once the month is
    # reopened and approved again.
    assert line_of(nov, people["joined"]).reductions[0]["code"] == "commitment"
    reopen_month(tree, "A2", NOV, "Komitmen Rina ditandatangani")
    approve_month(tree, "A2", NOV)
    svc.recompute(clerk, nov)
    assert line_of(nov, people["full"]).gross == 950_000
    assert line_of(nov, people["joined"]).reductions == []


def test_home_visits_rule_takes_a_counter_function(app, tree, people):
    admin = tree.users["admin_d"]
    svc.save_policy(admin, policy_data(date(2025, 11, 1), 1_000_000, home_visits_required=True, min_home_visits=4,
                                       home_visits_cut_kind="percent", home_visits_cut_value=2500,
                                       home_visits_cut_reason="Kunjungan rumah kurang dari 4"))
    counts = {people["full"].id: 5}
    nov = svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV,
                      home_visits=lambda kid, month: counts.get(kid, 1))
    assert line_of(nov, people["full"]).gross == 1_000_000
    assert line_of(nov, people["absent"]).reductions == [
        {"code": "home_visits", "amount": 250_000, "reason": "Kunjungan rumah kurang dari 4"}]


def test_a_policy_used_by_a_batch_is_history(app, tree, people):
    old, new = bontang(tree)
    svc.compute(tree.users["clerk_a"], tree.kelurahan["A"], NOV)
    with pytest.raises(svc.IncentiveError, match="in_use"):
        svc.save_policy(tree.users["admin_d"], policy_data(date(2025, 11, 1), 900_000), new)
    with pytest.raises(svc.IncentiveError, match="same_month"):
        svc.save_policy(tree.users["admin_d"], policy_data(date(2025, 11, 15), 900_000))
    assert [p.valid_from for p in svc.policies(tree.districts["D"].id)] == [NOV, date(2024, 1, 1)]
