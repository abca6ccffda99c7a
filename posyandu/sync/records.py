"""A synced record as protocol JSON and back: plain fields, dates as ISO text, references by UUID.

Derived values (z-scores, N/T/O/B …) travel only down (`derived=True` in a pull): a push never carries them,
the server computes its own (docs/sync.md)."""
from datetime import date, datetime

from sqlalchemy import select

from ..extensions import db
from ..models import (Commitment, CommitmentTemplate, Duty, HariBuka, HomeVisit, Kader, Measurement, Person,
                      PersonTransfer, Posyandu, Pregnancy, ScreeningRecord, ServiceRecord, User, Visit)

PERSON_FIELDS = ("nik", "kk_number", "name", "sex", "birth_date", "birth_place", "address", "rt", "rw", "phone",
                 "father_name", "father_nik", "birth_order", "birth_weight_kg", "birth_length_cm", "has_kia_book",
                 "consent", "consent_by", "left_on", "left_reason", "left_note", "deleted_at")
MEASURED = ("measured_on", "weight_kg", "length_cm", "position", "head_cm", "muac_cm", "oedema", "waist_cm",
            "systolic", "diastolic", "glucose_mg_dl")
DERIVED = ("age_days", "waz", "lhaz", "whz", "baz", "hcz", "acz", "flagged", "check_note", "ntob", "two_t", "bgm",
           "new_stunting")

# entity → (model, {data key: (column, referenced model)}, fields, fields only a pull carries)
SPEC = {
    "person": (Person, {"posyandu": ("posyandu_id", Posyandu), "mother": ("mother_id", Person),
                        "merged_into": ("merged_into_id", Person)}, PERSON_FIELDS, ()),
    "pregnancy": (Pregnancy, {"person": ("person_id", Person)},
                  ("hpht", "hpl", "gravida", "para", "abortus", "ended_on", "outcome", "deleted_at"), ()),
    "hari_buka": (HariBuka, {"posyandu": ("posyandu_id", Posyandu)},
                  ("held_on", "step_order", "opened_at", "closed_at", "notes"), ()),
    "duty": (Duty, {"hari_buka": ("hari_buka_id", HariBuka), "kader": ("kader_id", Kader)}, ("meja", "present"), ()),
    "visit": (Visit, {"hari_buka": ("hari_buka_id", HariBuka), "person": ("person_id", Person)},
              ("queue_number", "group", "step", "finished_at", "topics", "counselling_notes"), ()),
    "measurement": (Measurement, {"visit": ("visit_id", Visit), "person": ("person_id", Person),
                                  "posyandu": ("posyandu_id", Posyandu)}, MEASURED, DERIVED),
    "service": (ServiceRecord, {"person": ("person_id", Person), "visit": ("visit_id", Visit)},
                ("kind", "code", "given_on", "note", "deleted_at"), ()),
    "screening": (ScreeningRecord, {"visit": ("visit_id", Visit), "person": ("person_id", Person)},
                  ("questionnaire", "version", "answers", "score", "band", "refer"), ()),
    "home_visit": (HomeVisit, {"posyandu": ("posyandu_id", Posyandu), "person": ("person_id", Person),
                               "kader": ("kader_id", Kader)},
                   ("visited_on", "task_code", "task_key", "findings", "advice", "referred", "referral_note",
                    "follow_up_on", "deleted_at"), ()),
    # A signed commitment keeps the exact text, its hash and the template version it was signed on.
    "commitment": (Commitment, {"kader": ("kader_id", Kader), "posyandu": ("posyandu_id", Posyandu),
                                "template": ("template_id", CommitmentTemplate),
                                "countersigner_kader": ("countersigner_kader_id", Kader)},
                   ("year", "title", "text", "text_sha256", "signer_name", "signature_kind", "signature", "signed_at",
                    "signer_method", "countersigner_name", "countersigner_title", "countersignature_kind",
                    "countersignature", "countersigned_at", "countersigner_method"), ()),
    "transfer": (PersonTransfer, {"person": ("person_id", Person), "from_posyandu": ("from_posyandu_id", Posyandu),
                                  "to_posyandu": ("to_posyandu_id", Posyandu)},
                 ("moved_on", "status", "note", "decided_at"), ()),
}
# Accounts travel by username (ids differ between the laptop and the district): data key → column.
USERS = {"home_visit": {"user": "user_id"},
         "commitment": {"recorded_by": "recorded_by_id", "countersigned_by": "countersigned_by_id"}}
ORDER = list(SPEC)  # parents before children: a batch is applied in this order


def _plain(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def uuid_of(model, obj_id):
    obj = db.session.get(model, obj_id) if obj_id is not None else None
    return obj.uuid if obj is not None else None


def to_data(entity: str, obj, derived: bool = False) -> dict:
    """The record as the `data` of a change (or of a pulled record)."""
    model, refs, fields, extra = SPEC[entity]
    data = {key: uuid_of(target, getattr(obj, column)) for key, (column, target) in refs.items()}
    for name in fields + (extra if derived else ()):
        data[name] = _plain(getattr(obj, name))
    for key, column in USERS.get(entity, {}).items():
        user_id = getattr(obj, column)
        data[key] = db.session.scalar(select(User.username).where(User.id == user_id)) if user_id else None
    return data


def user_id(username: str | None, district_id: int | None = None) -> int | None:
    """The local account of a username (of the district, on the server), None when unknown."""
    if not username:
        return None
    q = select(User.id).where(User.username == username)
    if district_id is not None:
        q = q.where(User.district_id == district_id)
    return db.session.scalar(q)


def _column_type(model, name):
    try:
        return model.__table__.c[name].type.python_type
    except NotImplementedError:
        return object


def parse(entity: str, data: dict, derived: bool = False) -> dict:
    """`data`'s plain fields as column values (ISO text back to dates); KeyError/ValueError when malformed."""
    model, _refs, fields, extra = SPEC[entity]
    out = {}
    for name in fields + (extra if derived else ()):
        if name not in data:
            continue
        value = data[name]
        if value is not None and name in model.__table__.c:
            kind = _column_type(model, name)
            if kind is datetime:
                value = datetime.fromisoformat(value)
            elif kind is date:
                value = date.fromisoformat(value)
            elif kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                value = float(value)
            elif kind in (int, bool, str) and not isinstance(value, kind):
                raise ValueError(f"{name}: {kind.__name__} expected")
        out[name] = value
    return out
