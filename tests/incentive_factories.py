"""Builders for the incentive tests: a district policy and a computed batch per kelurahan of the tree.

Made on first use and kept on the tree, so the IDOR enumeration in test_scope can name them by Posyandu key."""
from datetime import date

from posyandu.database import unit_of_work
from posyandu.domain.incentives import month_start
from posyandu.extensions import db
from posyandu.models import IncentiveBatch
from posyandu.services import incentives, months

from . import kader_factories

CUTS = {
    "attendance_required": True, "attendance_cut_kind": "percent", "attendance_cut_value": 5000,
    "attendance_cut_reason": "Tidak hadir pada hari buka bulan ini",
    "commitment_required": True, "commitment_cut_kind": "amount", "commitment_cut_value": 100_000,
    "commitment_cut_reason": "Belum menandatangani komitmen kinerja tahun ini",
    "home_visits_required": False, "home_visits_cut_kind": "percent", "home_visits_cut_value": 0,
    "home_visits_cut_reason": None,
}


def policy_data(valid_from=date(2024, 1, 1), amount=300_000, **kw) -> dict:
    d = {"valid_from": valid_from, "amount": amount, "funding_source": "APBD", "pph21_bp": 250,
         "bpjs_deduction": False, "bpjs_amount": 16_800, "pay_per_role": False, "min_home_visits": 0,
         "legal_basis": None, **{k: v for k, v in CUTS.items() if not k.endswith("_required")},
         "attendance_required": False, "commitment_required": False, "home_visits_required": False}
    d.update(kw)
    return d


def last_month() -> date:
    first = month_start(date.today())
    return month_start(date.fromordinal(first.toordinal() - 1))


def admin_of(t, key):
    district_id = t.posyandu[key].kelurahan.kecamatan.district_id
    return next(u for u in t.users.values() if u.district_id == district_id and u.role == "district_admin")


def approve_month(t, key: str, month: date) -> None:
    """Posyandu `key`'s month goes open → submitted → (verified →) approved, the district admin acting at every level
    (an earlier month still open is closed first). A batch pays only from approved months (issue 13), so a test that
    expects money closes the months it pays from — after recording what the month holds: approval freezes it."""
    pos, admin, month = t.posyandu[key], admin_of(t, key), month_start(month)
    state = months.state_of(pos.id, month)
    if state == "approved":
        return
    if state == "open":
        if months.previous_open(pos.id, month):
            approve_month(t, key, month_start(date.fromordinal(month.toordinal() - 1)))
        months.submit(admin, pos, month)
    if months.state_of(pos.id, month) == "submitted" and months.settings_of(pos).verify:
        months.verify(admin, pos, month)
    months.approve(admin, pos, month)
    db.session.commit()


def close_months(t, month: date, *keys: str) -> None:
    """Approve the month of each Posyandu named (all of the tree when none is)."""
    for key in keys or tuple(t.posyandu):
        approve_month(t, key, month)


def reopen_month(t, key: str, month: date, reason: str = "Koreksi data") -> None:
    """Reopen an approved month (the district admin, with a reason) so its records may change again."""
    months.reopen(admin_of(t, key), t.posyandu[key], month_start(month), reason)
    db.session.commit()


def _cache(t) -> dict:
    if not hasattr(t, "incentive_objs"):
        t.incentive_objs = {}
    return t.incentive_objs


def policy_of(t, key: str):
    """The district's policy (Rp300.000 from January 2024) of Posyandu `key`."""
    admin = admin_of(t, key)
    cache = _cache(t)
    if ("policy", admin.district_id) not in cache:
        with unit_of_work():
            cache[("policy", admin.district_id)] = incentives.save_policy(admin, policy_data())
    return cache[("policy", admin.district_id)]


def batch_of(t, key: str):
    """Last month's draft batch of the kelurahan of Posyandu `key` (its kader included)."""
    cache = _cache(t)
    kel = t.posyandu[key].kelurahan
    batch = db.session.get(IncentiveBatch, cache[("batch", kel.id)]) if ("batch", kel.id) in cache else None
    if batch is None:  # first use, or a route under test threw the draft away
        kader_factories.kader_of(t, key)
        policy_of(t, key)
        with unit_of_work():
            batch = incentives.compute(admin_of(t, key), kel, last_month())
        cache[("batch", kel.id)] = batch.id
    return batch
