"""What the incentive rule reads about one Posyandu-month, as a snapshot section stored on approval (issue 13).

`sections(posyandu_ids, month)` is registered with services.month_snapshot: on approval the month's inputs of the
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

from sqlalchemy import func, or_, select

from ..domain import incentives as dom
from ..extensions import db
from ..models import Commitment, Duty, HariBuka, HomeVisit, KaderRole, PosyanduMonth

KEY = "incentive"
FORMAT = 1


def sections(posyandu_ids, month: date) -> dict[int, dict]:
    """The section of each Posyandu for the month, in a fixed number of grouped queries (however many Posyandu)."""
    ids = sorted(set(posyandu_ids))
    if not ids:
        return {}
    first, last = dom.month_start(month), dom.month_end(month)
    roles: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for rid, kid, pid, role, start, end in db.session.execute(
            select(KaderRole.id, KaderRole.kader_id, KaderRole.posyandu_id, KaderRole.role, KaderRole.start_date,
                   KaderRole.end_date)
            .where(KaderRole.posyandu_id.in_(ids), KaderRole.start_date <= last,
                   or_(KaderRole.end_date.is_(None), KaderRole.end_date >= first))
            .order_by(KaderRole.posyandu_id, KaderRole.kader_id, KaderRole.start_date, KaderRole.id)):
        roles[pid][kid].append([rid, role, start.isoformat(), end.isoformat() if end else None])
    held = dict(db.session.execute(
        select(HariBuka.posyandu_id, func.count()).where(HariBuka.posyandu_id.in_(ids),
                                                         HariBuka.held_on.between(first, last))
        .group_by(HariBuka.posyandu_id)).all())
    present: dict[int, dict[int, int]] = defaultdict(dict)
    for pid, kid, n in db.session.execute(
            select(HariBuka.posyandu_id, Duty.kader_id, func.count()).join(HariBuka, Duty.hari_buka_id == HariBuka.id)
            .where(HariBuka.posyandu_id.in_(ids), HariBuka.held_on.between(first, last), Duty.present.is_(True),
                   Duty.kader_id.is_not(None))
            .group_by(HariBuka.posyandu_id, Duty.kader_id)):
        present[pid][kid] = n
    visits: dict[int, dict[int, int]] = defaultdict(dict)
    for pid, kid, n in db.session.execute(
            select(HomeVisit.posyandu_id, HomeVisit.kader_id, func.count()).where(
                HomeVisit.posyandu_id.in_(ids), HomeVisit.kader_id.is_not(None), HomeVisit.deleted_at.is_(None),
                HomeVisit.visited_on.between(first, last)).group_by(HomeVisit.posyandu_id, HomeVisit.kader_id)):
        visits[pid][kid] = n
    everyone = {kid for per in (roles, present, visits) for d in per.values() for kid in d}
    signed = set(db.session.scalars(select(Commitment.kader_id).where(
        Commitment.kader_id.in_(everyone), Commitment.year == first.year,
        Commitment.signed_at < last + timedelta(days=1)))) if everyone else set()
    on_time = dict(db.session.execute(select(PosyanduMonth.posyandu_id, PosyanduMonth.on_time).where(
        PosyanduMonth.posyandu_id.in_(ids), PosyanduMonth.month == first)).all())
    out = {}
    for pid in ids:
        kids = sorted(set(roles[pid]) | set(present[pid]) | set(visits[pid]))
        out[pid] = {"format": FORMAT, "hari_buka_held": held.get(pid, 0), "on_time": on_time.get(pid),
                    "kader": [{"id": kid, "roles": roles[pid].get(kid, []), "present": present[pid].get(kid, 0),
                               "home_visits": visits[pid].get(kid, 0), "commitment_signed": kid in signed}
                              for kid in kids]}
    return out


def section(posyandu_id: int, month: date) -> dict:
    """The section of one Posyandu-month."""
    return sections([posyandu_id], month)[posyandu_id]
