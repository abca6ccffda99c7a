"""Demo incentive policies for Kota Bontang: Rp300.000 a month until October 2025, Rp1.000.000 from November 2025
(DESIGN §3), the later one with the performance conditions and the BPJS Ketenagakerjaan deduction. No batch is
seeded: the clerk computes one (and the page budget crawl stays on HTML pages)."""
from datetime import date

from sqlalchemy import select

from .extensions import db
from .models import User
from .services import incentives

_NONE = {f"{c}_{k}": v for c in ("attendance", "commitment", "home_visits")
         for k, v in (("required", False), ("cut_kind", "percent"), ("cut_value", 0), ("cut_reason", None))}


def seed_incentive_policies(district_id: int) -> dict:
    """The district's two policies, saved through the service (audited like any admin's)."""
    admin = db.session.scalar(select(User).where(User.district_id == district_id, User.role == "district_admin"))
    base = {"funding_source": "APBD", "pph21_bp": 250, "bpjs_amount": 16_800, "pay_per_role": False,
            "min_home_visits": 0, **_NONE}
    incentives.save_policy(admin, {**base, "valid_from": date(2024, 1, 1), "amount": 300_000,
                                   "bpjs_deduction": False, "legal_basis": "Insentif kader 2024–Oktober 2025"})
    incentives.save_policy(admin, {
        **base, "valid_from": date(2025, 11, 1), "amount": 1_000_000, "bpjs_deduction": True,
        "legal_basis": "Insentif kader mulai November 2025",
        "attendance_required": True, "attendance_cut_kind": "percent", "attendance_cut_value": 5000,
        "attendance_cut_reason": "Tidak hadir pada hari buka bulan ini (potong 50%)",
        "commitment_required": True, "commitment_cut_kind": "amount", "commitment_cut_value": 100_000,
        "commitment_cut_reason": "Belum menandatangani komitmen kinerja tahun ini",
        "home_visits_required": True, "min_home_visits": 4, "home_visits_cut_kind": "percent",
        "home_visits_cut_value": 2500, "home_visits_cut_reason": "Kunjungan rumah kurang dari 4 (potong 25%)"})
    return {"incentive_policies": 2}
