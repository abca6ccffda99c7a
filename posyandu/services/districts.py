"""Districts on one installation: created by the installation admin with their first admin; a district's own
settings; its area tree imported from a kode wilayah list. Every change is audited."""
import json

from sqlalchemy import func, select

from ..domain import competence
from ..domain import kode_wilayah as kw
from ..domain.errors import Conflict
from ..extensions import db
from ..models import District, Kecamatan, Kelurahan, Posyandu, User
from . import idempotency, places
from .accounts import save_user
from .audit import acting


class Taken(Conflict, ValueError):
    """A name, code or username already in use; args[0] names the field."""


def district_rows() -> list[dict]:
    """Every district with the size of its tree and its admins — counts only, no one's health data."""
    kec = dict(db.session.execute(select(Kecamatan.district_id, func.count()).group_by(Kecamatan.district_id)).all())
    kel = dict(db.session.execute(select(Kecamatan.district_id, func.count()).select_from(Kelurahan)
                                  .join(Kecamatan).group_by(Kecamatan.district_id)).all())
    pos = dict(db.session.execute(select(Kecamatan.district_id, func.count()).select_from(Posyandu)
                                  .join(Kelurahan).join(Kecamatan).group_by(Kecamatan.district_id)).all())
    admins = {}
    for u in db.session.scalars(select(User).where(User.role == "district_admin").order_by(User.username)):
        admins.setdefault(u.district_id, []).append(u)
    return [{"district": d, "kecamatan": kec.get(d.id, 0), "kelurahan": kel.get(d.id, 0),
             "posyandu": pos.get(d.id, 0), "admins": admins.get(d.id, [])}
            for d in db.session.scalars(select(District).order_by(District.name))]


def _check_free(district: District, name: str, code: str | None) -> None:
    same_name = select(District.id).where(func.lower(District.name) == name.lower(), District.id != (district.id or 0))
    if db.session.scalar(same_name) is not None:
        raise Taken("name")
    if code and db.session.scalar(select(District.id).where(District.code == code,
                                                            District.id != (district.id or 0))) is not None:
        raise Taken("code")


def save_district(actor: User, district: District, data: dict) -> District:
    """Create or change a district's name, kind and code."""
    _check_free(district, data["name"], data.get("code"))
    return places.save(actor, district, data)


def create_district(actor: User, data: dict, admin: dict, password: str,
                    key: str | None = None) -> tuple[District, User]:
    """A new district and its first district admin, in one transaction (both or neither). A repeated post (same
    key) answers the district made the first time."""
    if (earlier := idempotency.seen(key, user_id=actor.id, entity="district")) is not None:
        d = db.session.get(District, earlier.entity_id)
        first = db.session.scalar(select(User).where(User.district_id == d.id, User.role == "district_admin")
                                  .order_by(User.id))
        return d, first
    district = District()
    _check_free(district, data["name"], data.get("code"))
    if db.session.scalar(select(User.id).where(User.username == admin["username"])) is not None:
        raise Taken("username")
    acting(db.session, actor)
    for k, v in data.items():
        setattr(district, k, v)
    db.session.add(district)
    db.session.flush()
    row = idempotency.claim(key, actor.id, "district")
    if row is not None:
        row.entity_id = district.id
    user = add_admin(actor, district, admin, password)
    return district, user


def add_admin(actor: User, district: District, admin: dict, password: str) -> User:
    """Another district admin (the first, or one more when the first has left)."""
    if db.session.scalar(select(User.id).where(User.username == admin["username"])) is not None:
        raise Taken("username")  # the caller's unit of work drops whatever this use case flushed
    return save_user(actor, User(district_id=district.id), {**admin, "role": "district_admin", "active": True},
                     password)


# --- the district's own settings ----------------------------------------------------------------------------

def check_rule(text: str) -> list[dict]:
    """A stratum rule typed as JSON, refused when it names an unknown stratum or group."""
    rule = json.loads(text)
    if not isinstance(rule, list) or not all(isinstance(s, dict) for s in rule):
        raise ValueError("not a list of steps")
    competence.validate_rule(rule, [g for g, _ in competence.catalogue().groups])
    return rule


def save_settings(actor: User, district: District, data: dict) -> District:
    acting(db.session, actor)
    for k, v in data.items():
        setattr(district, k, v)
    db.session.flush()
    return district


# --- import of a kode wilayah list --------------------------------------------------------------------------

def _existing(district: District):
    kec = list(db.session.scalars(select(Kecamatan).where(Kecamatan.district_id == district.id)))
    kel = list(db.session.scalars(select(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == district.id)))

    def info(obj, kind=False):
        d = {"id": obj.id, "name": obj.name, "code": kw.normalise(obj.code) or None}
        if kind:
            d["kind"] = obj.kind
        return d

    return ({kw.normalise(k.code): info(k) for k in kec if kw.normalise(k.code)},
            {kw.normalise(k.code): info(k, True) for k in kel if kw.normalise(k.code)},
            {k.name.casefold(): info(k) for k in kec if not kw.normalise(k.code)},
            {k.name.casefold(): info(k, True) for k in kel if not kw.normalise(k.code)})


def import_plan(district: District, text: str):
    """(steps, errors) of importing this CSV text into the district; nothing is written."""
    kec, kel, kec_free, kel_free = _existing(district)
    return kw.plan(kw.parse(text), district.code, kec, kel, kec_free, kel_free)


def import_apply(actor: User, district: District, text: str) -> dict:
    """Create and update what the plan says, in one transaction; refuses while any row has an error."""
    steps, errors = import_plan(district, text)
    if errors:
        raise ValueError("rows with errors")
    acting(db.session, actor)
    done = {"create": 0, "update": 0, "same": 0}
    kec_by_code = {}
    for s in steps:
        if s.row.level != "kecamatan":
            continue
        obj = db.session.get(Kecamatan, s.old["id"]) if s.old else Kecamatan(district_id=district.id)
        if s.action != "same":
            obj.name, obj.code = s.row.name, s.row.code
            db.session.add(obj)
        kec_by_code[s.row.code] = obj
        done[s.action] += 1
    db.session.flush()
    coded = {kw.normalise(k.code): k for k in db.session.scalars(
        select(Kecamatan).where(Kecamatan.district_id == district.id)) if kw.normalise(k.code)}
    for s in steps:
        if s.row.level != "kelurahan":
            continue
        if s.action != "same":
            obj = db.session.get(Kelurahan, s.old["id"]) if s.old else Kelurahan()
            kec = kec_by_code.get(s.row.parent) or coded[s.row.parent]
            obj.name, obj.code, obj.kind = s.row.name, s.row.code, s.row.kind
            if obj.kecamatan_id is None:
                obj.kecamatan_id = kec.id
            db.session.add(obj)
        done[s.action] += 1
    db.session.flush()
    return done
