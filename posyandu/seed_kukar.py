"""A second demo district shaped like Kabupaten Kutai Kartanegara (issue 12): desa rather than kelurahan, kode
wilayah on every place, Posyandu registered with their SK, every kader verified by the desa and validated by the
district, and its own incentive policy of Rp250.000 a month from APBDes. Small and fast: no measurements.

The codes follow the Kemendagri shape (64.02.01.2001) and are illustrative demo data."""
from datetime import date, timedelta

from sqlalchemy import select

from .extensions import db
from .models import District, Kader, KaderRole, Kecamatan, Kelurahan, Person, Posyandu, Puskesmas, User
from .models.base import utcnow

NAME = "Kabupaten Kutai Kartanegara"
# kecamatan (name, code) → its desa (name, village code part)
KUKAR = {
    ("Tenggarong", "06"): [("Bukit Pariaman", "2011"), ("Loa Ipuh Darat", "2012")],
    ("Semboja", "01"): [("Tanjung Harapan", "2001"), ("Sungai Merdeka", "2002")],
}
KADER_NAMES = ["Siti Aminah", "Nur Hidayah", "Rusmini", "Hasanah", "Marlina", "Yuliana", "Rahmawati", "Sri Wahyuni",
               "Dewi Sartika", "Fatimah", "Kartini", "Lestari", "Murni", "Suryani", "Wartini", "Zubaidah"]
CHILDREN = ["Ahmad", "Bunga", "Citra", "Dimas", "Eka", "Fajar"]


def seed_kukar(password_hash: str, today: date | None = None) -> dict:
    """Add the Kukar district (refused when it exists); returns what was made."""
    from .services import incentives

    today = today or date.today()
    if db.session.scalar(select(District.id).where(District.name == NAME)) is not None:
        raise ValueError("exists")
    district = District(name=NAME, kind="kabupaten", code="64.02", place_name="Tenggarong")
    db.session.add(district)
    posyandu: list[Posyandu] = []
    n = 0
    for (kec_name, kec_code), desa in KUKAR.items():
        kec = Kecamatan(district=district, name=kec_name, code=f"6402{kec_code}")
        pkm = Puskesmas(kecamatan=kec, name=f"Puskesmas {kec_name}", code=f"P6402{kec_code}01")
        db.session.add_all([kec, pkm])
        for desa_name, part in desa:
            kel = Kelurahan(kecamatan=kec, puskesmas=pkm, name=desa_name, kind="desa", code=f"6402{kec_code}{part}")
            db.session.add(kel)
            for j, flower in enumerate(("Mawar", "Melati")):
                n += 1
                pos = Posyandu(kelurahan=kel, name=f"{flower} {desa_name}",
                               registration_number=f"P.6402.{kec_code}.{part}.{j + 1:02d}",
                               sk_number=f"{140 + n}/SK-KADES/{desa_name.upper()}/2024", sk_date=date(2024, 3, 4),
                               address=f"RT {j + 3:02d} Desa {desa_name}", rw=f"{j + 1:02d}",
                               schedule_kind="nth_weekday", schedule_week=1 + (n % 3), schedule_weekday=1 + (n % 4),
                               schedule_time="08.00–11.00")
                db.session.add(pos)
                posyandu.append(pos)
    db.session.flush()
    demo = posyandu[0]
    accounts = [
        ("admin_kukar", "Admin DPMD Kutai Kartanegara", "district_admin", {}),
        ("desa_kukar", f"Operator Desa {demo.kelurahan.name}", "kelurahan_clerk", {"kelurahan_id": demo.kelurahan_id}),
        ("bidan_kukar", f"Bidan {demo.kelurahan.puskesmas.name}", "nakes", {"puskesmas_id": demo.kelurahan.puskesmas_id}),
        ("ketua_kukar", f"Ketua Posyandu {demo.name}", "ketua", {"posyandu_id": demo.id}),
        ("kader_kukar", f"Kader Posyandu {demo.name}", "kader", {"posyandu_id": demo.id}),
    ]
    users = {}
    for username, name, role, node in accounts:
        users[username] = User(username=username, display_name=name, role=role, password_hash=password_hash,
                               district_id=district.id, **node)
        db.session.add(users[username])
    db.session.flush()
    # Every kader verified person by person by the desa and validated by the district.
    now, start = utcnow(), date(2024, 4, 1)
    k = 0
    for p_i, pos in enumerate(posyandu):
        for r in range(4):
            name = KADER_NAMES[k % len(KADER_NAMES)]
            kd = Kader(name=name if k < len(KADER_NAMES) else f"{name} {k}", sex="P",
                       nik=f"640201{41 + r:02d}0{(k % 9) + 1}85{k + 1:04d}"[:16], phone=f"08125{k:06d}",
                       joined_on=start, review_status="tervalidasi", verified_at=now,
                       verified_by_id=users["desa_kukar"].id, validated_at=now, validated_by_id=users["admin_kukar"].id,
                       bpjs_tk_number=f"2400{k + 1:07d}", bpjs_tk_active_until=date(today.year, 12, 31))
            kd.roles.append(KaderRole(posyandu_id=pos.id, role="kader", start_date=start))
            if r == 0:
                kd.roles.append(KaderRole(posyandu_id=pos.id, role="ketua", start_date=start))
            db.session.add(kd)
            k += 1
        for c, child in enumerate(CHILDREN[:3]):
            mother = Person(posyandu_id=pos.id, name=f"Ibu {child} {pos.name}", sex="P", birth_date=date(1995, 2, 3 + c))
            db.session.add(mother)
            db.session.flush()
            db.session.add(Person(posyandu_id=pos.id, name=f"{child} {pos.kelurahan.name}", sex="L" if c % 2 else "P",
                                  birth_date=today - timedelta(days=200 + 150 * c + 20 * p_i), mother_id=mother.id))
    db.session.commit()
    incentives.save_policy(users["admin_kukar"], {
        "valid_from": date(2025, 1, 1), "amount": 250_000, "funding_source": "APBDes", "pph21_bp": 0,
        "bpjs_amount": 0, "bpjs_deduction": False, "pay_per_role": False, "min_home_visits": 0,
        "legal_basis": "Insentif kader Posyandu dari APBDes (Kabupaten Kutai Kartanegara)",
        **{f"{c}_{key}": v for c in ("attendance", "commitment", "home_visits")
           for key, v in (("required", False), ("cut_kind", "percent"), ("cut_value", 0), ("cut_reason", None))}})
    db.session.commit()
    from .seed_kit import seed_kukar_institutions

    seed_kukar_institutions(district.id, today)
    # Last, like Bontang's: every month since its kader started closed and approved (the desa approves its own
    # Posyandu), this month open — so its past incentive batches can be computed from closed months.
    import random

    from .seed_months import close_past_months

    closed = close_past_months(district.id, today, random.Random(12), since=start,
                               accounts=("admin_kukar", "bidan_kukar", "desa_kukar", "ketua_kukar"))
    return {"posyandu": len(posyandu), "kader": k, "accounts": [a[0] for a in accounts], **closed}
