"""Which Posyandu changed: a random token per Posyandu, new with every commit that changes one of its records, and
figures kept between requests under it.

Every transaction that commits a change of a Posyandu's records — the synced records: people, pregnancies, hari
buka, duties, visits, measurements, services, screenings, home visits, commitments, transfers — gives each
Posyandu it touches a new random token (`posyandu_change`) in the same commit: the Posyandu of the record, of the
record's person and of its hari buka, and both ends of a person's move or a transfer. A reader that reads a
Posyandu's token *before* its figures may keep the figures under that token: while the token is the same, no
commit has changed that Posyandu's records since (under READ COMMITTED the figures' statements come later, so they
see at least what the token stood for; on SQLite the read is one snapshot). A token is random rather than
counted, so a rolled-back transaction or a restored backup never brings back a token with other records behind it.

Records written around the ORM (the demo seed's bulk inserts) call `renew` themselves. A Posyandu without a token
(none yet) is never kept: it is computed every time. A transaction's own uncommitted changes are read live too.

Beside them, one site token (`site_change`) is new with every commit that changes anything else a page may show —
places, accounts, kader, kit, months, incentives, any model added later — through the ORM, by a flush or by an
ORM-enabled UPDATE/DELETE (`session.execute(update(Model)…)`). Only the bookkeeping no page shows leaves it as it
is (IGNORED: login sessions and their once-a-minute touch, throttles, the audit log written beside the change it
records, idempotency keys, jobs, the sync's own tables). An everyday page answered again unchanged depends on both
(posyandu.unchanged_pages).
"""
import secrets
import threading
import weakref

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (AuditLog, AuthSession, Device, HariBuka, IdempotencyKey, Job, Person, Posyandu,
                      PosyanduChange, SiteChange, SyncCounter, SyncMeta, SyncReceipt, SyncRow, SyncState, Throttle)
from ..sync.tracking import NAME_OF

CHANGED = "posyandu_changed"  # session.info: the Posyandu whose records this transaction changed
SITE_CHANGED = "site_changed"  # session.info: this transaction changed something else a page may show
# Written on every request, sync or job, and shown on no page answered again unchanged: they leave the site token
# alone. The audit log is written beside the change it records, which renews its own token.
IGNORED = frozenset({AuthSession, Throttle, AuditLog, IdempotencyKey, Job, PosyanduChange, SiteChange, Device,
                     SyncCounter, SyncRow, SyncReceipt, SyncState, SyncMeta})
# What is kept per database, at most: entries ((what, key, Posyandu) each) and their weight (a list weighs its
# rows: a district month's every list at 150 000 children is about a million rows, ~90 MB). All are dropped
# when either is full; what is asked again is computed again.
KEPT_ENTRIES = 20_000
KEPT_WEIGHT = 2_000_000
_NONE = object()  # kept: the Posyandu has no figures at all
ALL = object()  # in CHANGED: an UPDATE or DELETE statement that may have touched any Posyandu's records
_lock = threading.Lock()


class _Store:
    def __init__(self):
        self.entries: dict = {}  # (what, key, Posyandu id) → (token, value, weight)
        self.weight = 0

    def put(self, entry: tuple, token: str, value, weight: int) -> None:
        old = self.entries.pop(entry, None)
        self.weight -= old[2] if old else 0
        if len(self.entries) >= KEPT_ENTRIES or self.weight + weight > KEPT_WEIGHT:
            self.entries.clear()
            self.weight = 0
        self.entries[entry] = (token, value, weight)
        self.weight += weight


_kept: "weakref.WeakKeyDictionary[object, _Store]" = weakref.WeakKeyDictionary()  # engine → its store


def _places(session, obj, dirty: bool) -> set:
    """The Posyandu whose figures a change of `obj` may move."""
    out = set()
    for attr in ("posyandu_id", "to_posyandu_id", "from_posyandu_id"):
        if hasattr(obj, attr):
            out.add(getattr(obj, attr))
            if dirty:  # a person who moved: the Posyandu she left too
                out.update(inspect(obj).attrs[attr].history.deleted)
    hb_id = getattr(obj, "hari_buka_id", None)
    if hb_id is not None:
        hb = session.get(HariBuka, hb_id)
        out.add(hb.posyandu_id if hb is not None else None)
    person_id = getattr(obj, "person_id", None)
    if person_id is not None:
        person = session.get(Person, person_id)
        out.add(person.posyandu_id if person is not None else None)
    out.discard(None)
    return out


def covered(session, objects, posyandu_ids) -> bool:
    """Whether each of these loaded records is one whose change renews the token of one of these Posyandu, by the
    rule of `_places` read from what is loaded (its person and hari buka from the session's identity map): False
    for a record of another Posyandu only (a person registered elsewhere, her queue visit's or her own), one whose
    Posyandu is not loaded, or one expired since."""
    from sqlalchemy.orm.util import identity_key

    for obj in objects:
        loaded = obj.__dict__
        places = {loaded.get(attr) for attr in ("posyandu_id", "to_posyandu_id", "from_posyandu_id")}
        for attr, model in (("hari_buka_id", HariBuka), ("person_id", Person)):
            if loaded.get(attr) is not None:
                owner = session.identity_map.get(identity_key(model, loaded[attr]))
                places.add(owner.__dict__.get("posyandu_id") if owner is not None else None)
        if not places & posyandu_ids:
            return False
    return True


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    changed = [(o, False) for o in session.new] + [(o, False) for o in session.deleted] + \
              [(o, True) for o in session.dirty if session.is_modified(o, include_collections=False)]
    if any(type(o) not in NAME_OF and type(o) not in IGNORED for o, _dirty in changed):
        session.info[SITE_CHANGED] = True
    changed = [(o, dirty) for o, dirty in changed if type(o) in NAME_OF]
    if not changed:
        return
    ids = session.info.setdefault(CHANGED, set())
    with session.no_autoflush:
        for obj, dirty in changed:
            ids.update(_places(session, obj, dirty))


@event.listens_for(Session, "do_orm_execute")
def _bulk(state):
    """An ORM-enabled UPDATE or DELETE (no flush sees it): the site token, unless of ignored bookkeeping; of a
    Posyandu's records, every Posyandu (it may touch any)."""
    if not (state.is_update or state.is_delete):
        return
    model = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if model in NAME_OF:
        state.session.info[CHANGED] = set(state.session.info.get(CHANGED, ())) | {ALL}
    elif model not in IGNORED:
        state.session.info[SITE_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _renew_changed(session):
    if session.in_nested_transaction():
        return
    session.flush()
    ids = session.info.pop(CHANGED, None)
    if ids:
        renew(session, None if ALL in ids else ids)
    if session.info.pop(SITE_CHANGED, False):
        renew_site(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:
        session.info.pop(CHANGED, None)
        session.info.pop(SITE_CHANGED, None)


def renew(session, posyandu_ids=None) -> None:
    """New tokens for these Posyandu (None: every Posyandu, and the site token), in the session's transaction;
    sorted, so two transactions renewing the same Posyandu lock their rows in the same order."""
    conn = session.connection()
    if posyandu_ids is None:
        renew_site(session)
        posyandu_ids = conn.scalars(select(Posyandu.id))
    _new_tokens(conn, PosyanduChange, "posyandu_id", sorted(set(posyandu_ids)))


def renew_site(session) -> None:
    """A new site token, in the session's transaction."""
    _new_tokens(session.connection(), SiteChange, "id", [1])


def _new_tokens(conn, model, key: str, ids: list) -> None:
    """A new random token for each of these rows of a token table (inserted where missing)."""
    if not ids:
        return
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(model.__table__)
    conn.execute(ins.on_conflict_do_update(index_elements=[key], set_={"token": ins.excluded.token}),
                 [{key: i, "token": secrets.token_hex(16)} for i in ids])


def tokens(posyandu) -> dict[int, str | None]:
    """The current token of each of these Posyandu (a select of ids or a collection; None: it has none yet)."""
    return dict(db.session.execute(
        select(Posyandu.id, PosyanduChange.token).outerjoin(PosyanduChange, PosyanduChange.posyandu_id == Posyandu.id)
        .where(Posyandu.id.in_(posyandu)).order_by(Posyandu.id)).all())


def kept(what: str, key: tuple, posyandu, compute, weight=lambda value: 1) -> dict:
    """{Posyandu id: value} for the Posyandu of `posyandu` (a select of ids or a collection; read with their
    tokens in one statement): the value kept for (what, key) of each Posyandu whose token is still the one it
    was kept under; `compute(ids)` ({id: value}, leaving out a Posyandu that has none) for the others, then kept
    under the tokens read before it ran (`weight(value)`: see KEPT_WEIGHT). Kept values are shared between
    requests: callers copy what they change."""
    found = tokens(posyandu)  # first: its autoflush lists this transaction's own changes
    own = db.session.info.get(CHANGED, set())
    if ALL in own:  # an UPDATE statement of this transaction may have touched any of them: all read live
        own = set(found)
    with _lock:
        store = _kept.setdefault(db.engine, _Store())
    out, stale = {}, []
    for pid, token in found.items():
        hit = store.entries.get((what, key, pid)) if token is not None and pid not in own else None
        if hit is not None and hit[0] == token:
            if hit[1] is not _NONE:
                out[pid] = hit[1]
        else:
            stale.append(pid)
    if stale:
        fresh = compute(stale)
        with _lock:
            for pid in stale:
                if found[pid] is not None and pid not in own:
                    value = fresh.get(pid, _NONE)
                    store.put((what, key, pid), found[pid], value, 1 if value is _NONE else weight(value))
        out.update({pid: fresh[pid] for pid in stale if pid in fresh})
    return out
