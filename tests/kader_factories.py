"""Builders for the kader roster tests: a kader, a signed commitment and a certificate per Posyandu of the tree.

Made on first use and kept on the tree, so the IDOR enumeration in test_scope can name them by Posyandu key."""
from datetime import date, timedelta

from posyandu.database import unit_of_work
from posyandu.domain.commitment import dump_strokes
from posyandu.extensions import db
from posyandu.models import Kader, KaderRole, KaderSigner
from posyandu.services import certificates, commitments
from posyandu.services.accounts import hash_password

PIN = "482915"
STROKES = dump_strokes([[(100, 200), (200, 120), (300, 260), (420, 150), (520, 240)], [(150, 300), (600, 300)]])


def _cache(t) -> dict:
    if not hasattr(t, "kader_objs"):
        t.kader_objs = {}
    return t.kader_objs


def kader_of(t, key: str, name: str | None = None, nik: str | None = None) -> Kader:
    """A kader serving Posyandu `key` since last year."""
    cache = _cache(t)
    if ("kader", key) not in cache:
        k = Kader(name=name or f"Kader {key}", sex="P", nik=nik)
        k.roles.append(KaderRole(posyandu_id=t.posyandu[key].id, role="kader",
                                 start_date=date.today() - timedelta(days=400)))
        db.session.add(k)
        db.session.commit()
        cache[("kader", key)] = k
    return cache[("kader", key)]


def with_pin(kader: Kader, pin: str = PIN) -> Kader:
    """The kader has a signing PIN (as the ketua or the kelurahan would set it)."""
    row = db.session.scalar(db.select(KaderSigner).where(KaderSigner.kader_id == kader.id))
    if row is None:
        row = KaderSigner(kader_id=kader.id)
        db.session.add(row)
    row.pin_hash = hash_password(pin)
    db.session.commit()
    return kader


def commitment_of(t, key: str):
    """The kader of `key` has signed this year's commitment (drawn signature, her PIN typed at the admin's
    screen)."""
    cache = _cache(t)
    if ("commitment", key) not in cache:
        k = kader_of(t, key)
        district_id = t.posyandu[key].kelurahan.kecamatan.district_id
        admin = next(u for u in t.users.values() if u.district_id == district_id and u.role == "district_admin")
        template = commitments.ensure_template(admin, district_id, date.today().year)
        with_pin(k)
        with unit_of_work():  # the factory is the caller: it owns the transaction (services only flush)
            cache[("commitment", key)] = commitments.sign(admin, k, t.posyandu[key].id, template, "drawn",
                                                          STROKES, pin=PIN)
    return cache[("commitment", key)]


def certificate_of(t, key: str):
    """A piagam penghargaan for the kader of `key`."""
    cache = _cache(t)
    if ("certificate", key) not in cache:
        k = kader_of(t, key)
        kel = t.posyandu[key].kelurahan
        admin = next(u for u in t.users.values()
                     if u.district_id == kel.kecamatan.district_id and u.role == "district_admin")
        with unit_of_work():
            cache[("certificate", key)] = certificates.issue(admin, "piagam", kel, date.today(), "dr. Kepala Dinas",
                                                             "Kepala Dinas Kesehatan", kader=k)
    return cache[("certificate", key)]
