"""Builders of test data: a small two-district tree with a user of every role."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from posyandu.extensions import db
from posyandu.models import (District, HariBuka, Kader, KaderRole, Kecamatan, Kelurahan, Person, Posyandu, Pregnancy, Puskesmas,
                             User, Visit)
from posyandu.services.accounts import hash_password

from .conftest import PASSWORD


@dataclass
class Tree:
    """Names every object so tests read plainly: posyandu['A1'], people['child_A1'] …"""

    posyandu: dict = field(default_factory=dict)
    kelurahan: dict = field(default_factory=dict)
    puskesmas: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    districts: dict = field(default_factory=dict)


def person(posyandu, name, sex="P", birth=None, **kw) -> Person:
    p = Person(posyandu_id=posyandu.id, name=name, sex=sex, birth_date=birth or date(1995, 5, 17), **kw)
    db.session.add(p)
    db.session.flush()
    return p


def build_tree() -> Tree:
    """District D (kelurahan A and B, each two Posyandu, one Puskesmas each) and district E (kelurahan C)."""
    t = Tree()
    pw = hash_password(PASSWORD)
    today = date.today()
    for dname, kels in (("D", ("A", "B")), ("E", ("C",))):
        d = District(name=f"Kota {dname}", kind="kota")
        db.session.add(d)
        t.districts[dname] = d
        for kname in kels:
            kec = Kecamatan(district=d, name=f"Kecamatan {kname}")
            pkm = Puskesmas(kecamatan=kec, name=f"Puskesmas {kname}")
            kel = Kelurahan(kecamatan=kec, puskesmas=pkm, name=f"Kelurahan {kname}")
            db.session.add_all([kec, pkm, kel])
            t.kelurahan[kname], t.puskesmas[kname] = kel, pkm
            for n in (1, 2):
                pos = Posyandu(kelurahan=kel, name=f"Posyandu {kname}{n}", schedule_kind="day_of_month",
                               schedule_day=10)
                db.session.add(pos)
                t.posyandu[f"{kname}{n}"] = pos
    db.session.flush()
    for key, pos in t.posyandu.items():
        mother = person(pos, f"Ibu {key}", "P", date(1994, 3, 2), nik=f"6474014203940{len(t.people) + 1:03d}")
        child = person(pos, f"Anak {key}", "L", today - timedelta(days=400), mother_id=mother.id)
        t.people[f"mother_{key}"], t.people[f"child_{key}"] = mother, child
        db.session.add(Pregnancy(person_id=mother.id, hpht=today - timedelta(days=60),
                                 hpl=today + timedelta(days=220), gravida=2))
    t.sessions = {}
    for key, pos in t.posyandu.items():  # a hari buka last week in every Posyandu, the child queued at meja 2
        hb = HariBuka(posyandu_id=pos.id, held_on=today - timedelta(days=7))
        hb.visits.append(Visit(person_id=t.people[f"child_{key}"].id, queue_number=1, group="balita", step=2))
        db.session.add(hb)
        t.sessions[key] = hb
    for name in ("Kader Satu", "Kader Dua"):
        kd = Kader(name=name, sex="P")
        kd.roles.append(KaderRole(posyandu_id=t.posyandu["A1"].id, role="kader", start_date=today - timedelta(days=365)))
        db.session.add(kd)
    users = [
        ("admin_d", "district_admin", "D", {}),
        ("admin_e", "district_admin", "E", {}),
        ("clerk_a", "kelurahan_clerk", "D", {"kelurahan_id": t.kelurahan["A"].id}),
        ("nakes_a", "nakes", "D", {"puskesmas_id": t.puskesmas["A"].id}),
        ("ketua_a1", "ketua", "D", {"posyandu_id": t.posyandu["A1"].id}),
        ("kader_a1", "kader", "D", {"posyandu_id": t.posyandu["A1"].id}),
        ("kader_a2", "kader", "D", {"posyandu_id": t.posyandu["A2"].id}),
    ]
    for username, role, dname, node in users:
        u = User(username=username, display_name=username.replace("_", " ").title(), role=role,
                 password_hash=pw, district_id=t.districts[dname].id, **node)
        db.session.add(u)
        t.users[username] = u
    db.session.commit()
    return t


def transfer_of(t: Tree, key: str):
    """An open transfer request of the Posyandu's child (from and to that Posyandu, so it lies wholly inside it)."""
    from posyandu.models import PersonTransfer

    child = t.people[f"child_{key}"]
    tr = PersonTransfer(person_id=child.id, from_posyandu_id=child.posyandu_id, to_posyandu_id=child.posyandu_id,
                        moved_on=date.today())
    db.session.add(tr)
    db.session.commit()
    return tr


def asset_of(t: Tree, key: str):
    """A baby scale of Posyandu `key` (made on first use)."""
    from posyandu.models import Asset

    if not hasattr(t, "assets"):
        t.assets = {}
    if key not in t.assets:
        a = Asset(posyandu_id=t.posyandu[key].id, kind="baby_scale", label=f"TB-{key}", condition="baik")
        db.session.add(a)
        db.session.commit()
        t.assets[key] = a
    return t.assets[key]


def device_of(t: Tree, key: str):
    """A laptop registered for Posyandu `key` (made on first use)."""
    from posyandu.sync import devices

    if not hasattr(t, "devices"):
        t.devices = {}
    if key not in t.devices:
        t.devices[key], _code = devices.register(None, f"Laptop {key}", t.posyandu[key].id)
        db.session.commit()
    return t.devices[key]


def sync_case_of(t: Tree, key: str):
    """An open edited_on_both case of Posyandu `key`'s child, as a laptop's push leaves it (made on first use)."""
    from posyandu.models import SyncCase

    if not hasattr(t, "sync_cases"):
        t.sync_cases = {}
    if key not in t.sync_cases:
        child = t.people[f"child_{key}"]
        case = SyncCase(kind="edited_on_both", device_id=device_of(t, key).id, person_id=child.id,
                        posyandu_id=child.posyandu_id, change_id=f"change-{key}", laptop_uuid=child.uuid,
                        fields=["phone"], server={"phone": None}, laptop={"name": child.name, "phone": "0812"},
                        base={"phone": None})
        db.session.add(case)
        db.session.commit()
        t.sync_cases[key] = case
    return t.sync_cases[key]
