"""What each account may see: the nodes of the tree under its own.

Every list filters with these selects and every object lookup goes through `get_in_scope`,
which answers None (404 in a view) for anything outside the user's node.
"""
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, false, or_, select

from ..extensions import db
from ..models import DISTRICT_ROLES, Asset, AuthSession, Certificate, Commitment, CommitmentTemplate, HariBuka, IncentiveBatch, IncentiveLine, IncentivePolicy, Kader, KaderRole, Kecamatan, Kelurahan, Person, PersonTransfer, Posyandu, Puskesmas, User


def _none(column) -> Select:
    """An empty select: what a role without a node of that kind sees (deny by default)."""
    return select(column).where(false())


def kelurahan_ids(user: User) -> Select:
    """Ids of the kelurahan the user may see."""
    q = select(Kelurahan.id)
    if user.role == "district_admin":
        return q.join(Kecamatan).where(Kecamatan.district_id == user.district_id)
    if user.role == "kelurahan_clerk":
        return q.where(Kelurahan.id == user.kelurahan_id)
    if user.role == "nakes":
        return q.where(Kelurahan.puskesmas_id == user.puskesmas_id)
    if user.role in ("ketua", "kader"):
        return select(Posyandu.kelurahan_id).where(Posyandu.id == user.posyandu_id)
    return _none(Kelurahan.id)


def posyandu_ids(user: User) -> Select:
    """Ids of the Posyandu the user may see."""
    if user.role in ("ketua", "kader"):
        return select(Posyandu.id).where(Posyandu.id == user.posyandu_id)
    if user.role in ("district_admin", "kelurahan_clerk", "nakes"):
        return select(Posyandu.id).where(Posyandu.kelurahan_id.in_(kelurahan_ids(user)))
    return _none(Posyandu.id)


def kecamatan_ids(user: User) -> Select:
    """Ids of the kecamatan the user may see: every kecamatan of her district for a district admin (a new
    kecamatan has no kelurahan yet), otherwise those of the kelurahan in scope (and a nakes's own Puskesmas)."""
    if user.role == "district_admin":
        return select(Kecamatan.id).where(Kecamatan.district_id == user.district_id)
    if user.role == "nakes":
        return select(Kecamatan.id).where(or_(
            Kecamatan.id.in_(select(Kelurahan.kecamatan_id).where(Kelurahan.id.in_(kelurahan_ids(user)))),
            Kecamatan.id.in_(select(Puskesmas.kecamatan_id).where(Puskesmas.id == user.puskesmas_id))))
    if user.role in ("kelurahan_clerk", "ketua", "kader"):
        return select(Kelurahan.kecamatan_id).where(Kelurahan.id.in_(kelurahan_ids(user)))
    return _none(Kecamatan.id)


def puskesmas_ids(user: User) -> Select:
    """Ids of the Puskesmas the user may see: every one of her district for a district admin, her own for a
    nakes (even before it serves a kelurahan), otherwise those serving the kelurahan in scope."""
    if user.role == "district_admin":
        return select(Puskesmas.id).join(Kecamatan).where(Kecamatan.district_id == user.district_id)
    if user.role == "nakes":
        return select(Puskesmas.id).where(Puskesmas.id == user.puskesmas_id)
    if user.role in ("kelurahan_clerk", "ketua", "kader"):
        return select(Kelurahan.puskesmas_id).where(Kelurahan.id.in_(kelurahan_ids(user)))
    return _none(Puskesmas.id)


def visible_posyandu(user: User) -> list[Posyandu]:
    """The Posyandu in scope, by kelurahan and name (for choosers)."""
    q = (select(Posyandu).join(Kelurahan).where(Posyandu.id.in_(posyandu_ids(user)), Posyandu.active)
         .order_by(Kelurahan.name, Posyandu.name))
    return list(db.session.scalars(q))


def people(user: User) -> Select:
    """Live (not deleted) people of the Posyandu in scope."""
    return select(Person).where(Person.posyandu_id.in_(posyandu_ids(user)), Person.deleted_at.is_(None))


_SCOPE_OF = {
    Person: lambda u, obj_id: select(Person.id).where(
        Person.id == obj_id, Person.posyandu_id.in_(posyandu_ids(u)), Person.deleted_at.is_(None)),
    # A transfer is seen by both ends: the sending and the receiving Posyandu.
    PersonTransfer: lambda u, obj_id: select(PersonTransfer.id).where(
        PersonTransfer.id == obj_id, or_(PersonTransfer.from_posyandu_id.in_(posyandu_ids(u)),
                                         PersonTransfer.to_posyandu_id.in_(posyandu_ids(u)))),
    Posyandu: lambda u, obj_id: select(Posyandu.id).where(Posyandu.id == obj_id, Posyandu.id.in_(posyandu_ids(u))),
    Kelurahan: lambda u, obj_id: select(Kelurahan.id).where(Kelurahan.id == obj_id, Kelurahan.id.in_(kelurahan_ids(u))),
    Kecamatan: lambda u, obj_id: select(Kecamatan.id).where(Kecamatan.id == obj_id, Kecamatan.id.in_(kecamatan_ids(u))),
    Puskesmas: lambda u, obj_id: select(Puskesmas.id).where(Puskesmas.id == obj_id, Puskesmas.id.in_(puskesmas_ids(u))),
    User: lambda u, obj_id: select(User.id).where(User.id == obj_id, User.district_id == u.district_id),
    Asset: lambda u, obj_id: select(Asset.id).where(Asset.id == obj_id, Asset.posyandu_id.in_(posyandu_ids(u))),
    HariBuka: lambda u, obj_id: select(HariBuka.id).where(HariBuka.id == obj_id,
                                                          HariBuka.posyandu_id.in_(posyandu_ids(u))),
    # Kader: visible through any role (past or present) in a Posyandu in scope.
    Kader: lambda u, obj_id: select(Kader.id).where(
        Kader.id == obj_id, Kader.deleted_at.is_(None),
        Kader.id.in_(select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(u))))),
    Commitment: lambda u, obj_id: select(Commitment.id).where(Commitment.id == obj_id,
                                                              Commitment.posyandu_id.in_(posyandu_ids(u))),
    CommitmentTemplate: lambda u, obj_id: select(CommitmentTemplate.id).where(
        CommitmentTemplate.id == obj_id, CommitmentTemplate.district_id == u.district_id),
    # A kader's certificate follows the kader; a kelurahan award follows the kelurahan.
    Certificate: lambda u, obj_id: select(Certificate.id).where(
        Certificate.id == obj_id,
        or_(Certificate.kader_id.in_(select(KaderRole.kader_id).where(KaderRole.posyandu_id.in_(posyandu_ids(u)))),
            and_(Certificate.kader_id.is_(None), Certificate.kelurahan_id.in_(kelurahan_ids(u))))),
    IncentivePolicy: lambda u, obj_id: select(IncentivePolicy.id).where(
        IncentivePolicy.id == obj_id, IncentivePolicy.district_id == u.district_id),
    IncentiveBatch: lambda u, obj_id: select(IncentiveBatch.id).where(
        IncentiveBatch.id == obj_id, IncentiveBatch.kelurahan_id.in_(kelurahan_ids(u))),
    IncentiveLine: lambda u, obj_id: select(IncentiveLine.id).join(IncentiveBatch).where(
        IncentiveLine.id == obj_id, IncentiveBatch.kelurahan_id.in_(kelurahan_ids(u))),
}


class _Node(NamedTuple):
    """What scope depends on: the role and the node of the tree it sits at."""

    role: str
    district_id: int | None
    kelurahan_id: int | None
    puskesmas_id: int | None
    posyandu_id: int | None


@lru_cache(maxsize=1024)
def _lookup(model, node: _Node, options: tuple):
    """The object by id (`:obj_id`) where it is in this node's scope: one query, built once per model, node and
    loader options (every page and poll starts with one; building it afresh was a tenth of a queue poll)."""
    return select(model).where(model.id.in_(_SCOPE_OF[model](node, bindparam("obj_id")))).options(*options)


def node_of(user) -> _Node | None:
    """Where the user sits in the tree (a User or a row with its columns); None for a role outside the districts
    (an installation admin), which no scope lookup answers."""
    if user.role not in DISTRICT_ROLES:
        return None
    return _Node(user.role, user.district_id, user.kelurahan_id, user.puskesmas_id, user.posyandu_id)


def get_in_scope(user: User, model, obj_id: int, options: tuple = ()):
    """The object if the user may see it, else None (always None for a role outside the districts: the
    district-level lookups below compare district ids, and an installation admin has none). `options`: loader
    options (a module-level tuple) for what the page shows of it, loaded in the same query."""
    node = node_of(user)
    if node is None:
        return None
    return db.session.scalar(_lookup(model, node, options), {"obj_id": obj_id})


# The unchanged queue poll (posyandu.poll) reads these without the ORM: a login session with its user's node of
# the tree, then the hari buka's version where it is in that node's scope — the same scope as get_in_scope; or,
# for a user whose node it has seen before, both in one statement (session_node_and_version).
SESSION_NODE = (select(AuthSession.revoked_at, AuthSession.last_seen_at, User.id, User.active, User.role,
                       User.district_id, User.kelurahan_id, User.puskesmas_id, User.posyandu_id)
                .join(User, User.id == AuthSession.user_id).where(AuthSession.token_hash == bindparam("token_hash")))


@lru_cache(maxsize=1024)
def version_lookup(node: _Node):
    """The version of a hari buka (`:obj_id`) in this node's scope: no row outside it."""
    return select(HariBuka.version).where(HariBuka.id.in_(_SCOPE_OF[HariBuka](node, bindparam("obj_id"))))


@lru_cache(maxsize=1024)
def session_node_and_version(node: _Node):
    """SESSION_NODE's columns and, last, the version of a hari buka (`:obj_id`) in *this* node's scope (NULL outside
    it): one statement where SESSION_NODE and version_lookup are two. The version is the user's only if the row's
    node is this node (the caller compares; the statement reads both at once, so they cannot disagree)."""
    return SESSION_NODE.add_columns(version_lookup(node).scalar_subquery().correlate(None).label("version"))
