"""The kader roster: search, edits, roles, competence assessments, verification and validation, reports.

Every function takes the acting user explicitly; lists are filtered by the user's scope.
"""
import json
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from ..domain import competence
from ..domain.nik import nik_problem
from ..extensions import db
from ..models import Kader, KaderAssessment, KaderRole, Kecamatan, Kelurahan, Posyandu, Puskesmas, User
from ..parsing import is_digits
from .audit import acting
from .scope import posyandu_ids

KADER_FIELDS = ("name", "nik", "sex", "birth_date", "phone", "education", "joined_on", "address", "bpjs_tk_number",
                "bpjs_tk_since", "bpjs_tk_active_until", "bank_name", "bank_account", "bank_account_holder")
REVIEW_STATES = ("baru", "terverifikasi", "tervalidasi", "dikembalikan")


def _current(on: date):
    return and_(KaderRole.start_date <= on, or_(KaderRole.end_date.is_(None), KaderRole.end_date >= on))


def serves(kader_id: int, posyandu_id: int, on: date) -> bool:
    """Whether the kader (not deleted) held a role at the Posyandu on that day: who may be recorded as a home
    visit's kader, or sign that Posyandu's commitment, whether entered in the browser or on a laptop."""
    return db.session.scalar(select(KaderRole.id).join(Kader, Kader.id == KaderRole.kader_id).where(
        KaderRole.kader_id == kader_id, KaderRole.posyandu_id == posyandu_id, _current(on),
        Kader.deleted_at.is_(None)).limit(1)) is not None


def kader_ids(user: User) -> "select":
    """Ids of the kader with any role (past or present) in a Posyandu the user may see."""
    return select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(user)))


def _request_district():
    """The district of the user of this request (a rule asked for without naming the district)."""
    from flask_login import current_user

    user = current_user._get_current_object() if current_user else None
    return user.district if user is not None and getattr(user, "is_authenticated", False) else None


def stratum_rule(district=None) -> list[dict]:
    """The district's own stratum rule (its settings), else the installation's (KADER_STRATUM_RULE), else
    DESIGN §3's default."""
    district = district or _request_district()
    if district is not None and district.stratum_rule:
        rule = json.loads(district.stratum_rule)
    else:
        rule = current_app.config.get("KADER_STRATUM_RULE") or competence.DEFAULT_STRATUM_RULE
    competence.validate_rule(rule, [g for g, _ in competence.catalogue().groups])
    return rule


def trained_target(district=None) -> float:
    """The district's own target of trained kader (its settings), else the installation's, else 10 %."""
    district = district or _request_district()
    if district is not None and district.trained_target_pct is not None:
        return district.trained_target_pct / 100
    return float(current_app.config.get("KADER_TRAINED_TARGET", competence.DEFAULT_TRAINED_TARGET))


def search(user: User, q: str, posyandu_id: int | None, page: int, size: int, on: date):
    """Live kader in scope with a current role, by name or NIK, optionally of one Posyandu; (rows, more)."""
    roles = select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(user)), _current(on))
    if posyandu_id:
        roles = roles.where(KaderRole.posyandu_id == posyandu_id)
    stmt = select(Kader).where(Kader.id.in_(roles), Kader.deleted_at.is_(None))
    q = (q or "").strip()
    if q:
        digits = q.replace(" ", "").replace(".", "")
        if is_digits(digits) and len(digits) >= 4:
            stmt = stmt.where(Kader.nik.startswith(digits) if len(digits) < 16 else Kader.nik == digits)
        else:
            stmt = stmt.where(func.lower(Kader.name).contains(q.lower(), autoescape=True))
    stmt = (stmt.options(selectinload(Kader.roles).joinedload(KaderRole.posyandu))
            .order_by(Kader.name, Kader.id).offset((page - 1) * size).limit(size + 1))
    rows = list(db.session.scalars(stmt))
    return rows[:size], len(rows) > size


def current_roles(kader: Kader, on: date) -> list[KaderRole]:
    return [r for r in kader.roles if r.start_date <= on and (r.end_date is None or r.end_date >= on)]


def update(actor: User, kader: Kader, data: dict) -> bool:
    """Correct a kader's data; a change sends the record back to be verified again. True when anything changed."""
    acting(db.session, actor)
    changed = False
    for k in KADER_FIELDS:
        if k in data and getattr(kader, k) != data[k]:
            setattr(kader, k, data[k])
            changed = True
    if changed and kader.review_status != "baru":
        kader.review_status = "baru"
        kader.verified_at = kader.verified_by_id = kader.validated_at = kader.validated_by_id = None
    db.session.flush()
    return changed


def add_role(actor: User, kader: Kader, posyandu_id: int, role: str, start: date) -> KaderRole:
    """Give a kader a further role from a date (a person may hold several)."""
    acting(db.session, actor)
    r = KaderRole(kader_id=kader.id, posyandu_id=posyandu_id, role=role, start_date=start)
    db.session.add(r)
    db.session.flush()
    return r


def end_role(actor: User, role: KaderRole, on: date) -> None:
    """End a role on a date (kept for the history)."""
    acting(db.session, actor)
    role.end_date = max(on, role.start_date)
    db.session.flush()


# --- competence -------------------------------------------------------------------------------------------------

def record_assessments(actor: User, kader: Kader, codes: list[str], on: date, assessor: str,
                       passed: bool = True) -> int:
    """Record the skills assessed on one date by one assessor; unknown codes are refused."""
    cat = competence.catalogue()
    unknown = set(codes) - cat.codes
    if unknown:
        raise ValueError(f"unknown skills {sorted(unknown)}")
    acting(db.session, actor)
    for code in codes:
        db.session.add(KaderAssessment(kader_id=kader.id, skill_code=code, assessed_on=on, assessor=assessor,
                                       passed=passed, catalogue_version=cat.version))
    db.session.flush()
    return len(codes)


def assessments(kader: Kader) -> list[KaderAssessment]:
    q = (select(KaderAssessment).where(KaderAssessment.kader_id == kader.id)
         .order_by(KaderAssessment.assessed_on.desc(), KaderAssessment.id.desc()))
    return list(db.session.scalars(q))


def passed_skills(kader_ids_select) -> dict[int, set[str]]:
    """Skills each kader has passed (latest result per skill counts), for many kader in one query."""
    latest = (select(KaderAssessment.kader_id, KaderAssessment.skill_code, KaderAssessment.passed,
                     func.row_number().over(partition_by=(KaderAssessment.kader_id, KaderAssessment.skill_code),
                                            order_by=(KaderAssessment.assessed_on.desc(),
                                                      KaderAssessment.id.desc())).label("n"))
              .where(KaderAssessment.kader_id.in_(kader_ids_select)).subquery())
    out: dict[int, set[str]] = {}
    for kid, code, ok in db.session.execute(select(latest.c.kader_id, latest.c.skill_code, latest.c.passed)
                                            .where(latest.c.n == 1)):
        if ok:
            out.setdefault(kid, set()).add(code)
    return out


def strata(kader_ids_select, district=None) -> dict[int, str | None]:
    """Stratum per kader id (only kader with at least one passed skill appear), by the district's rule."""
    cat, rule = competence.catalogue(), stratum_rule(district)
    return {kid: competence.stratum_of(codes, cat, rule) for kid, codes in passed_skills(kader_ids_select).items()}


def trained_shares(user: User, on: date) -> dict[str, list[competence.Share]]:
    """Share of trained kader (any stratum) per kelurahan, Puskesmas and district, against the target."""
    rows = db.session.execute(
        select(KaderRole.kader_id, Kelurahan.id, Kelurahan.name, Puskesmas.id, Puskesmas.name, Kecamatan.district_id)
        .join(Posyandu, KaderRole.posyandu_id == Posyandu.id).join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
        .join(Kecamatan, Kelurahan.kecamatan_id == Kecamatan.id)
        .outerjoin(Puskesmas, Kelurahan.puskesmas_id == Puskesmas.id)
        .join(Kader, Kader.id == KaderRole.kader_id)
        .where(KaderRole.posyandu_id.in_(posyandu_ids(user)), _current(on), Kader.deleted_at.is_(None))).all()
    by_level = {"kelurahan": {}, "puskesmas": {}, "district": {}}
    labels = {"kelurahan": {}, "puskesmas": {}, "district": {}}
    for kid, kel_id, kel_name, pkm_id, pkm_name, district_id in rows:
        by_level["kelurahan"].setdefault(kid, []).append(kel_id)
        labels["kelurahan"][kel_id] = kel_name
        if pkm_id:
            by_level["puskesmas"].setdefault(kid, []).append(pkm_id)
            labels["puskesmas"][pkm_id] = pkm_name
        by_level["district"].setdefault(kid, []).append(district_id)
        labels["district"][district_id] = user.district.name
    st = strata(select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(user))), user.district)
    target = trained_target(user.district)
    return {level: competence.shares(units, st, target, labels[level]) for level, units in by_level.items()}


# --- reports ----------------------------------------------------------------------------------------------------

def double_roles(user: User, on: date) -> list[tuple[Kader, list[KaderRole]]]:
    """People holding more than one current role (in one or several Posyandu), with those roles."""
    many = (select(KaderRole.kader_id).where(_current(on)).group_by(KaderRole.kader_id)
            .having(func.count() > 1))
    stmt = (select(Kader).where(Kader.id.in_(many), Kader.id.in_(kader_ids(user)), Kader.deleted_at.is_(None))
            .options(selectinload(Kader.roles).joinedload(KaderRole.posyandu)).order_by(Kader.name))
    return [(k, current_roles(k, on)) for k in db.session.scalars(stmt)]


@dataclass
class QualityRow:
    kader: Kader
    problems: list[str] = field(default_factory=list)


QUALITY_PROBLEMS = ("nik_missing", "nik_invalid", "nik_duplicate", "double_role", "unverified", "returned")


def data_quality(user: User, on: date, limit: int = 500) -> list[QualityRow]:
    """Kader records with a problem: missing, invalid or duplicate NIK, double roles, not yet verified."""
    in_scope = select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(user)), _current(on))
    dup_niks = set(db.session.scalars(
        select(Kader.nik).where(Kader.nik.is_not(None), Kader.deleted_at.is_(None)).group_by(Kader.nik)
        .having(func.count() > 1)))
    role_counts = dict(db.session.execute(
        select(KaderRole.kader_id, func.count()).where(_current(on), KaderRole.kader_id.in_(in_scope))
        .group_by(KaderRole.kader_id)).all())
    out = []
    for k in db.session.scalars(select(Kader).where(Kader.id.in_(in_scope), Kader.deleted_at.is_(None))
                                .order_by(Kader.name)):
        row = QualityRow(k)
        if not k.nik:
            row.problems.append("nik_missing")
        elif nik_problem(k.nik):
            row.problems.append("nik_invalid")
        elif k.nik in dup_niks:
            row.problems.append("nik_duplicate")
        if role_counts.get(k.id, 0) > 1:
            row.problems.append("double_role")
        if k.review_status == "baru":
            row.problems.append("unverified")
        elif k.review_status == "dikembalikan":
            row.problems.append("returned")
        if row.problems:
            out.append(row)
            if len(out) >= limit:
                break
    return out
