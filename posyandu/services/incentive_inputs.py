"""What the incentive rule reads about one Posyandu-month, as a snapshot section stored on approval (issue 13).

`section(posyandu_id, month)` is registered with services.month_snapshot: on approval the month's inputs of the
incentive rule are frozen with the report numbers. The incentive batch (services.incentives.gather) reads these
sections for approved months and never the live tables, so a raw change to a closed month's rows (attendance,
roles, commitments, home visits) leaves its batch and slips byte-identical.

Plain JSON only (no int keys: they would come back as strings from the database): per kader who held a role,
had a duty or made a home visit at the Posyandu in the month, her roles there overlapping the month, her duties
present, her home visits there, and whether she had signed the year's commitment by the month's end. The
Posyandu's own figures: hari buka held, and whether the report was on time (PosyanduMonth.on_time, the
server-measured fact).
"""
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import and_, func, or_, select

from ..domain import incentives as dom
from ..extensions import db
from ..models import Commitment, Duty, HariBuka, HomeVisit, KaderRole, PosyanduMonth

KEY = "incentive"
FORMAT = 1


def section(posyandu_id: int, month: date) -> dict:
    first, last = dom.month_start(month), dom.month_end(month)
    roles = db.session.execute(
        select(KaderRole.id, KaderRole.kader_id, KaderRole.role, KaderRole.start_date, KaderRole.end_date)
        .where(KaderRole.posyandu_id == posyandu_id, KaderRole.start_date <= last,
               or_(KaderRole.end_date.is_(None), KaderRole.end_date >= first))
        .order_by(KaderRole.kader_id, KaderRole.start_date, KaderRole.id)).all()
    held = db.session.scalar(select(func.count()).select_from(HariBuka).where(
        HariBuka.posyandu_id == posyandu_id, HariBuka.held_on.between(first, last))) or 0
    present = dict(db.session.execute(
        select(Duty.kader_id, func.count()).join(HariBuka, Duty.hari_buka_id == HariBuka.id)
        .where(HariBuka.posyandu_id == posyandu_id, HariBuka.held_on.between(first, last), Duty.present.is_(True),
               Duty.kader_id.is_not(None))
        .group_by(Duty.kader_id)).all())
    visits = dict(db.session.execute(
        select(HomeVisit.kader_id, func.count()).where(
            HomeVisit.posyandu_id == posyandu_id, HomeVisit.kader_id.is_not(None), HomeVisit.deleted_at.is_(None),
            HomeVisit.visited_on.between(first, last)).group_by(HomeVisit.kader_id)).all())
    by_kader: dict[int, list] = defaultdict(list)
    for rid, kid, role, start, end in roles:
        by_kader[kid].append([rid, role, start.isoformat(), end.isoformat() if end else None])
    ids = sorted(set(by_kader) | set(present) | set(visits))
    signed = set(db.session.scalars(select(Commitment.kader_id).where(
        Commitment.kader_id.in_(ids), Commitment.year == first.year,
        Commitment.signed_at < last + timedelta(days=1)))) if ids else set()
    on_time = db.session.scalar(select(PosyanduMonth.on_time).where(
        and_(PosyanduMonth.posyandu_id == posyandu_id, PosyanduMonth.month == first)))
    return {"format": FORMAT, "hari_buka_held": held, "on_time": on_time,
            "kader": [{"id": kid, "roles": by_kader.get(kid, []), "present": present.get(kid, 0),
                       "home_visits": visits.get(kid, 0), "commitment_signed": kid in signed} for kid in ids]}
