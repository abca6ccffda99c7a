"""Demo data for the Posyandu as an institution (SPM fields, review states, a registration target), and later the
Posyandu's kit. Called by seed_demo after the places, kader and accounts exist."""
import random
from datetime import date, timedelta

from sqlalchemy import select

from .extensions import db
from .models import District, Kecamatan, Kelurahan, Posyandu, User
from .models.base import utcnow


def seed_institutions(rng: random.Random, district_id: int, demo_posyandu: Posyandu, today: date) -> dict:
    """Every Posyandu serves kesehatan, some also pendidikan or sosial (a ketua bidang then missing); most are
    verified and validated, a few new, one sent back; three still lack a registration number. The district's
    target: every Posyandu registered within about four months."""
    admin = db.session.scalar(select(User).where(User.district_id == district_id, User.role == "district_admin")
                              .order_by(User.id))
    posyandu = list(db.session.scalars(
        select(Posyandu).join(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == district_id)
        .order_by(Posyandu.id)))
    now = utcnow()
    counts = {"tervalidasi": 0, "terverifikasi": 0, "baru": 0, "dikembalikan": 0}
    for i, pos in enumerate(posyandu):
        extra = rng.random()
        pos.spm_fields = "kesehatan" + (",pendidikan" if extra < 0.12 else ",sosial" if extra < 0.2 else "")
        r = rng.random()
        state = ("tervalidasi" if r < 0.6 or pos.id == demo_posyandu.id else "terverifikasi" if r < 0.8
                 else "baru" if r < 0.97 else "dikembalikan")
        if state in ("terverifikasi", "tervalidasi"):
            pos.verified_at, pos.verified_by_id = now - timedelta(days=rng.randint(20, 90)), admin.id
        if state == "tervalidasi":
            pos.validated_at, pos.validated_by_id = now - timedelta(days=rng.randint(1, 19)), admin.id
        if state == "dikembalikan":
            pos.returned_at, pos.returned_by_id = now - timedelta(days=3), admin.id
            pos.return_reason = "SK pengurus belum diperbarui"
        pos.review_status = state
        counts[state] += 1
        if pos.id != demo_posyandu.id and i % 29 == 7:
            pos.registration_number = None
    ahead = today.month + 4  # the last day of the month four months ahead
    first_after = date(today.year + (ahead > 12), (ahead - 1) % 12 + 1, 1)
    db.session.get(District, district_id).registration_target = first_after - timedelta(days=1)
    db.session.commit()
    return {"institutions": counts}


def seed_bpjs(rng: random.Random, demo_posyandu: Posyandu, today: date) -> dict:
    """The demo Posyandu's kader (enrolled by seed_kader_area) get an enrolment date and an address; other kader
    of its kelurahan are mostly not enrolled yet, as in a district starting to enrol."""
    from .models import Kader, KaderRole

    kel = demo_posyandu.kelurahan
    kader = list(db.session.scalars(
        select(Kader).join(KaderRole).join(Posyandu).where(Posyandu.kelurahan_id == kel.id).distinct()
        .order_by(Kader.id)))
    enrolled = 0
    for i, k in enumerate(kader):
        k.address = k.address or f"RT {i % 12 + 1:02d}, {kel.kind.capitalize()} {kel.name}"
        if k.bpjs_tk_number:
            k.bpjs_tk_since = date(today.year - 1, rng.randint(1, 12), 1)
            enrolled += 1
        elif i % 4 == 0:  # a few enrolled elsewhere in the kelurahan, one of them lapsed
            k.bpjs_tk_number = f"2300{rng.randint(10**6, 10**7 - 1)}"
            k.bpjs_tk_since = date(today.year - 2, 2, 1)
            k.bpjs_tk_active_until = date(today.year - 1, 12, 31) if i % 8 == 0 else date(today.year, 12, 31)
            enrolled += 1
    db.session.commit()
    return {"bpjs_enrolled": enrolled}
