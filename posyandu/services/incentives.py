"""Kader incentives: district policies, monthly batches per kelurahan (draft → approved → paid), adjustments with
reasons, corrections as adjusting batches. The arithmetic lives in domain.incentives; this module gathers its
inputs in a few grouped queries and writes the results (audited by the flush listener).

Pay from closed months (issue 13): the inputs of a Posyandu-month are read from the snapshot section stored when
the month was approved (services.incentive_inputs), never the live tables; kader of a month not approved yet are
held at zero with the reason "Laporan bulan belum disetujui" (see gather and domain.incentives).

Who does what: the kelurahan clerk (or the district admin) computes, reviews and adjusts; a district admin who did
not compute, recompute or adjust any of it since its last approval approves it (four eyes: the district funds the incentive
from APBD and DESIGN §1 gives it the incentive policy); the clerk or the admin records the payment, which locks
the batch for good.
"""
from collections import defaultdict
from datetime import date

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..domain import incentives as dom
from ..domain.errors import Invalid
from ..extensions import db
from ..models import (IncentiveBatch, IncentiveLine, IncentivePolicy, IncentivePreparer, Kader, KaderRole, Kecamatan,
                      Kelurahan, Posyandu, PosyanduMonth, User)
from ..models.base import utcnow
from . import idempotency, incentive_inputs, month_snapshot
from . import months as months_svc
from .audit import acting
from .scope import kelurahan_ids

COMPUTE = ("district_admin", "kelurahan_clerk")
APPROVE = ("district_admin",)
POLICY_FIELDS = ("valid_from", "amount", "funding_source", "pph21_bp", "bpjs_deduction", "bpjs_amount",
                 "pay_per_role", "min_home_visits", "legal_basis", "hold_unverified", "board_amount") + tuple(
    f"{c}_{k}" for c in dom.CONDITIONS for k in ("required", "cut_kind", "cut_value", "cut_reason"))


# Printed on the documents, always in Bahasa Indonesia (whatever the screen language).
ROLE_NAMES = {"kader": "Kader", "ketua": "Ketua", "sekretaris": "Sekretaris", "bendahara": "Bendahara",
              "bidang_pendidikan": "Ketua bidang pendidikan", "bidang_kesehatan": "Ketua bidang kesehatan",
              "bidang_pekerjaan_umum": "Ketua bidang PU", "bidang_perumahan_rakyat": "Ketua bidang perumahan",
              "bidang_trantibumlinmas": "Ketua bidang trantibumlinmas", "bidang_sosial": "Ketua bidang sosial"}


class IncentiveError(Invalid):
    """The step is not allowed now (the code says why: state, role, same_person, no_policy, in_use, empty …)."""


# --- policies ---------------------------------------------------------------------------------------------------

def policies(district_id: int) -> list[IncentivePolicy]:
    """The district's policies, newest first (the history)."""
    return list(db.session.scalars(select(IncentivePolicy).where(IncentivePolicy.district_id == district_id)
                                   .order_by(IncentivePolicy.valid_from.desc())))


def to_domain(p: IncentivePolicy) -> dom.Policy:
    require = {}
    for c in dom.CONDITIONS:
        if getattr(p, f"{c}_required"):
            require[c] = dom.Reduction(getattr(p, f"{c}_cut_kind"), getattr(p, f"{c}_cut_value"),
                                       getattr(p, f"{c}_cut_reason") or "")
    return dom.Policy(valid_from=p.valid_from, amount=p.amount, funding_source=p.funding_source,
                      pph21_bp=p.pph21_bp, bpjs_deduction=p.bpjs_deduction, bpjs_amount=p.bpjs_amount,
                      pay_per_role=p.pay_per_role, require=require, min_home_visits=p.min_home_visits,
                      hold_unverified=bool(p.hold_unverified), board_amount=p.board_amount, id=p.id)


def policy_in_force(district_id: int, month: date) -> IncentivePolicy | None:
    return db.session.scalar(select(IncentivePolicy).where(IncentivePolicy.district_id == district_id,
                                                           IncentivePolicy.valid_from <= dom.month_start(month))
                             .order_by(IncentivePolicy.valid_from.desc()).limit(1))


def policy_in_use(p: IncentivePolicy) -> bool:
    return db.session.scalar(select(func.count()).select_from(IncentiveBatch)
                             .where(IncentiveBatch.policy_id == p.id)) > 0


def save_policy(actor: User, data: dict, policy: IncentivePolicy | None = None,
                key: str | None = None) -> IncentivePolicy:
    """Create a policy for the actor's district, or correct one no batch has used yet (a used policy is history:
    a change is a new policy from a later month)."""
    if policy is None and (earlier := idempotency.seen(key, user_id=actor.id, entity="incentive_policy")) is not None:
        return db.session.get(IncentivePolicy, earlier.entity_id)
    data = {"hold_unverified": False, "board_amount": None, "on_time_required": False, "on_time_cut_kind": "percent",
            "on_time_cut_value": 0, "on_time_cut_reason": None, **data, "valid_from": dom.month_start(data["valid_from"])}
    if policy is not None and policy_in_use(policy):
        raise IncentiveError("in_use")
    probe = IncentivePolicy(**{k: data[k] for k in POLICY_FIELDS})
    to_domain(probe)  # the domain's checks (rates, reasons) before anything is written
    clash = db.session.scalar(select(IncentivePolicy.id).where(IncentivePolicy.district_id == actor.district_id,
                                                              IncentivePolicy.valid_from == data["valid_from"]))
    if clash is not None and (policy is None or clash != policy.id):
        raise IncentiveError("same_month")
    acting(db.session, actor)
    try:  # in a savepoint: a twin that won the race undoes only this attempt, not the caller's unit of work
        with db.session.begin_nested():
            if policy is None:
                policy = IncentivePolicy(district_id=actor.district_id)
                db.session.add(policy)
            for k in POLICY_FIELDS:
                setattr(policy, k, data[k])
            db.session.flush()
            idempotency.claim_for(key, actor.id, "incentive_policy", policy.id)
    except IntegrityError as e:
        twin = idempotency.twin_of(e, key, user_id=actor.id, entity="incentive_policy")
        return db.session.get(IncentivePolicy, twin)
    return policy


# --- inputs of the rule -----------------------------------------------------------------------------------------

def _overlaps(first: date, last: date):
    return and_(KaderRole.start_date <= last, or_(KaderRole.end_date.is_(None), KaderRole.end_date >= first))


def _span(role: str, start: str | date, end: str | date | None, posyandu: str) -> dom.RoleSpan:
    as_date = lambda v: v if isinstance(v, date) or v is None else date.fromisoformat(v)  # noqa: E731
    return dom.RoleSpan(role, as_date(start), as_date(end), posyandu)


def month_status(kelurahan_id: int, month: date) -> list[dict]:
    """The kelurahan's Posyandu and the state of their month, not-approved first (for the batch review page)."""
    pos = list(db.session.execute(select(Posyandu.id, Posyandu.name).where(Posyandu.kelurahan_id == kelurahan_id)
                                  .order_by(Posyandu.name, Posyandu.id)))
    rows = months_svc.states([p for p, _ in pos], month) if pos else {}
    out = [{"posyandu_id": pid, "name": name, "state": rows[pid].state if pid in rows else "open",
            "on_time": rows[pid].on_time if pid in rows else None} for pid, name in pos]
    return sorted(out, key=lambda r: r["state"] == "approved")


def approval_counts(kelurahan_ids, month: date) -> dict[int, tuple[int, int]]:
    """Per kelurahan: (Posyandu whose month is approved, all its Posyandu), in one grouped query."""
    approved = and_(PosyanduMonth.posyandu_id == Posyandu.id, PosyanduMonth.month == dom.month_start(month),
                    PosyanduMonth.state == "approved")
    rows = db.session.execute(
        select(Posyandu.kelurahan_id, func.count(Posyandu.id), func.count(PosyanduMonth.id))
        .outerjoin(PosyanduMonth, approved).where(Posyandu.kelurahan_id.in_(list(kelurahan_ids)))
        .group_by(Posyandu.kelurahan_id))
    return {kel: (done, total) for kel, total, done in rows}


def _sections(posyandu_ids, month: date) -> dict[int, dict]:
    """The incentive section of each approved month among the Posyandu (only that section leaves the database).
    A month approved before the section existed has none: it is built from the rows, which the freeze has kept
    as they were approved."""
    found = month_snapshot.read(posyandu_ids, month, incentive_inputs.KEY)
    missing = [pid for pid, sec in found.items() if not sec]
    if missing:
        found.update(incentive_inputs.sections(missing, month))
    return found


def gather(kelurahan_id: int, month: date, home_visits=None) -> tuple[list[dom.KaderMonth], dict[int, dict]]:
    """The people paid by this kelurahan for the month, with what the rule needs, and their printed details.

    Closed months only (issue 13): for a Posyandu whose month is approved, who served there and what they did
    (roles, attendance, home visits, commitment, on-time report) come from the month's snapshot section
    (services.incentive_inputs), never the live tables. A person who served a Posyandu whose month is not
    approved is listed with `unapproved` set (the rule holds her line at zero) — from the live roles, only to
    name her. Her name, NIK, bank account, BPJS and verification are live (they are not month records).

    A person is paid by the kelurahan of her *home* role: of her roles that overlap the month, the one that started
    first (then the lowest id). So someone serving Posyandu in two kelurahan appears in one batch only."""
    first, last = dom.month_start(month), dom.month_end(month)
    here = set(db.session.scalars(select(Posyandu.id).where(Posyandu.kelurahan_id == kelurahan_id)))
    if not here:
        return [], {}
    sections = _sections(here, first)
    # Who may be paid here: those in the approved sections, and the live role holders of the months still open.
    cand = {k["id"] for sec in sections.values() for k in sec.get("kader", []) if k["roles"]}
    open_here = here - set(sections)
    if open_here:
        cand |= set(db.session.scalars(select(KaderRole.kader_id).where(
            KaderRole.posyandu_id.in_(open_here), _overlaps(first, last))))
    if not cand:
        return [], {}
    kader = {k.id: k for k in db.session.scalars(select(Kader).where(Kader.id.in_(cand), Kader.deleted_at.is_(None)))}
    live = db.session.execute(
        select(KaderRole.id, KaderRole.kader_id, KaderRole.posyandu_id, KaderRole.role, KaderRole.start_date,
               KaderRole.end_date).where(KaderRole.kader_id.in_(list(kader)), _overlaps(first, last))).all()
    others = {r.posyandu_id for r in live} - here
    if others:  # her Posyandu in other kelurahan: their approved sections too
        sections.update(_sections(others, first))
    places = {pid: (name, kel) for pid, name, kel in db.session.execute(
        select(Posyandu.id, Posyandu.name, Posyandu.kelurahan_id).where(
            Posyandu.id.in_(here | others | set(sections))))}
    # roles[kid]: (start, role id, posyandu id, role, end) — from the section of an approved month, else live
    roles: dict[int, list] = defaultdict(list)
    facts: dict[int, dict[int, dict]] = defaultdict(dict)  # kid → posyandu id → her entry in the section
    for pid, sec in sections.items():
        for entry in sec.get("kader", []):
            if entry["id"] in kader:
                facts[entry["id"]][pid] = entry
                for rid, role, start, end in entry["roles"]:
                    roles[entry["id"]].append((start, rid, pid, role, end))
    for rid, kid, pid, role, start, end in live:
        if pid not in sections:
            roles[kid].append((start.isoformat(), rid, pid, role, end.isoformat() if end else None))
    for rs in roles.values():
        rs.sort(key=lambda r: (r[0], r[1]))
    ids = sorted(kid for kid, rs in roles.items() if rs and places[rs[0][2]][1] == kelurahan_id)
    if home_visits is None:
        home_visits = lambda kid, _month: sum(f["home_visits"] for f in facts[kid].values())  # noqa: E731
    months, details = [], {}
    for kid in ids:
        k = kader[kid]
        mine = sorted({r[2] for r in roles[kid]}, key=lambda p: places[p][0])
        done = [p for p in mine if p in sections]
        unapproved = tuple(places[p][0] for p in mine if p not in sections)
        timely = [sections[p].get("on_time") for p in done]
        months.append(dom.KaderMonth(
            kader_id=kid, name=k.name, roles=[_span(role, start, end, places[pid][0])
                                              for start, _, pid, role, end in roles[kid]],
            hari_buka_held=sum(sections[p].get("hari_buka_held", 0) for p in done),
            hari_buka_attended=sum(f["present"] for f in facts[kid].values()),
            commitment_signed=any(f["commitment_signed"] for f in facts[kid].values()),
            home_visits=home_visits(kid, first),
            bpjs_enrolled=bool(k.bpjs_tk_number) and (k.bpjs_tk_active_until is None
                                                      or k.bpjs_tk_active_until >= first),
            verified=k.review_status in dom.VERIFIED,
            report_on_time=None if not timely or None in timely else all(timely),
            late_posyandu=tuple(places[p][0] for p, t in zip(done, timely) if t is False),
            unapproved=unapproved))
        by_pos: dict[str, list[str]] = defaultdict(list)
        for _, _, pid, role, _ in roles[kid]:
            by_pos[places[pid][0]].append(ROLE_NAMES.get(role, role))
        details[kid] = {"name": k.name, "nik": k.nik, "posyandu_name": places[roles[kid][0][2]][0],
                        "roles_text": "; ".join(f"{', '.join(v)} ({p})" for p, v in by_pos.items())[:300],
                        "bank_name": k.bank_name, "bank_account": k.bank_account,
                        "bank_account_holder": k.bank_account_holder}
    return months, details


def _line_values(line: dom.Line, bpjs_due: int) -> dict:
    return {"units": line.units, "days_served": line.days_served, "days_in_month": line.days_in_month,
            "base": line.base, "prorated": line.prorated,
            "reductions": [{"code": c.code, "amount": c.amount, "reason": c.reason} for c in line.cuts],
            "reductions_total": sum(c.amount for c in line.cuts), "adjustment": line.adjustment,
            "adjustment_reason": line.adjustment_reason or None, "gross": line.gross, "pph21": line.pph21,
            "bpjs_due": bpjs_due, "bpjs": line.bpjs, "net": line.net, "notes": list(line.notes)}


def _domain_line(row: IncentiveLine) -> dom.Line:
    return dom.Line(kader_id=row.kader_id, name=row.name, units=row.units, days_served=row.days_served,
                    days_in_month=row.days_in_month, base=row.base, prorated=row.prorated,
                    cuts=[dom.Cut(c["code"], c["amount"], c["reason"]) for c in row.reductions],
                    adjustment=row.adjustment, adjustment_reason=row.adjustment_reason or "",
                    gross=row.gross, pph21=row.pph21, bpjs=row.bpjs, net=row.net, notes=list(row.notes or []))


def _fresh_lines(batch: IncentiveBatch, policy: IncentivePolicy, home_visits=None) -> list[tuple[dom.Line, dict, int]]:
    rule = to_domain(policy)
    months, details = gather(batch.kelurahan_id, batch.month, home_visits)
    out = []
    for km in months:
        line = dom.compute_line(rule, batch.month, km, batch.pph21_bp)
        if line is not None:
            due = rule.bpjs_amount if rule.bpjs_deduction and km.bpjs_enrolled and not km.unapproved else 0
            out.append((line, details[km.kader_id], due))
    out.sort(key=lambda t: (t[1]["posyandu_name"], t[1]["name"], t[0].kader_id))
    return out


# --- batches ----------------------------------------------------------------------------------------------------

def batches(user: User, kelurahan_id: int | None = None, limit: int = 100) -> list[IncentiveBatch]:
    """Batches in the user's scope, newest month first."""
    q = (select(IncentiveBatch).where(IncentiveBatch.kelurahan_id.in_(kelurahan_ids(user)))
         .options(selectinload(IncentiveBatch.kelurahan))
         .order_by(IncentiveBatch.month.desc(), IncentiveBatch.kelurahan_id, IncentiveBatch.sequence).limit(limit))
    if kelurahan_id:
        q = q.where(IncentiveBatch.kelurahan_id == kelurahan_id)
    return list(db.session.scalars(q))


def district_of(kelurahan: Kelurahan) -> int:
    return db.session.scalar(select(Kecamatan.district_id).where(Kecamatan.id == kelurahan.kecamatan_id))


def _require(actor: User, roles) -> None:
    if actor.role not in roles:
        raise IncentiveError("role")


def compute(actor: User, kelurahan: Kelurahan, month: date, pph21_bp: int | None = None, key: str | None = None,
            home_visits=None) -> IncentiveBatch:
    """Compute the kelurahan's regular batch for the month as a draft. One per kelurahan and month: a repeated post
    (same key) or a second compute returns the batch that exists (use `recompute` to refresh a draft)."""
    _require(actor, COMPUTE)
    if (earlier := idempotency.seen(key, user_id=actor.id, entity="incentive_batch")) is not None:
        return db.session.get(IncentiveBatch, earlier.entity_id)
    month = dom.month_start(month)
    existing = db.session.scalar(select(IncentiveBatch).where(
        IncentiveBatch.kelurahan_id == kelurahan.id, IncentiveBatch.month == month, IncentiveBatch.sequence == 0))
    if existing is not None:
        return existing
    policy = policy_in_force(district_of(kelurahan), month)
    if policy is None:
        raise IncentiveError("no_policy")
    acting(db.session, actor)
    try:  # in a savepoint, as save_policy
        with db.session.begin_nested():
            batch = IncentiveBatch(kelurahan_id=kelurahan.id, month=month, sequence=0, policy_id=policy.id,
                                   pph21_bp=policy.pph21_bp if pph21_bp is None else pph21_bp, status="draft")
            db.session.add(batch)
            db.session.flush()
            _fill(actor, batch, policy, {}, home_visits)
            db.session.flush()
            idempotency.claim_for(key, actor.id, "incentive_batch", batch.id)
    except IntegrityError as e:
        twin = idempotency.twin_of(e, key, user_id=actor.id, entity="incentive_batch")
        return db.session.get(IncentiveBatch, twin)
    return batch


def _fill(actor, batch, policy, keep_adjustments: dict[int, tuple[int, str]], home_visits=None) -> None:
    fresh = _fresh_lines(batch, policy, home_visits)
    # Anyone already in another regular batch this month (her home role moved since) is left out, with a note.
    taken = dict(db.session.execute(
        select(IncentiveLine.kader_id, IncentiveLine.batch_id).where(
            IncentiveLine.regular_month == batch.month, IncentiveLine.batch_id != batch.id,
            IncentiveLine.kader_id.in_([ln.kader_id for ln, _, _ in fresh]))).all()) if fresh else {}
    skipped = []
    for pos, (line, info, due) in enumerate(fresh):
        if line.kader_id in taken:
            skipped.append(f"{info['name']} (batch #{taken[line.kader_id]})")
            continue
        if line.kader_id in keep_adjustments:
            amount, reason = keep_adjustments[line.kader_id]
            try:
                line = dom.adjust(line, amount, reason, batch.pph21_bp, due)
            except ValueError:
                line.notes.append(f"Penyesuaian {dom.rupiah(amount)} ({reason}) tidak dapat diterapkan lagi.")
        db.session.add(IncentiveLine(batch_id=batch.id, kader_id=line.kader_id, position=pos,
                                     regular_month=batch.month if batch.sequence == 0 else None,
                                     **info, **_line_values(line, due)))
    batch.note = ("Sudah masuk batch lain bulan ini: " + "; ".join(skipped)) if skipped else None
    batch.computed_at = utcnow()
    _prepared(actor, batch)


def recompute(actor: User, batch: IncentiveBatch, home_visits=None) -> IncentiveBatch:
    """Recompute a draft: the snapshots of the months approved by now (a month approved since the last compute
    pays its held kader), the months still open held; manual adjustments are re-applied."""
    _require(actor, COMPUTE)
    if batch.status != "draft" or batch.sequence != 0:
        raise IncentiveError("state")
    acting(db.session, actor)
    keep = {ln.kader_id: (ln.adjustment, ln.adjustment_reason or "") for ln in batch.lines if ln.adjustment}
    policy = policy_in_force(district_of(batch.kelurahan), batch.month)
    if policy is None:
        raise IncentiveError("no_policy")
    batch.policy_id = policy.id
    for ln in list(batch.lines):
        db.session.delete(ln)
    db.session.flush()
    db.session.expire(batch, ["lines"])
    _fill(actor, batch, policy, keep, home_visits)
    db.session.flush()
    return batch


def adjust_line(actor: User, line: IncentiveLine, amount: int, reason: str) -> IncentiveLine:
    """Set a line's adjustment (signed whole Rupiah) with its reason; tax, BPJS and net follow."""
    _require(actor, COMPUTE)
    if line.batch.status != "draft":
        raise IncentiveError("state")
    if line.prorated < 0:
        raise IncentiveError("recovery")  # a recovery line of a correction is what it is
    try:
        new = dom.adjust(_domain_line(line), amount, reason or "", line.batch.pph21_bp, line.bpjs_due)
    except ValueError as e:
        raise IncentiveError("reason" if "reason" in str(e) else "negative") from e
    acting(db.session, actor)
    for k, v in _line_values(new, line.bpjs_due).items():
        setattr(line, k, v)
    _prepared(actor, line.batch)
    db.session.flush()
    return line


def _prepared(actor: User, batch: IncentiveBatch) -> None:
    """Note the actor as a preparer of the batch (once each, also when two of her posts race)."""
    batch.prepared_by_id = actor.id
    t = IncentivePreparer.__table__
    dialect = db.session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(t)
    db.session.execute(ins.values(batch_id=batch.id, user_id=actor.id, at=utcnow())
                       .on_conflict_do_nothing(index_elements=[t.c.batch_id, t.c.user_id]))


def preparer_ids(batch: IncentiveBatch) -> set[int]:
    """Who computed, recomputed or adjusted the batch since its last approval."""
    return set(db.session.scalars(select(IncentivePreparer.user_id).where(IncentivePreparer.batch_id == batch.id)))


def may_approve(user: User, batch: IncentiveBatch) -> bool:
    """Whether the approve step is hers to take: a district admin, a draft, and none of its preparers."""
    return (user.role in APPROVE and batch.status == "draft" and user.id != batch.prepared_by_id
            and user.id not in preparer_ids(batch))


def approve(actor: User, batch: IncentiveBatch) -> None:
    """Approve a draft: a district admin who did not prepare it."""
    _require(actor, APPROVE)
    if batch.status != "draft":
        raise IncentiveError("state")
    if batch.prepared_by_id == actor.id or actor.id in preparer_ids(batch):
        raise IncentiveError("same_person")
    if not batch.lines:
        raise IncentiveError("empty")
    acting(db.session, actor)
    batch.status, batch.approved_at, batch.approved_by_id = "approved", utcnow(), actor.id
    # Approved: whoever prepares it after a reopening is counted afresh.
    db.session.execute(delete(IncentivePreparer).where(IncentivePreparer.batch_id == batch.id))
    db.session.flush()


def reopen(actor: User, batch: IncentiveBatch) -> None:
    """Send an approved batch back to draft (before payment only)."""
    _require(actor, APPROVE)
    if batch.status != "approved":
        raise IncentiveError("state")
    acting(db.session, actor)
    batch.status, batch.approved_at, batch.approved_by_id = "draft", None, None
    db.session.flush()


def mark_paid(actor: User, batch: IncentiveBatch, paid_on: date, reference: str) -> None:
    """Record the payment of an approved batch. From now on the batch and its lines never change."""
    _require(actor, COMPUTE)
    if batch.status != "approved":
        raise IncentiveError("state")
    acting(db.session, actor)
    batch.status, batch.paid_at, batch.paid_on, batch.paid_by_id = "paid", utcnow(), paid_on, actor.id
    batch.payment_reference = reference
    db.session.flush()


def correct(actor: User, batch: IncentiveBatch, key: str | None = None, home_visits=None) -> IncentiveBatch:
    """A correction of a paid month: a new adjusting batch whose lines are today's figures minus everything already
    paid for the kelurahan and month (negative = to recover). An open correction is returned rather than doubled."""
    _require(actor, COMPUTE)
    if (earlier := idempotency.seen(key, user_id=actor.id, entity="incentive_batch")) is not None:
        return db.session.get(IncentiveBatch, earlier.entity_id)
    if batch.status != "paid":
        raise IncentiveError("state")
    same = list(db.session.scalars(select(IncentiveBatch).where(
        IncentiveBatch.kelurahan_id == batch.kelurahan_id, IncentiveBatch.month == batch.month)))
    open_ = next((b for b in same if b.status != "paid"), None)
    if open_ is not None:
        return open_
    regular = next(b for b in same if b.sequence == 0)
    policy = policy_in_force(district_of(batch.kelurahan), batch.month)
    paid: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    info: dict[int, dict] = {}
    for ln in db.session.scalars(select(IncentiveLine).where(IncentiveLine.batch_id.in_([b.id for b in same]))):
        acc = paid[ln.kader_id]
        acc[0], acc[1], acc[2] = acc[0] + ln.gross, acc[1] + ln.pph21, acc[2] + ln.bpjs
        info.setdefault(ln.kader_id, {k: getattr(ln, k) for k in ("name", "nik", "posyandu_name", "roles_text",
                                                                  "bank_name", "bank_account",
                                                                  "bank_account_holder")})
    probe = IncentiveBatch(kelurahan_id=batch.kelurahan_id, month=batch.month, pph21_bp=regular.pph21_bp)
    now = {}
    for line, details, _ in _fresh_lines(probe, policy, home_visits):
        now[line.kader_id] = (line.gross, line.pph21, line.bpjs)
        info[line.kader_id] = details
    changes = dom.deltas({k: tuple(v) for k, v in paid.items()}, now)
    if not changes:
        raise IncentiveError("no_difference")
    acting(db.session, actor)
    try:  # in a savepoint, as save_policy
        with db.session.begin_nested():
            return _correction(actor, batch, regular, same, policy, changes, info, key)
    except IntegrityError as e:
        twin = idempotency.twin_of(e, key, user_id=actor.id, entity="incentive_batch")
        return db.session.get(IncentiveBatch, twin)


def _correction(actor, batch, regular, same, policy, changes, info, key) -> IncentiveBatch:
    adj = IncentiveBatch(kelurahan_id=batch.kelurahan_id, month=batch.month,
                         sequence=max(b.sequence for b in same) + 1, corrects_id=regular.id, policy_id=policy.id,
                         pph21_bp=regular.pph21_bp, status="draft", computed_at=utcnow(), prepared_by_id=actor.id,
                         note=f"Koreksi atas batch #{regular.id}")
    db.session.add(adj)
    db.session.flush()
    _prepared(actor, adj)
    dim = dom.days_in_month(batch.month)
    for pos, d in enumerate(sorted(changes, key=lambda d: (info[d.kader_id]["posyandu_name"],
                                                           info[d.kader_id]["name"]))):
        note = "Kekurangan bayar" if d.gross > 0 else "Kelebihan bayar (dikembalikan)" if d.gross < 0 else "Selisih potongan"
        db.session.add(IncentiveLine(
            batch_id=adj.id, kader_id=d.kader_id, position=pos, regular_month=None, **info[d.kader_id],
            units=1, days_served=0, days_in_month=dim, base=0, prorated=d.gross, reductions=[], reductions_total=0,
            adjustment=0, gross=d.gross, pph21=d.pph21, bpjs_due=max(d.bpjs, 0), bpjs=d.bpjs, net=d.net,
            notes=[f"{note} atas batch #{regular.id}."]))
    db.session.flush()
    idempotency.claim_for(key, actor.id, "incentive_batch", adj.id)
    return adj


def batch_totals(batch: IncentiveBatch) -> dict[str, int]:
    """Totals of a batch: the sums of its lines."""
    return dom.totals(batch.lines)


def delete_draft(actor: User, batch: IncentiveBatch) -> None:
    """Throw away a draft (e.g. computed for the wrong month)."""
    _require(actor, COMPUTE)
    if batch.status != "draft":
        raise IncentiveError("state")
    acting(db.session, actor)
    for ln in list(batch.lines):  # one by one, so each deletion is audited
        db.session.delete(ln)
    db.session.execute(delete(IncentivePreparer).where(IncentivePreparer.batch_id == batch.id))
    db.session.flush()
    db.session.delete(batch)
    db.session.flush()


# --- documents --------------------------------------------------------------------------------------------------

LINE_KEYS = ("position", "name", "nik", "roles_text", "posyandu_name", "units", "days_served", "days_in_month",
             "base", "prorated", "reductions", "reductions_total", "adjustment", "adjustment_reason", "gross",
             "pph21", "bpjs", "net", "notes", "bank_name", "bank_account", "bank_account_holder")


def long_date(d: date) -> str:
    return f"{d.day} {dom.month_name(d)}"


def batch_number(batch: IncentiveBatch) -> str:
    kel = batch.kelurahan
    district = kel.kecamatan.district
    suffix = f"-K{batch.sequence}" if batch.sequence else ""
    return f"INS/{district.code or district.id}/{kel.code or kel.id}/{batch.month:%Y-%m}/{batch.id:05d}{suffix}"


def rate_text(bp: int) -> str:
    """250 → '2,5%'."""
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if not frac else f"{whole},{frac:02d}".rstrip("0") + "%"


def document_data(batch: IncentiveBatch, on: date | None = None, preparer: str | None = None) -> dict:
    """Everything the slips, the daftar penerimaan, the kuitansi and the exports print, as plain data."""
    kel = batch.kelurahan
    district = kel.kecamatan.district
    place = district.place
    kind = "Desa" if kel.kind == "desa" else "Kelurahan"
    head = "Kepala Desa" if kel.kind == "desa" else "Lurah"
    lines = [{k: getattr(ln, k) for k in LINE_KEYS} for ln in batch.lines]
    return {
        "district": district.name, "kecamatan": kel.kecamatan.name, "kelurahan": kel.name, "kelurahan_kind": kind,
        "month": dom.month_name(batch.month), "month_code": f"{batch.month:%Y-%m}",
        "funding_source": batch.policy.funding_source, "legal_basis": batch.policy.legal_basis,
        "doc_header": district.document_header(batch.policy.funding_source),
        "pph21_rate": rate_text(batch.pph21_bp), "batch_number": batch_number(batch), "status": batch.status,
        "correction_of": batch_number(batch.corrects) if batch.corrects else None,
        "place_date": f"{place}, {long_date(on or batch.paid_on or date.today())}",
        "signers": {"lurah": {"title": f"{head} {kel.name}", "name": "", "id_label": "NIP. ........................"},
                    "bendahara": {"title": f"Bendahara {kind} {kel.name}", "name": "",
                                  "id_label": "NIP. ........................"},
                    "clerk": {"title": "Yang membuat daftar", "name": preparer or "", "id_label": ""},
                    "receiver": {"title": "Penerima / koordinator kader", "name": ""}},
        "lines": lines, "totals": dom.totals(batch.lines),
    }
