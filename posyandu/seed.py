"""The demo district, shaped like Kota Bontang, with growth histories drawn from the WHO standards.

Built with bulk inserts so `--children 150000 --months 24` finishes in minutes, not hours.
"""
import random
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import func, insert, select, text

from .domain import kms
from .domain.growth import score_arrays, value_for_z
from .domain.immunisation import add_months
from .domain.kms import KBM_KMS_2010, kbm_grams
from .domain.rules import LYING_STANDING_DAY, UNDER_FIVE_DAYS, months_from_days
from .domain.schedule import open_day
from .extensions import db
from .models import (District, Duty, HariBuka, Kader, KaderRole, KbmTable, Kecamatan, Kelurahan, Measurement, Person,
                     Posyandu, Pregnancy, Puskesmas, ScreeningRecord, ServiceRecord, User, Visit)
from .models.base import utcnow
from .seed_services import ServiceSeeder, fast_uuid4
from .services.accounts import hash_password

DEMO_PASSWORD = "posyandu-demo"
# Kota Bontang: three kecamatan and their fifteen kelurahan.
BONTANG = {
    ("Bontang Selatan", "01"): ["Berbas Pantai", "Berbas Tengah", "Bontang Lestari", "Satimpo", "Tanjung Laut",
                                "Tanjung Laut Indah"],
    ("Bontang Utara", "02"): ["Api-Api", "Bontang Baru", "Bontang Kuala", "Gunung Elai", "Guntung", "Lok Tuan"],
    ("Bontang Barat", "03"): ["Belimbing", "Gunung Telihan", "Kanaan"],
}
FLOWERS = ["Melati", "Mawar", "Anggrek", "Kenanga", "Dahlia", "Cempaka", "Flamboyan", "Teratai", "Seroja",
           "Bougenville", "Kamboja", "Asoka", "Nusa Indah", "Tulip", "Sakura", "Lavender"]
WOMEN = ["Siti", "Nur", "Dewi", "Sri", "Rina", "Fitri", "Ayu", "Wulan", "Rahma", "Nurul", "Intan", "Yuni", "Ratna",
         "Lestari", "Aisyah", "Fatimah", "Hasnah", "Ni Luh Putu", "Kadek", "Maria", "Dian", "Eka", "Sari", "Indah"]
MEN = ["Muhammad", "Ahmad", "Budi", "Agus", "Rudi", "Andi", "Hendra", "Rizky", "Fajar", "Arif", "Dimas", "Bayu",
       "Yusuf", "Ilham", "Made", "Wayan", "Daeng", "Syahrul", "Aditya", "Rafi", "Fikri", "Gilang"]
FAMILY = ["Saputra", "Rahmawati", "Hidayat", "Pratama", "Wijaya", "Lestari", "Nugroho", "Sulastri", "Permana",
          "Hasanuddin", "Mappasessu", "Daeng Matutu", "Āyu", "Setiawan", "Kurniawan", "Handayani", "Syamsuddin",
          "Ramadhani", "Putri", "Anggraini", "Manurung", "Sitorus", "Tanjung", "Baso"]


class _Ids:
    """Hands out primary keys for bulk inserts (one seeding process writes at a time)."""

    def __init__(self, model):
        self.model = model
        self.next = (db.session.scalar(select(func.max(model.id))) or 0) + 1

    def take(self) -> int:
        self.next += 1
        return self.next - 1

    def finish(self) -> None:
        """Move PostgreSQL's id sequence past the ids we chose, so later inserts do not collide."""
        if db.engine.dialect.name == "postgresql":
            table = self.model.__table__.name
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


def _stamp() -> dict:
    now = utcnow()
    return {"uuid": fast_uuid4(), "created_at": now, "updated_at": now}


def _nik(rng: random.Random, kec_code: str, birth: date, sex: str, used: set | None = None) -> str:
    """A plausible NIK; with `used`, one not handed out before (a NIK is live for one person only)."""
    day = birth.day + (40 if sex == "P" else 0)
    while True:
        nik = f"6474{kec_code}{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
        if used is None or nik not in used:
            if used is not None:
                used.add(nik)
            return nik


def _name(rng, sex: str) -> str:
    first = rng.choice(WOMEN if sex == "P" else MEN)
    return f"{first} {rng.choice(FAMILY)}"


def _flush(model, rows: list) -> None:
    if rows:
        # render_nulls: a None is written as NULL instead of leaving the column out, so rows whose None fall in
        # different columns still go in one executemany (otherwise thousands of small batches)
        db.session.execute(insert(model).execution_options(render_nulls=True), rows)
        rows.clear()


def seed_demo(children: int = 4000, months: int = 12, today: date | None = None, seed: int = 7,
              echo=lambda s: None) -> dict:
    """Build the demo district; returns what was made. Demo accounts are created only here."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    today = today or date.today()
    pw = hash_password(DEMO_PASSWORD)

    district = District(name="Kota Bontang", kind="kota", code="6474")
    db.session.add(district)
    posyandu_list: list[tuple[Posyandu, str]] = []
    n_kel = sum(len(v) for v in BONTANG.values())
    per_kel = [80 // n_kel + (1 if i < 80 % n_kel else 0) for i in range(n_kel)]
    k = 0
    for (kec_name, kec_code), kels in BONTANG.items():
        kec = Kecamatan(district=district, name=kec_name, code=f"6474{kec_code}")
        pkm = Puskesmas(kecamatan=kec, name=f"Puskesmas {kec_name}", code=f"P6474{kec_code}0")
        db.session.add_all([kec, pkm])
        for j, kel_name in enumerate(kels):
            kel = Kelurahan(kecamatan=kec, puskesmas=pkm, name=kel_name, code=f"6474{kec_code}{1001 + j}")
            db.session.add(kel)
            for n in range(per_kel[k]):
                day = 5 + (k * 3 + n * 2) % 20
                pos = Posyandu(kelurahan=kel, name=f"{FLOWERS[(k + n) % len(FLOWERS)]} {n + 1}",
                               registration_number=f"P.6474.{kec_code}.{k + 1:02d}.{n + 1:02d}",
                               sk_number=f"{100 + k}/SK-POS/{kel_name.upper()}/2024", sk_date=date(2024, 7, 1),
                               address=f"Jl. {FLOWERS[(k + n + 3) % len(FLOWERS)]} No. {n + 2}", rw=f"{n + 1:02d}",
                               schedule_kind="day_of_month", schedule_day=day, schedule_time="08.00–12.00")
                db.session.add(pos)
                posyandu_list.append((pos, kec_code))
            k += 1
    db.session.flush()

    api_api = next(p for p, _ in posyandu_list if p.kelurahan.name == "Api-Api")
    api_api.schedule_day = min(today.day, 28)  # the demo Posyandu holds its hari buka today
    kader_ids = _seed_kader(rng, posyandu_list, today)
    made = _seed_people(rng, nrng, posyandu_list, children, months, today, echo, kader_ids, demo=api_api, seed=seed)

    accounts = [
        ("admin", "Admin Dinkes Kota Bontang", "district_admin", {}),
        # A second district admin, so a batch one admin prepared or adjusted can be approved by the other.
        ("admin2", "Admin Kedua Dinkes Kota Bontang", "district_admin", {}),
        ("kelurahan", "Petugas Kelurahan Api-Api", "kelurahan_clerk", {"kelurahan_id": api_api.kelurahan_id}),
        ("bidan", "Bidan Puskesmas Bontang Utara", "nakes", {"puskesmas_id": api_api.kelurahan.puskesmas_id}),
        ("ketua", f"Ketua Posyandu {api_api.name}", "ketua", {"posyandu_id": api_api.id}),
        ("kader", f"Kader Posyandu {api_api.name}", "kader", {"posyandu_id": api_api.id}),
    ]
    for username, name, role, node in accounts:
        db.session.add(User(username=username, display_name=name, role=role, password_hash=pw,
                            district_id=district.id, **node))
    # The installation admin (the province hosting the server): creates districts and their first admins.
    db.session.add(User(username="provinsi", display_name="Admin Instalasi Provinsi Kalimantan Timur",
                        role="installation_admin", password_hash=pw, district_id=None))
    accounts.append(("provinsi", "", "installation_admin", {}))
    db.session.commit()
    # Today's hari buka is open at the demo Posyandu, so a kader who logs in can start at meja 1.
    from .services import session_day

    ketua = db.session.scalar(select(User).where(User.username == "ketua"))
    hb = session_day.open_session(ketua, api_api, today)
    if hb.closed_at is not None:
        session_day.reopen_session(ketua, hb)
    db.session.commit()
    from .seed_kader import seed_kader_area

    made.update(seed_kader_area(rng, district.id, api_api, today))
    from .seed_incentives import seed_incentive_policies

    made.update(seed_incentive_policies(district.id))
    from .seed_kit import seed_assets, seed_bpjs, seed_institutions

    made.update(seed_institutions(rng, district.id, api_api, today))
    made.update(seed_bpjs(rng, api_api, today))
    made.update(seed_assets(rng, district.id, api_api, today))
    # Last: every past month closed and approved (its records are frozen from here on), this month open.
    from .seed_months import close_past_months

    made.update(close_past_months(district.id, today, rng, echo=echo))
    from .sync.tracking import number_unnumbered

    number_unnumbered(db.session)  # the bulk inserts above went around the ORM: number them for laptops' pulls
    from .services.changes import renew

    renew(db.session)  # and new change tokens for every Posyandu (figures kept before the seed are not its)
    db.session.commit()
    made.update(posyandu=len(posyandu_list), accounts=[a[0] for a in accounts], demo_posyandu=api_api.name)
    return made


def _seed_kader(rng, posyandu_list, today) -> dict[int, list[Kader]]:
    start = date(today.year - 2, 1, 1)
    out = {}
    for pos, kec_code in posyandu_list:
        kader = []
        for _ in range(5):
            birth = date(rng.randint(1970, 2000), rng.randint(1, 12), rng.randint(1, 28))
            kd = Kader(name=_name(rng, "P"), sex="P", birth_date=birth, nik=_nik(rng, kec_code, birth, "P"),
                       phone=f"08{rng.randint(10**9, 10**10 - 1)}", joined_on=start)
            kd.roles.append(KaderRole(posyandu=pos, role="kader", start_date=start))
            kader.append(kd)
        for kd, position in zip(kader, ("ketua", "sekretaris", "bendahara", "bidang_kesehatan")):
            kd.roles.append(KaderRole(posyandu=pos, role=position, start_date=start))
        db.session.add_all(kader)
        out[pos] = kader
    db.session.flush()
    return {pos.id: [k.id for k in kader] for pos, kader in out.items()}


def _seed_people(rng, nrng, posyandu_list, children, months, today, echo, kader_ids, demo=None, seed=7) -> dict:
    person_ids, hb_ids, visit_ids = _Ids(Person), _Ids(HariBuka), _Ids(Visit)
    services = ServiceSeeder(seed, today, visit_ids)
    people, pregnancies, measurements, hari_buka, duties = [], [], [], [], []
    kbm_id = db.session.scalar(select(KbmTable.id).order_by(KbmTable.valid_from).limit(1))
    n_meas = 0
    per_pos = [children // len(posyandu_list) + (1 if i < children % len(posyandu_list) else 0)
               for i in range(len(posyandu_list))]
    first_month = date(today.year, today.month, 1)
    open_days_cache = {}
    niks: set[str] = set()
    for (pos, kec_code), n_children in zip(posyandu_list, per_pos):
        base = {"posyandu_id": pos.id}
        first_person, first_measurement, pregnant, delivered = len(people), len(measurements), {}, {}

        def person(sex, birth, mother_id=None, with_nik=True):
            pid = person_ids.take()
            row = {**base, **_stamp(), "id": pid, "sex": sex, "birth_date": birth, "name": _name(rng, sex),
                   "nik": _nik(rng, kec_code, birth, sex, niks) if with_nik else None, "mother_id": mother_id,
                   "address": pos.address, "rw": pos.rw, "rt": f"{rng.randint(1, 12):02d}", "has_kia_book": True,
                   "consent": True, "kk_number": f"6474{kec_code}{rng.randint(10**9, 10**10 - 1)}"}
            people.append(row)
            return row

        # Families: each mother has one or two children under five.
        kids = []
        while len(kids) < n_children:
            mother = person("P", today - timedelta(days=rng.randint(20 * 365, 42 * 365)))
            newborn = None
            for _ in range(1 if rng.random() < 0.8 or len(kids) + 1 >= n_children else 2):
                age = rng.randint(0, 59 * 30 + 29)
                birth = today - timedelta(days=age)
                kid = person(rng.choice("LP"), birth, mother["id"], with_nik=age > 365 or rng.random() < 0.6)
                kid["name"] = f"{kid['name'].split()[0]} {mother['name'].split()[-1]}"
                kid["birth_weight_kg"] = round(rng.gauss(3.1, 0.45), 1)
                kids.append(kid)
                newborn = birth if age <= 365 and (newborn is None or birth > newborn) else newborn
            if rng.random() < 0.12:  # some mothers are pregnant again
                hpht = today - timedelta(days=rng.randint(20, 250))
                pregnancies.append({**_stamp(), "person_id": mother["id"], "hpht": hpht,
                                    "hpl": hpht + timedelta(days=280), "gravida": rng.randint(2, 4),
                                    "ended_on": None, "outcome": None})
                pregnant[mother["id"]] = hpht
            if newborn is not None and mother["id"] not in pregnant:  # the delivery: 42 days of nifas after it
                pregnancies.append({**_stamp(), "person_id": mother["id"], "hpht": newborn - timedelta(days=280),
                                    "hpl": newborn, "gravida": None, "ended_on": newborn, "outcome": "lahir_hidup"})
                delivered[mother["id"]] = newborn
        if pos is demo and kids:
            # A baby who turned nine months last week, so campak-rubela (MR1) is due at today's hari buka: the
            # demo's other children have their doses (the families' random draws depend on the date).
            baby = kids[0]
            baby["birth_date"] = add_months(today - timedelta(days=7), -9)
            if baby["nik"]:
                baby["nik"] = _nik(random.Random(seed), kec_code, baby["birth_date"], baby["sex"], niks)
        for _ in range(3):  # first pregnancies
            mother = person("P", today - timedelta(days=rng.randint(19 * 365, 30 * 365)))
            hpht = today - timedelta(days=rng.randint(20, 250))
            pregnancies.append({**_stamp(), "person_id": mother["id"], "hpht": hpht,
                                "hpl": hpht + timedelta(days=280), "gravida": 1, "ended_on": None, "outcome": None})
            pregnant[mother["id"]] = hpht
        for lo, hi, n in ((6, 18, 4), (19, 59, 4), (60, 85, 4)):  # remaja, dewasa, lansia
            for _ in range(n):
                person(rng.choice("LP"), today - timedelta(days=rng.randint(lo * 365, hi * 365 + 300)))

        # Monthly weighings on the Posyandu's hari buka, most children most months. The demo Posyandu meets on
        # today's day of the month (its stored schedule stops at the 28th: on the 30th its previous hari buka
        # would have been two days ago, not a month).
        day = today.day if pos is demo else pos.schedule_day
        sessions = []
        for back in range(months - 1, -1, -1):
            y, m = divmod(first_month.year * 12 + first_month.month - 1 - back, 12)
            key = (y, m + 1, day)
            if key not in open_days_cache:
                open_days_cache[key] = open_day(y, m + 1, "day_of_month", day, None, None)
            if open_days_cache[key] <= today:
                sessions.append(open_days_cache[key])
        n_meas += _growth_histories(nrng, pos.id, kids, sessions, measurements, kbm_id)
        hb_of = {}
        for held_on in sessions:  # each past hari buka, closed, with its kader's attendance
            hb_id = hb_of[held_on] = hb_ids.take()
            hari_buka.append({**_stamp(), "id": hb_id, "posyandu_id": pos.id, "held_on": held_on,
                              "step_order": "1,2,3,4,5", "opened_at": _at(held_on, 8), "closed_at": _at(held_on, 12),
                              "version": 0})
            duties.extend({**_stamp(), "hari_buka_id": hb_id, "kader_id": k, "meja": m % 5 + 1,
                           "present": rng.random() < 0.9} for m, k in enumerate(kader_ids[pos.id]))
        kid_ids = {k["id"] for k in kids}
        services.posyandu(pos.id, day, kids, [p for p in people[first_person:] if p["id"] not in kid_ids], pregnant,
                          delivered, hb_of, measurements[first_measurement:])
        if len(people) > 20000:
            _flush(Person, people)
        if len(measurements) + len(services.services) > 50000:
            _flush(Person, people)
            _flush(HariBuka, hari_buka)
            _flush(Duty, duties)
            _flush_services(services, measurements)
            echo(f"  {n_meas} measurements")
    _flush(Person, people)
    _flush(Pregnancy, pregnancies)
    _flush(HariBuka, hari_buka)
    _flush(Duty, duties)
    _flush_services(services, measurements)
    person_ids.finish()
    hb_ids.finish()
    visit_ids.finish()
    return {"children": children, "measurements": n_meas, "people": person_ids.next - 1}


def _flush_core(model, rows: list) -> None:
    """Like _flush, as a Core executemany (no ORM bookkeeping per row: the big tables of the seed)."""
    if rows:
        db.session.execute(insert(model.__table__), rows)
        rows.clear()


def _flush_services(services: ServiceSeeder, measurements: list) -> None:
    """Visits, then what hangs on them: measurements, services given, screenings."""
    _flush_core(Visit, services.visits)
    _flush_core(Measurement, measurements)
    _flush_core(Measurement, services.adult_measurements)
    _flush_core(ServiceRecord, services.services)
    _flush_core(ScreeningRecord, services.screenings)


def _growth_histories(nrng, posyandu_id, kids, sessions, out, kbm_id) -> int:
    """Weights and lengths following each child's own WHO z-score track (about one in six stunted), with what
    meja 2 would have computed at each weighing: z-scores, flags, N/T/O/B, 2T, BGM, new stunting."""
    if not kids or not sessions:
        return 0
    n, t = len(kids), len(sessions)
    births = np.array([k["birth_date"].toordinal() for k in kids])
    days = np.array([d.toordinal() for d in sessions])[None, :] - births[:, None]
    haz = nrng.normal(-0.9, 1.1, n)[:, None] + np.cumsum(nrng.normal(0, 0.08, (n, t)), axis=1)
    waz = 0.7 * haz + nrng.normal(-0.1, 0.7, n)[:, None] + np.cumsum(nrng.normal(0, 0.12, (n, t)), axis=1)
    present = (days >= 0) & (days < UNDER_FIVE_DAYS) & (nrng.random((n, t)) < 0.85)
    weight = np.full((n, t), np.nan)
    length = np.full((n, t), np.nan)
    sexes = np.array([k["sex"] for k in kids])
    for sex in ("L", "P"):
        rows = sexes == sex
        if rows.any():
            d = np.clip(days[rows], 0, 1825).astype(float)
            weight[rows] = np.round(value_for_z("wfa", sex, d, waz[rows]), 1)
            length[rows] = np.round(value_for_z("lhfa", sex, d, haz[rows]), 1)
    position = np.where(days < LYING_STANDING_DAY, "l", "h")
    ii, jj = np.nonzero(present)
    z = score_arrays(np.where(sexes[ii] == "L", 1, 2), days[ii, jj], weight[ii, jj], length[ii, jj], position[ii, jj])
    flagged = np.zeros(len(ii), dtype=bool)
    for key in ("waz", "lhaz", "whz", "baz"):
        flagged |= z[f"{key}_flag"] == 1
    now = utcnow()
    last_j, last_code, last_lhaz = {}, {}, {}
    for k, (i, j) in enumerate(zip(ii.tolist(), jj.tolist())):
        w = float(weight[i, j])
        if i not in last_j:
            code = "B"
        elif last_j[i] != j - 1:
            code = "O"
        else:
            gain = round((w - float(weight[i, last_j[i]])) * 1000)
            code = "N" if gain >= kbm_grams(KBM_KMS_2010, months_from_days(days[i, j])) else "T"
        lhaz, wz = _num(z["lhaz"][k]), _num(z["waz"][k])
        out.append({"uuid": fast_uuid4(), "created_at": now, "updated_at": now, "person_id": kids[i]["id"],
                    "posyandu_id": posyandu_id, "visit_id": None, "measured_on": sessions[j], "weight_kg": w,
                    "length_cm": float(length[i, j]), "position": str(position[i, j]), "oedema": False,
                    "age_days": int(days[i, j]), "waz": wz, "lhaz": lhaz, "whz": _num(z["whz"][k]),
                    "baz": _num(z["baz"][k]), "flagged": bool(flagged[k]), "ntob": code,
                    "two_t": code == "T" and last_code.get(i) == "T", "bgm": wz is not None and wz < -3,
                    "new_stunting": kms.is_new_stunting(last_lhaz.get(i), lhaz), "kbm_table_id": kbm_id})
        last_j[i], last_code[i] = j, code
        if lhaz is not None and not flagged[k]:
            last_lhaz[i] = lhaz
    return len(ii)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour) - timedelta(hours=8)  # WITA → UTC


def _num(x) -> float | None:
    return None if np.isnan(x) else float(x)


def is_empty() -> bool:
    return db.session.scalar(select(func.count()).select_from(District)) == 0


