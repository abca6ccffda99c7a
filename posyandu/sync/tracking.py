"""Who changed what, for the sync: flush and commit listeners.

On the district server every committed change of a synced record gets the next numbers of the server sequence
(`sync_row`), taken in `before_commit`. No transaction may commit a lower number after a pull has read a higher
one (the "changed since" trap of CHT). On SQLite one counter row is the sequence (one writer at a time anyway).
On PostgreSQL a SEQUENCE hands out the numbers under a *shared* advisory lock held to the end of the commit, so
writers never wait for each other; a pull first takes that lock *exclusively* for an instant (`horizon`): every
commit holding a number up to the sequence's value then has finished, so the pull reads only up to there
(docs/sync.md, "The server sequence"). On a laptop (`SYNC_LAPTOP`) every local change of a synced record marks it
pending in `sync_state` with a fresh change id, and keeps the first old value of each changed person field.
"""
import uuid as uuidlib

from flask import current_app, has_app_context
from sqlalchemy import case, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import (Commitment, Duty, HariBuka, HomeVisit, Measurement, Person, PersonTransfer, Pregnancy,
                      ScreeningRecord, ServiceRecord, SyncCounter, SyncRow, SyncState, Visit)
from ..models.base import utcnow

ENTITIES = {"person": Person, "pregnancy": Pregnancy, "hari_buka": HariBuka, "duty": Duty, "visit": Visit,
            "measurement": Measurement, "service": ServiceRecord, "screening": ScreeningRecord,
            "home_visit": HomeVisit, "commitment": Commitment, "transfer": PersonTransfer}
NAME_OF = {model: name for name, model in ENTITIES.items()}
TOUCHED = "sync_touched"
ORIGIN = "sync_origin"  # (device id, {(entity, uuid)}): the records a push applied as the device sent them
APPLYING = "sync_applying"  # set while a pull writes: those changes came from the server, not from here
PERSON_FIELDS_TRACKED = "person"


def is_laptop() -> bool:
    return has_app_context() and bool(current_app.config.get("SYNC_LAPTOP"))


def posyandu_of(session, obj) -> int | None:
    """The Posyandu a synced record belongs to (the scope a pull filters on)."""
    if isinstance(obj, (Person, HariBuka, Measurement, HomeVisit, Commitment)):
        return obj.posyandu_id
    if isinstance(obj, PersonTransfer):  # the receiving Posyandu asked for it
        return obj.to_posyandu_id
    if isinstance(obj, (Duty, Visit)):
        hb = session.get(HariBuka, obj.hari_buka_id)
        return hb.posyandu_id if hb is not None else None
    person = session.get(Person, obj.person_id)
    return person.posyandu_id if person is not None else None


def _insert(session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    changed = [(o, "new") for o in session.new] + [(o, "dirty") for o in session.dirty] + \
              [(o, "deleted") for o in session.deleted]
    changed = [(o, how) for o, how in changed if type(o) in NAME_OF]
    if not changed:
        return
    laptop = is_laptop()
    with session.no_autoflush:
        if not laptop:
            touched = session.info.setdefault(TOUCHED, {})
            for obj, how in changed:
                if how != "dirty" or session.is_modified(obj, include_collections=False):
                    _touch(session, touched, obj)
                    if how == "dirty" and isinstance(obj, Person):
                        _moved(session, touched, obj)
        elif not session.info.get(APPLYING):
            _mark_pending(session, changed)


PERSONAL = (Pregnancy, Visit, Measurement, ServiceRecord, ScreeningRecord, HomeVisit)  # a person's history


def _put(touched: dict, key: tuple, place: int | None, also: int | None) -> None:
    old = touched.get(key)
    touched[key] = (place, also if also is not None or old is None else old[1])


def _touch(session, touched: dict, obj) -> None:
    """Server: the record is numbered for its Posyandu and, when her person is another Posyandu's (a visitor, a
    person who moved in), for hers too, with the hari buka a visit needs as its parent."""
    place, also = posyandu_of(session, obj), None
    if isinstance(obj, PERSONAL):
        person = session.get(Person, obj.person_id)
        also = person.posyandu_id if person is not None and person.posyandu_id != place else None
    elif isinstance(obj, PersonTransfer):  # the sending Posyandu sees the request too
        also = obj.from_posyandu_id if obj.from_posyandu_id != place else None
    _put(touched, (NAME_OF[type(obj)], obj.uuid), place, also)
    if isinstance(obj, Visit) and also is not None:
        hb = session.get(HariBuka, obj.hari_buka_id)
        if hb is not None:
            _put(touched, ("hari_buka", hb.uuid), hb.posyandu_id, also)


def touch(session, obj) -> None:
    """Server: number a synced record in this transaction even when none of its columns changed (a conflict
    decided in favour of the server's values is still news for the laptop that holds the other values)."""
    _touch(session, session.info.setdefault(TOUCHED, {}), obj)


def _moved(session, touched: dict, person) -> None:
    """Server: a person moved to another Posyandu (a transfer approved, a merge): her whole history is numbered
    again so the new Posyandu's laptop pulls it (meja 3's growth line, the immunisation due list), and the old
    Posyandu's laptop hears that she left."""
    hist = inspect(person).attrs.posyandu_id.history
    before = hist.deleted[0] if hist.deleted else None
    if before is None or before == person.posyandu_id:
        return
    touched[("person", person.uuid)] = (person.posyandu_id, before)
    for model in PERSONAL:
        for row in session.scalars(select(model).where(model.person_id == person.id)):
            _touch(session, touched, row)


OLD = "sync_old"


@event.listens_for(Session, "before_flush")
def _remember_old(session, flush_context, instances):
    """Laptop: the stored values of a person's fields about to change (an expired attribute has no history of
    its old value, so it is read from the database before the flush writes over it)."""
    if not is_laptop() or session.info.get(APPLYING):
        return
    for obj in session.dirty:
        if not isinstance(obj, Person) or obj.id is None:
            continue
        state = inspect(obj)
        names = [a.key for a in state.mapper.column_attrs if a.key not in ("updated_at", "updated_by_id")
                 and state.attrs[a.key].history.has_changes()]
        if not names:
            continue
        with session.no_autoflush:
            row = session.execute(select(*[Person.__table__.c[n] for n in names])
                                  .where(Person.id == obj.id)).first()
        if row is not None:
            session.info.setdefault(OLD, {})[obj.uuid] = {
                n: (v.isoformat() if hasattr(v, "isoformat") else v) for n, v in zip(names, row)}


def _old_values(session, obj) -> dict:
    return session.info.get(OLD, {}).pop(obj.uuid, {})


LOCAL_ONLY = {"version", "updated_at", "updated_by_id"}  # a hari buka's poll counter is not news for the district


def _synced_change(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[a.key].history.has_changes() for a in state.mapper.column_attrs
               if a.key not in LOCAL_ONLY)


def _mark_pending(session, changed) -> None:
    """Laptop: each changed record is pending again, under a new change id (its base version is kept)."""
    conn = session.connection()
    for obj, how in changed:
        if how == "dirty" and not _synced_change(obj):
            continue
        entity = NAME_OF[type(obj)]
        row = conn.execute(select(SyncState.id, SyncState.changed).where(
            SyncState.entity == entity, SyncState.uuid == obj.uuid)).first()
        olds = _old_values(session, obj) if how == "dirty" and entity == PERSON_FIELDS_TRACKED else {}
        if row is None:
            conn.execute(SyncState.__table__.insert().values(
                entity=entity, uuid=obj.uuid, state="pending", change_id=str(uuidlib.uuid4()), base_seq=0,
                changed=olds or None, device_time=utcnow()))
        else:
            merged = dict(row.changed or {})
            for k, v in olds.items():
                merged.setdefault(k, v)
            conn.execute(update(SyncState).where(SyncState.id == row.id).values(
                state="pending", change_id=str(uuidlib.uuid4()), changed=merged or None, code=None, message=None,
                device_time=utcnow()))


@event.listens_for(Session, "before_commit")
def _number(session):
    """Server: give every record changed in this transaction the next sequence numbers, at commit time."""
    if session.in_nested_transaction() or is_laptop():
        return
    session.flush()
    touched = session.info.pop(TOUCHED, None)
    if not touched:
        return
    conn = session.connection()
    numbers = _numbers(conn, len(touched))
    device_id, pushed = session.info.get(ORIGIN) or (None, set())
    rows = [{"entity": e, "uuid": u, "posyandu_id": p, "also_posyandu_id": a, "seq": numbers[i],
             "origin_device_id": device_id if (e, u) in pushed else None}
            for i, ((e, u), (p, a)) in enumerate(sorted(touched.items(), key=lambda kv: _ORDER[kv[0][0]]))]
    ins = _insert(session)(SyncRow.__table__)
    conn.execute(ins.on_conflict_do_update(index_elements=["entity", "uuid"],
                                           set_={"seq": ins.excluded.seq, "posyandu_id": ins.excluded.posyandu_id,
                                                 # a hari buka keeps the Posyandu of a visitor it was numbered
                                                 # for (her laptop may not have pulled it yet)
                                                 "also_posyandu_id": case(
                                                     (ins.excluded.entity == "hari_buka", func.coalesce(
                                                         ins.excluded.also_posyandu_id,
                                                         SyncRow.__table__.c.also_posyandu_id)),
                                                     else_=ins.excluded.also_posyandu_id),
                                                 "origin_device_id": ins.excluded.origin_device_id}),
                 rows)


_ORDER = {name: i for i, name in enumerate(ENTITIES)}
SEQ_LOCK = 0x73796E63  # "sync": the advisory lock key of the server sequence on PostgreSQL


def _numbers(conn, n: int) -> list[int]:
    """The next n numbers of the server sequence, for a transaction about to commit."""
    if conn.dialect.name == "postgresql":
        # shared: other writers take it too and never wait; held until this commit has finished
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": SEQ_LOCK})
        return list(conn.scalars(text("SELECT nextval('sync_seq') FROM generate_series(1, :n) AS g ORDER BY 1"),
                                 {"n": n}))
    conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value + n))
    top = conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
    return list(range(top - n + 1, top + 1))


def horizon(session) -> int:
    """The number up to which a pull may read: every transaction holding a number up to it has finished."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)) or 0
    # Exclusive for an instant: waits for the commits in flight (each holds the lock shared from taking its numbers
    # to its end), then reads the sequence. Taken in a savepoint rolled back at once, so it is released even if a
    # statement fails, and the rest of the pull holds nothing.
    savepoint = session.begin_nested()
    try:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQ_LOCK})
        return int(conn.scalar(text("SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                                    "FROM sync_seq")))
    finally:
        savepoint.rollback()


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:
        session.info.pop(TOUCHED, None)
        session.info.pop(ORIGIN, None)


# entity → (table, the Posyandu column, the join that reaches it): for numbering rows written around the ORM
_PLACED = {
    "person": ("person", "person.posyandu_id", ""),
    "pregnancy": ("pregnancy", "person.posyandu_id", "JOIN person ON person.id = pregnancy.person_id"),
    "hari_buka": ("hari_buka", "hari_buka.posyandu_id", ""),
    "duty": ("duty", "hari_buka.posyandu_id", "JOIN hari_buka ON hari_buka.id = duty.hari_buka_id"),
    "visit": ("visit", "hari_buka.posyandu_id", "JOIN hari_buka ON hari_buka.id = visit.hari_buka_id"),
    "measurement": ("measurement", "measurement.posyandu_id", ""),
    "service": ("service_record", "person.posyandu_id", "JOIN person ON person.id = service_record.person_id"),
    "screening": ("screening_record", "person.posyandu_id", "JOIN person ON person.id = screening_record.person_id"),
    "home_visit": ("home_visit", "home_visit.posyandu_id", ""),
    "commitment": ("commitment", "commitment.posyandu_id", ""),
    "transfer": ("person_transfer", "person_transfer.to_posyandu_id", ""),
}


def number_unnumbered(session) -> int:
    """Give a server sequence number to every synced record that has none: rows written around the ORM (the
    demo seed's bulk inserts). The caller commits; returns how many were numbered."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": SEQ_LOCK})
        total = 0
        for entity, (table, posyandu, join) in _PLACED.items():
            total += conn.execute(text(
                f"INSERT INTO sync_row (entity, uuid, seq, posyandu_id) "
                f"SELECT '{entity}', u, nextval('sync_seq'), p FROM (SELECT {table}.uuid AS u, {posyandu} AS p "
                f"FROM {table} {join} WHERE NOT EXISTS (SELECT 1 FROM sync_row s WHERE s.entity = '{entity}' "
                f"AND s.uuid = {table}.uuid) ORDER BY {table}.id) AS unnumbered")).rowcount
        return total
    conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value))  # lock it
    total = 0
    for entity, (table, posyandu, join) in _PLACED.items():
        base = conn.scalar(select(SyncCounter.value).where(SyncCounter.id == 1))
        # literals, not parameters: both come from this module (PostgreSQL cannot type an untyped parameter used
        # as text and as varchar at once)
        n = conn.execute(text(
            f"INSERT INTO sync_row (entity, uuid, seq, posyandu_id) "
            f"SELECT '{entity}', {table}.uuid, {int(base)} + ROW_NUMBER() OVER (ORDER BY {table}.id), {posyandu} "
            f"FROM {table} {join} WHERE NOT EXISTS (SELECT 1 FROM sync_row s WHERE s.entity = '{entity}' "
            f"AND s.uuid = {table}.uuid)")).rowcount
        conn.execute(update(SyncCounter).where(SyncCounter.id == 1).values(value=SyncCounter.value + n))
        total += n
    return total
