"""Demo data for the kader area: the year's commitment text, competence assessments, some signatures and
certificates in the demo kelurahan. Bulk inserts, so it adds well under a second to the demo seed."""
import math
import random
import uuid
from datetime import date, timedelta

from sqlalchemy import insert, select

from .domain import competence
from .domain.commitment import dump_strokes
from .extensions import db
from .models import Kader, KaderAssessment, KaderRole, Posyandu, User
from .models.base import utcnow
from .services import certificates, commitments, signers

DEMO_PIN = "258036"  # every kader of the demo Posyandu (README)


def _signature(rng: random.Random) -> str:
    """A plausible looping scribble in pad units."""
    base, amp, freq = rng.randint(180, 240), rng.randint(40, 90), rng.uniform(0.04, 0.07)
    main = [(x, int(base + amp * math.sin(x * freq) * (1 - x / 1400))) for x in range(120, 900, 12)]
    return dump_strokes([main, [(150, base + 110), (rng.randint(700, 950), base + 100)]])


def seed_kader_area(rng: random.Random, district_id: int, demo_posyandu: Posyandu, today: date) -> dict:
    """Assessments for about a fifth of the district's kader (some reach a stratum), BPJS and bank data for the
    demo Posyandu, the year's commitment (most of the demo Posyandu signed), and a few certificates."""
    admin = db.session.scalar(select(User).where(User.district_id == district_id, User.role == "district_admin"))
    clerk = db.session.scalar(select(User).where(User.kelurahan_id == demo_posyandu.kelurahan_id))
    cat = competence.catalogue()
    groups = cat.by_group()
    now = utcnow()
    rows = []
    kader = list(db.session.scalars(select(Kader).order_by(Kader.id)))
    for k in kader:
        if rng.random() > 0.2:
            continue
        chosen = ["manajemen", "balita"] + rng.sample(["ibu_hamil", "remaja", "dewasa_lansia"], rng.randint(0, 3))
        on = today - timedelta(days=rng.randint(30, 600))
        for g in chosen:
            for s in groups[g]:
                rows.append({"uuid": str(uuid.uuid4()), "created_at": now, "updated_at": now, "kader_id": k.id,
                             "skill_code": s.code, "assessed_on": on, "assessor": "Tim Pelatih Dinkes",
                             "passed": rng.random() < 0.92, "catalogue_version": cat.version})
    if rows:
        db.session.execute(insert(KaderAssessment), rows)

    template = commitments.ensure_template(admin, district_id, today.year)
    local = list(db.session.scalars(select(Kader).join(KaderRole).where(KaderRole.posyandu_id == demo_posyandu.id)
                                    .distinct().order_by(Kader.id)))
    for i, k in enumerate(local):
        k.bpjs_tk_number = f"2300{rng.randint(10**6, 10**7 - 1)}"
        k.bpjs_tk_active_until = date(today.year, 12, 31)
        k.bank_name, k.bank_account, k.bank_account_holder = "Bankaltimtara", f"00{rng.randint(10**8, 10**9 - 1)}", k.name
        k.education = rng.choice(["sma", "sma", "smp", "d3", "s1"])
    db.session.commit()
    # Each kader of the demo Posyandu has the demo PIN (set by the kelurahan), so the shared `kader` login can
    # sign as any of them; the ketua's own kader record is linked to the `ketua` account.
    for k in local:
        signers.set_pin(clerk, k, DEMO_PIN)
    ketua_kader = signers.ketua_of(demo_posyandu.id, today)
    ketua_account = db.session.scalar(select(User).where(User.role == "ketua", User.posyandu_id == demo_posyandu.id))
    if ketua_kader is not None and ketua_account is not None:
        signers.link_account(admin, ketua_kader, ketua_account)
    signed = 0
    for k in local[:-1]:  # one kader has not signed yet
        c = commitments.sign(admin, k, demo_posyandu.id, template, "drawn", _signature(rng), pin=DEMO_PIN)
        commitments.countersign(clerk, c, "drawn", _signature(rng), name="Andi Baso",
                                title=f"Lurah {demo_posyandu.kelurahan.name}")
        signed += 1
    kel = demo_posyandu.kelurahan
    for k in local[:2]:
        certificates.issue(clerk or admin, "piagam", kel, date(today.year, 8, 17), "Andi Baso", f"Lurah {kel.name}",
                           kader=k)
    certificates.issue(admin, "kelurahan_sehat", kel, date(today.year, 11, 12), "Basri Rase", "Wali Kota Bontang")
    return {"assessments": len(rows), "commitments_signed": signed}
