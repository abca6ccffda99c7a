"""The laptop's side: send what is pending, record each answer, take the district's records of the scope.

A record is marked synced only when its answer came back *and* it was not edited meanwhile (its change id is
still the one sent), so a run cut at any point is finished by the next one without loss or duplicates."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..database import writing
from ..extensions import db
from ..models import (CommitmentTemplate, District, Kader, KaderRole, KaderSigner, KbmTable, Kecamatan, Kelurahan,
                      Posyandu, PosyanduMonth, Puskesmas, SyncMeta, SyncState, User)
from ..models.roster import ImmutableRecord
from ..models.base import utcnow
from ..services import audit
from . import records
from .protocol import MAX_CHANGES, PULL_LIMIT
from .tracking import APPLYING


@dataclass
class Report:
    pushed: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)  # (entity, uuid, status, code, message)
    pulled: int = 0
    skipped_pending: int = 0
    waiting: list = field(default_factory=list)  # pulled records whose parent comes later in the pull
    skipped: int = 0
    stage: str = "push"  # where a run is (or was cut): push, pull, done
    flags: list = field(default_factory=list)  # (entity, uuid sent, code, server's uuid): applied, and flagged


def meta(key: str, default: str | None = None) -> str | None:
    row = db.session.get(SyncMeta, key)
    return row.value if row is not None else default


def set_meta(key: str, value: str) -> None:
    row = db.session.get(SyncMeta, key)
    if row is None:
        db.session.add(SyncMeta(key=key, value=value))
    else:
        row.value = value


def _order(state: SyncState) -> tuple:
    return records.ORDER.index(state.entity) if state.entity in records.ORDER else 99, state.id


def change_of(state: SyncState) -> dict | None:
    """The change record of a pending record (None when the record is gone)."""
    model = records.SPEC[state.entity][0]
    obj = db.session.scalar(select(model).where(model.uuid == state.uuid))
    if obj is None:
        return None
    change = {"id": state.change_id, "entity": state.entity, "uuid": state.uuid, "base": state.base_seq,
              "at": state.device_time.isoformat(timespec="seconds"), "data": records.to_data(state.entity, obj)}
    if state.changed and state.base_seq:
        change["changed"] = state.changed
    return change


def push(transport, report: Report) -> None:
    """Send every pending record in batches (parents first), and record each answer."""
    sent: set[int] = set()
    while True:
        states = sorted((s for s in db.session.scalars(select(SyncState).where(SyncState.state == "pending"))
                         if s.id not in sent), key=_order)[:MAX_CHANGES]
        if not states:
            db.session.commit()
            return
        changes, by_id = [], {}
        for s in states:
            sent.add(s.id)
            change = change_of(s)
            if change is not None:
                changes.append(change)
                by_id[s.change_id] = s
        db.session.commit()  # no transaction (and on SQLite no lock) held while the request is on the wire
        if not changes:
            continue
        answer = transport.call("POST", "/push", {"changes": changes})
        with writing():
            _record(answer.get("results", []), by_id, report)


def _record(results: list, by_id: dict, report: Report) -> None:
    db.session.info[APPLYING] = True  # adopting the server's UUID is not a change to send back
    try:
        for r in results:
            state = by_id.get(r.get("id"))
            if state is None:
                continue
            status = r.get("status")
            report.pushed[status] += 1
            same = (SyncState.id == state.id) & (SyncState.change_id == state.change_id)
            if status in ("applied", "duplicate"):
                server_uuid = r.get("uuid") or state.uuid
                if r.get("code"):  # applied, and flagged on the district for a look (same_nik)
                    report.flags.append((state.entity, state.uuid, r["code"], server_uuid))
                if server_uuid != state.uuid:
                    _adopt(state, server_uuid, r.get("code"))
                db.session.execute(update(SyncState).where(same).values(
                    state="synced", base_seq=r.get("seq") or 0, changed=None, code=r.get("code"), message=None))
            else:
                report.problems.append((state.entity, state.uuid, status, r.get("code"), r.get("message")))
                conflict_seq = {"base_seq": r["seq"]} if status == "conflict" and r.get("seq") else {}
                db.session.execute(update(SyncState).where(same).values(
                    **conflict_seq, state=status if status in ("conflict", "refused") else "refused", code=r.get("code"),
                    message=(r.get("message") or "")[:300] or None))
        db.session.commit()
    finally:
        db.session.info.pop(APPLYING, None)


def _adopt(state: SyncState, server_uuid: str, code: str | None) -> None:
    """The district held this record under its own UUID (the same hari buka opened on both sides, a NIK
    registered elsewhere first): the laptop's record takes that UUID, and the audit trail says so."""
    model, own = records.SPEC[state.entity][0], state.uuid
    local_id = db.session.scalar(select(model.id).where(model.uuid == own))
    db.session.execute(update(model).where(model.uuid == own).values(uuid=server_uuid))
    db.session.execute(update(SyncState).where(SyncState.id == state.id).values(uuid=server_uuid))
    if local_id is not None and getattr(model, "__audited__", False):
        audit.acting(db.session, None)  # the sync did it, no user
        audit.record(db.session, "update", model.__tablename__, local_id,
                     {"uuid": [own, server_uuid], "adopted": code or "same_record"})


TREE = (("district", District), ("kecamatan", Kecamatan), ("puskesmas", Puskesmas), ("kelurahan", Kelurahan),
        ("posyandu", Posyandu), ("kader", Kader), ("kader_role", KaderRole))


def _local_id(model, uuid):
    return db.session.scalar(select(model.id).where(model.uuid == uuid)) if uuid else None


def _target(model, column):
    fk = next(iter(model.__table__.c[column].foreign_keys), None)
    return next(m.class_ for m in db.Model.registry.mappers if m.local_table is fk.column.table) if fk else None


def _apply_row(model, data: dict) -> None:
    values = {}
    for key, value in data.items():
        if key not in model.__table__.c:
            continue
        target = _target(model, key)
        if target is not None:
            value = _local_id(target, value)
        elif value is not None:
            kind = records._column_type(model, key)
            if kind.__name__ in ("date", "datetime"):
                value = kind.fromisoformat(value)
        values[key] = value
    obj = db.session.scalar(select(model).where(model.uuid == data["uuid"]))
    if obj is None:
        db.session.add(model(**values))
    else:
        for key, value in values.items():
            setattr(obj, key, value)
    db.session.flush()


def apply_reference(ref: dict) -> None:
    """The org tree, kader and accounts of the scope, as the district holds them."""
    for name, model in TREE:
        for data in ref.get(name, []):
            _apply_row(model, data)
    district_id = _local_id(District, ref["district"][0]["uuid"])
    for data in ref.get("user", []):
        user = db.session.scalar(select(User).where(User.username == data["username"]))
        if user is None:
            user = User(username=data["username"])
            db.session.add(user)
        for k in ("display_name", "role", "password_hash", "locale", "active"):
            setattr(user, k, data.get(k))
        user.district_id = district_id
        user.posyandu_id = _local_id(Posyandu, data.get("posyandu"))
        user.kelurahan_id = _local_id(Kelurahan, data.get("kelurahan"))
        user.puskesmas_id = _local_id(Puskesmas, data.get("puskesmas"))
    db.session.flush()
    apply_settings(ref, district_id)


def thaw_months() -> list[int]:
    """Within a pull's transaction, the scope's approved months are opened: the district's records of a month it
    approved (or reopened, corrected and approved again) are its own, and come in. `set_months` (or
    `refreeze`) closes them again before the commit, so no one ever sees them open."""
    held = list(db.session.scalars(select(PosyanduMonth.id).where(PosyanduMonth.state == "approved")))
    if held:
        db.session.execute(update(PosyanduMonth).where(PosyanduMonth.id.in_(held)).values(state="open"))
    return held


def refreeze(held: list[int]) -> None:
    if held:
        db.session.execute(update(PosyanduMonth).where(PosyanduMonth.id.in_(held)).values(state="approved"))


def set_months(ref: dict) -> None:
    """The state of the scope's months as the district holds them (one not listed is open)."""
    from datetime import date

    pos_ids = [p for p in (_local_id(Posyandu, d["uuid"]) for d in ref.get("posyandu", [])) if p]
    states = {(_local_id(Posyandu, d["posyandu"]), date.fromisoformat(d["month"])): d["state"]
              for d in ref["month"]}
    for row in db.session.scalars(select(PosyanduMonth).where(PosyanduMonth.posyandu_id.in_(pos_ids))):
        row.state = states.pop((row.posyandu_id, row.month), "open")
    for (posyandu_id, month), state in states.items():
        if posyandu_id is not None:
            db.session.add(PosyanduMonth(posyandu_id=posyandu_id, month=month, state=state))
    db.session.flush()


def apply_settings(ref: dict, district_id: int) -> None:
    """The district's KBM versions and commitment texts, the kader's signing PINs, the state of the months."""
    from datetime import date

    for data in ref.get("kbm", []):
        owner = district_id if data["district"] else None
        valid_from = date.fromisoformat(data["valid_from"])
        row = db.session.scalar(select(KbmTable).where(KbmTable.district_id.is_(owner) if owner is None else
                                                       KbmTable.district_id == owner, KbmTable.name == data["name"],
                                                       KbmTable.valid_from == valid_from))
        if row is None:
            db.session.add(KbmTable(district_id=owner, name=data["name"], valid_from=valid_from, grams=data["grams"]))
        elif row.grams != data["grams"]:
            row.grams = data["grams"]
    for data in ref.get("commitment_template", []):
        if _local_id(CommitmentTemplate, data["uuid"]) is None:  # a text version never changes once published
            _apply_row(CommitmentTemplate, data)
    for data in ref.get("kader_signer", []):
        kader_id = _local_id(Kader, data["kader"])
        if kader_id is None:
            continue
        row = db.session.scalar(select(KaderSigner).where(KaderSigner.kader_id == kader_id))
        if row is None:
            row = KaderSigner(kader_id=kader_id)
            db.session.add(row)
        row.pin_hash, row.pin_self_set = data["pin_hash"], bool(data["pin_self_set"])
        row.pin_set_at = datetime.fromisoformat(data["pin_set_at"]) if data.get("pin_set_at") else None
        row.user_id = db.session.scalar(select(User.id).where(User.username == data["user"])) if data.get(
            "user") else None
    db.session.flush()


class Ids(dict):
    """Local ids by (model, UUID), remembered for one pull page (a page names the same parents again and again)."""

    def of(self, model, uuid):
        if not uuid:
            return None
        key = (model, uuid)
        if key not in self:
            self[key] = _local_id(model, uuid)
        return self[key]


def _stage(rec: dict, report: Report, last_try: bool, ids: Ids, states: dict | None):
    """Put one pulled record into the session (unflushed); None when it is skipped or must wait."""
    entity, uuid = rec["entity"], rec["uuid"]
    model, refs, _fields, _extra = records.SPEC[entity]
    if states is not None:
        state = states.get((entity, uuid))
    else:
        state = db.session.scalar(select(SyncState).where(SyncState.entity == entity, SyncState.uuid == uuid))
    if state is not None and state.state == "pending":  # never overwrite a local change not yet sent
        report.skipped_pending += 1
        return None
    data = rec["data"]
    local = {column: ids.of(target, data.get(key)) for key, (column, target) in refs.items()}
    if any(data.get(key) and local[column] is None for key, (column, _t) in refs.items()):
        if not last_try:  # its parent changed later, so it comes later in the pull: try again at the end
            report.waiting.append(rec)
            return None
    known = ids.get((model, uuid), True)
    obj = db.session.scalar(select(model).where(model.uuid == uuid)) if known is not None else None
    if obj is None:
        obj = model(uuid=uuid)
        db.session.add(obj)
    for column, value in local.items():
        setattr(obj, column, value)
    for key, column in records.USERS.get(entity, {}).items():
        setattr(obj, column, records.user_id(data.get(key)))
    for k, v in records.parse(entity, data, derived=True).items():
        setattr(obj, k, v)
    if state is None:
        db.session.add(SyncState(entity=entity, uuid=uuid, state="synced", change_id="", base_seq=rec["seq"]))
    elif state.state == "conflict" and rec["seq"] <= state.base_seq:
        # the version the change conflicted with: the district's value stands until the case is decided there,
        # and the flag stays (a later version — the decision — clears it below)
        state.changed = None
    else:
        state.state, state.base_seq, state.code, state.message = "synced", rec["seq"], None, None
    return obj


def _apply_record(rec: dict, report: Report, last_try: bool = False, ids: Ids | None = None,
                  states: dict | None = None) -> None:
    """One pulled record in its own savepoint (a failure skips it alone)."""
    ids = Ids() if ids is None else ids
    trial = Report()
    try:
        with db.session.begin_nested():
            with db.session.no_autoflush:
                obj = _stage(rec, trial, last_try, ids, states)
            db.session.flush()
    except (IntegrityError, ImmutableRecord):  # a parent outside the scope (a visitor from another Posyandu), a
        report.skipped += 1  # local twin, or a signed record the laptop holds otherwise
        return
    report.skipped_pending += trial.skipped_pending
    report.waiting += trial.waiting
    if obj is not None:
        ids[(type(obj), rec["uuid"])] = obj.id
        report.pulled += 1


def _prefetch(page: list) -> tuple[Ids, dict]:
    """The local ids of the page's records that exist here, and their sync states: two lookups per kind."""
    states = {(s.entity, s.uuid): s for i in range(0, len(page), 500) for s in db.session.scalars(
        select(SyncState).where(SyncState.uuid.in_([r["uuid"] for r in page[i:i + 500]])))}
    ids = Ids()
    for model in {records.SPEC[r["entity"]][0] for r in page}:
        uuids = [r["uuid"] for r in page if records.SPEC[r["entity"]][0] is model]
        for i in range(0, len(uuids), 500):
            found = dict(db.session.execute(select(model.uuid, model.id).where(model.uuid.in_(uuids[i:i + 500]))).all())
            ids.update({(model, u): found.get(u) for u in uuids[i:i + 500]})
    return ids, states


def _apply_page(page: list, report: Report, ids: Ids, states: dict, last_try: bool = False) -> None:
    """A pull page, parents first, one flush per kind of record; a kind whose flush fails goes one by one."""
    for entity in records.ORDER:
        group = [r for r in page if r["entity"] == entity]
        if not group:
            continue
        trial, staged = Report(), []
        try:
            with db.session.begin_nested():
                with db.session.no_autoflush:
                    for rec in group:
                        obj = _stage(rec, trial, last_try, ids, states)
                        if obj is not None:
                            staged.append((rec["uuid"], obj))
                db.session.flush()
        except (IntegrityError, ImmutableRecord):
            for rec in group:
                _apply_record(rec, report, last_try=last_try, ids=ids, states=states)
            continue
        report.skipped_pending += trial.skipped_pending
        report.waiting += trial.waiting
        report.pulled += len(staged)
        for uuid, obj in staged:
            ids[(type(obj), uuid)] = obj.id


def pull(transport, report: Report) -> None:
    """Take the scope's records above the cursor, page by page; each page and its cursor in one transaction."""
    since = int(meta("pull_seq", "0"))
    while True:
        answer = transport.call("GET", f"/pull?since={since}&limit={PULL_LIMIT}&ref={meta('ref', '')}")
        since = take_page(answer, report)
        if not answer.get("more"):
            return


def take_page(answer: dict, report: Report) -> int:
    """One pull page (from the wire or from a bundle) and the cursor it reaches, in one transaction; the cursor."""
    with writing():
        db.session.info[APPLYING] = True
        try:
            held = thaw_months()
            if "reference" in answer:
                apply_reference(answer["reference"])
                set_meta("ref", answer["ref"])
            page = [r for r in answer.get("records", []) if r.get("entity") in records.SPEC]
            _apply_page(page, report, *_prefetch(page))
            if not answer.get("more"):  # what waited for a parent that came later: now, in one go
                waiting, report.waiting = report.waiting, []
                _apply_page(waiting, report, *_prefetch(waiting), last_try=True)
            if "month" in answer.get("reference", {}):
                set_months(answer["reference"])
            else:
                refreeze(held)
            since = answer["seq"]
            # The stored cursor never passes a record still waiting in memory: a run cut now pulls it again.
            kept = min([r["seq"] - 1 for r in report.waiting] + [since])
            set_meta("pull_seq", str(max(kept, int(meta("pull_seq", "0")))))
            db.session.commit()
        finally:
            db.session.info.pop(APPLYING, None)
    return since


def run(transport, report: Report | None = None) -> Report:
    """Push, then pull (docs/sync.md); the last success is kept for the status. A caller that passes `report`
    still has what was done when the run is cut (the laptop's Sinkronkan page says it)."""
    report = Report() if report is None else report
    push(transport, report)
    report.stage = "pull"
    pull(transport, report)
    report.stage = "done"
    with writing():
        set_meta("last_success", utcnow().isoformat(timespec="seconds"))
        db.session.commit()
    return report


def status() -> dict:
    """Changes waiting, conflicts and refusals, the last success: what the laptop tells its user."""
    counts = Counter(db.session.scalars(select(SyncState.state)))
    return {"pending": counts["pending"], "conflict": counts["conflict"], "refused": counts["refused"],
            "synced": counts["synced"], "last_success": meta("last_success"), "cursor": int(meta("pull_seq", "0"))}
