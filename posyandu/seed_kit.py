"""Demo data for the Posyandu as an institution (SPM fields, review states, a registration target), and later the
Posyandu's kit. Called by seed_demo after the places, kader and accounts exist."""
import random
from datetime import date, timedelta

from sqlalchemy import select

from .extensions import db
from .models import District, Kecamatan, Kelurahan, Posyandu, User
from .models.base import utcnow


def _admin_and_posyandu(district_id: int) -> tuple[User, list[Posyandu]]:
    """The district's first admin and its Posyandu, in id order."""
    admin = db.session.scalar(select(User).where(User.district_id == district_id, User.role == "district_admin")
                              .order_by(User.id))
    posyandu = list(db.session.scalars(
        select(Posyandu).join(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == district_id)
        .order_by(Posyandu.id)))
    return admin, posyandu


def seed_institutions(rng: random.Random, district_id: int, demo_posyandu: Posyandu, today: date) -> dict:
    """Every Posyandu serves kesehatan, some also pendidikan or sosial (a ketua bidang then missing); most are
    verified and validated, a few new, one sent back; three still lack a registration number. The district's
    target: every Posyandu registered within about four months."""
    admin, posyandu = _admin_and_posyandu(district_id)
    now = utcnow()
    counts = {"tervalidasi": 0, "terverifikasi": 0, "baru": 0, "dikembalikan": 0}
    for i, pos in enumerate(posyandu):
        extra = rng.random()
        pos.spm_fields = "kesehatan" + ("" if pos.id == demo_posyandu.id else ",pendidikan" if extra < 0.12
                                        else ",sosial" if extra < 0.2 else "")
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


# Bontang's 2025 handover to its Posyandu (DESIGN §3 / issue 12): laptops and anthropometry kits.
HANDOVER = {"laptop": 79, "baby_scale": 62, "standing_scale": 63, "length_board": 10, "stadiometer": 23,
            "lila_tape": 90, "head_tape": 89, "tensimeter": 78}
LABEL_PREFIX = {"laptop": "LPT", "baby_scale": "TBD", "standing_scale": "TBB", "length_board": "PPB",
                "stadiometer": "STD", "lila_tape": "LILA", "head_tape": "LK", "tensimeter": "TNS"}


def seed_assets(rng: random.Random, district_id: int, demo_posyandu: Posyandu, today: date) -> dict:
    """The handover spread over the district's Posyandu (round robin, the demo Posyandu first), received in
    2025 from the APBD; scales and tensimeters checked at handover, some since; a few damaged, one lost. The demo
    Posyandu has a standing scale past its check, so its hari buka shows the warning."""
    import uuid

    from sqlalchemy import insert

    from .models import Asset

    district = db.session.get(District, district_id)
    posyandu = [demo_posyandu] + [p for p in db.session.scalars(
        select(Posyandu).join(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == district_id)
        .order_by(Posyandu.id)) if p.id != demo_posyandu.id]
    now = utcnow()
    received = date(2025, 9, 15) if today >= date(2025, 9, 15) else today - timedelta(days=60)
    source = f"APBD {district.name} {received.year}"
    rows, n = [], 0
    checked_kinds = ("baby_scale", "standing_scale", "tensimeter")
    for kind, count in HANDOVER.items():
        for i in range(count):
            pos = posyandu[i % len(posyandu)]
            checked = None
            if kind in checked_kinds:
                r = rng.random()
                checked = (received if r < 0.55 else today - timedelta(days=rng.randint(20, 300)) if r < 0.85
                           else today - timedelta(days=rng.randint(380, 560)) if r < 0.95 else None)
                if checked is not None and checked > today:
                    checked = today
            r = rng.random()
            condition = "baik" if r < 0.9 else "rusak_ringan" if r < 0.97 else "rusak_berat"
            rows.append({"uuid": str(uuid.uuid4()), "created_at": now, "updated_at": now, "posyandu_id": pos.id,
                         "kind": kind, "label": f"{LABEL_PREFIX[kind]}-{district.code or district.id}-{i + 1:03d}",
                         "received_on": received, "source": source, "condition": condition, "checked_on": checked,
                         "check_months": None, "notes": None, "retired_on": None, "retired_reason": None})
            n += 1
    # The demo Posyandu's standing scale: last checked over a year ago.
    demo_scale = next(r for r in rows if r["posyandu_id"] == demo_posyandu.id and r["kind"] == "standing_scale")
    demo_scale.update(checked_on=today - timedelta(days=400), condition="baik")
    for r in rows:
        if r["posyandu_id"] == demo_posyandu.id and r["kind"] == "baby_scale":
            r.update(checked_on=today - timedelta(days=40), condition="baik")
    rows[rng.randrange(len(rows))]["condition"] = "hilang"
    db.session.execute(insert(Asset), rows)
    db.session.commit()
    return {"assets": n}


def seed_kukar_institutions(district_id: int, today: date) -> dict:
    """Kukar's Posyandu as village institutions: every one serves kesehatan, pendidikan and sosial (the first all six
    SPM fields); the first validated, the second verified, the rest new; boards still incomplete (only a ketua), so
    the completeness report has work to show; a target of every Posyandu registered by the end of next June. Its
    kader are enrolled in BPJS Ketenagakerjaan from January 2025."""
    from .models import Kader, KaderRole

    admin, posyandu = _admin_and_posyandu(district_id)
    now = utcnow()
    for i, pos in enumerate(posyandu):
        pos.spm_fields = ("kesehatan,pendidikan,pekerjaan_umum,perumahan_rakyat,trantibumlinmas,sosial" if i == 0
                          else "kesehatan,pendidikan,sosial")
        if i <= 1:
            pos.review_status, pos.verified_at, pos.verified_by_id = "terverifikasi", now, admin.id
        if i == 0:
            pos.review_status, pos.validated_at, pos.validated_by_id = "tervalidasi", now, admin.id
    db.session.get(District, district_id).registration_target = date(today.year + 1, 6, 30)
    kader = db.session.scalars(select(Kader).join(KaderRole).join(Posyandu).join(Kelurahan).join(Kecamatan)
                               .where(Kecamatan.district_id == district_id).distinct())
    for k in kader:
        if k.bpjs_tk_number and k.bpjs_tk_since is None:
            k.bpjs_tk_since = date(2025, 1, 1)
    db.session.commit()
    return {"institutions": len(posyandu)}
