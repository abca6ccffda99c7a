"""Monthly reports and roll-ups, aggregated in SQL: a handful of GROUP BY queries per report, grouped by
Posyandu, summed up the tree in Python (80 Posyandu, not 150 000 children). Read-only; no Flask request here.

Every function takes a select of Posyandu ids (`pos`) already limited to the user's scope (see `area_posyandu`).
The per-child subquery `child_month` is shared by the counts and by the lists behind them, so a number and its
list always agree.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, text, true
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased

from ..domain import reports as dom
from ..domain.lifecycle import NIFAS_DAYS
from ..domain.rules import UNDER_FIVE_DAYS
from ..extensions import db
from ..models import (Duty, HariBuka, Kader, KaderRole, Kecamatan, Kelurahan, Measurement, Person, Posyandu,
                      Pregnancy, Puskesmas, ServiceRecord, User, Visit)
from . import scope
from .people import on_roll

KINDS = ("posyandu", "kelurahan", "puskesmas", "kecamatan", "district")
MODELS = {"posyandu": Posyandu, "kelurahan": Kelurahan, "puskesmas": Puskesmas, "kecamatan": Kecamatan}
CHILD_METRICS = ("S", "K", "D", "N", "T", "O", "B", "tidak_hadir", "bgm", "two_t", "gizi_buruk", "gizi_kurang",
                 "stunted", "wasted", "underweight", "new_stunting", "at_risk")
OTHER_METRICS = ("vita_biru", "vita_merah", "ibu_hamil", "kek")
GROUPS = ("ibu_hamil", "nifas", "balita", "usia_sekolah_remaja", "dewasa", "lansia")
ILP_METRICS = tuple(f"ilp-{w}-{g}" for w in ("reg", "vis") for g in GROUPS)
METRICS = CHILD_METRICS + OTHER_METRICS + ILP_METRICS


# --- the area -----------------------------------------------------------------------------------------------

def area_posyandu(user: User, kind: str, obj_id: int | None) -> Select:
    """Ids of the Posyandu of an area, always within the user's scope."""
    mine = scope.posyandu_ids(user)
    if kind == "posyandu":
        return select(Posyandu.id).where(Posyandu.id == obj_id, Posyandu.id.in_(mine))
    if kind == "kelurahan":
        return select(Posyandu.id).where(Posyandu.kelurahan_id == obj_id, Posyandu.id.in_(mine))
    if kind == "puskesmas":
        return (select(Posyandu.id).join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
                .where(Kelurahan.puskesmas_id == obj_id, Posyandu.id.in_(mine)))
    if kind == "kecamatan":
        return (select(Posyandu.id).join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id)
                .where(Kelurahan.kecamatan_id == obj_id, Posyandu.id.in_(mine)))
    return mine


@dataclass
class PosyanduRow:
    id: int
    name: str
    kelurahan_id: int
    kelurahan: str
    kecamatan_id: int
    kecamatan: str
    puskesmas_id: int | None
    puskesmas: str | None


def posyandu_rows(pos: Select) -> list[PosyanduRow]:
    """The Posyandu of the area with their place in the tree (one query)."""
    rows = db.session.execute(
        select(Posyandu.id, Posyandu.name, Kelurahan.id, Kelurahan.name, Kecamatan.id, Kecamatan.name,
               Puskesmas.id, Puskesmas.name)
        .join(Kelurahan, Posyandu.kelurahan_id == Kelurahan.id).join(Kecamatan, Kelurahan.kecamatan_id == Kecamatan.id)
        .outerjoin(Puskesmas, Kelurahan.puskesmas_id == Puskesmas.id)
        .where(Posyandu.id.in_(pos)).order_by(Kelurahan.name, Posyandu.name)).all()
    return [PosyanduRow(*r) for r in rows]


# --- per-child figures of a month ---------------------------------------------------------------------------

def _band_expr(column, last: date):
    cut = dom.band_cutoffs(last)
    return case(*((column > after, literal(label)) for label, after, _ in cut), else_=literal(None))


def balita_filter(pos: Select, last: date):
    """S: balita 0–59 months at the month's end, registered at a Posyandu of the area and on its roll in the month
    (someone who left in March still counts in February and March)."""
    oldest = dom.latest_birth_for_age(last, 60)
    return and_(Person.posyandu_id.in_(pos), on_roll(dom.month_start(last)), Person.birth_date <= last,
                Person.birth_date > oldest)


def _measured(pos: Select, last: date, wide: bool, ids: Select | None = None):
    """Which measurements to read. For a small area, those of its balita (through the person index); for a
    kecamatan or the district, the whole date range (through the date index) — the join to S keeps the area.
    With `ids` (a page of a list), those people's only."""
    if ids is not None:
        return Measurement.person_id.in_(ids)
    if wide:
        return true()
    return Measurement.person_id.in_(select(Person.id).where(balita_filter(pos, last)))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


REPORT_WORK_MEM = "64MB"


def report_reading() -> None:
    """On PostgreSQL, give this transaction's sorts and hashes room: the window over a district's month of
    measurements (124 000 rows at the demo scale) spilled a 7 MB sort to disk under the default 4 MB work_mem. And
    no JIT: compiling a report query's expressions took 0,1 s of every run, more than it saved. And no parallel
    workers: a parallel scan of the district's children made each worker sort the month's weighings again for its
    own copy of the hash (three sorts of 169 000 rows for one; the district SKDN of a full month at 150 000
    children took 0,87 s in parallel against 0,51 s in one process). All three settings end with the transaction
    (the request's read)."""
    if _dialect() == "postgresql":
        db.session.execute(_REPORT_SETTINGS, {"mem": REPORT_WORK_MEM})


_REPORT_SETTINGS = text("SELECT set_config('work_mem', :mem, true), set_config('jit', 'off', true), "
                        "set_config('max_parallel_workers_per_gather', '0', true)")


def _month_rows(pos: Select, first: date, last: date, wide: bool, ids: Select | None = None) -> tuple:
    return (Measurement.measured_on >= first, Measurement.measured_on <= last, Measurement.weight_kg.is_not(None),
            _measured(pos, last, wide, ids))


def _month_weighings_window(pos: Select, first: date, last: date, wide: bool, ids: Select | None = None):
    """Per child weighed in the month: the last weighing's codes, and the latest valid z-scores."""
    # One window (one sort): the row number, and a running count of valid rows, newest first — the latest valid
    # row is the unflagged one where that count reaches 1.
    newest = dict(partition_by=Measurement.person_id, order_by=(Measurement.measured_on.desc(), Measurement.id.desc()))
    m = (select(Measurement.person_id, Measurement.ntob, Measurement.bgm, Measurement.two_t, Measurement.flagged,
                Measurement.waz, Measurement.lhaz, Measurement.whz, Measurement.new_stunting,
                func.row_number().over(**newest).label("rn"),
                func.sum(case((Measurement.flagged.is_(False), 1), else_=0)).over(
                    rows=(None, 0), **newest).label("rv"))
         .where(*_month_rows(pos, first, last, wide, ids))).subquery("m")
    last_one = m.c.rn == 1
    valid = and_(m.c.rv == 1, m.c.flagged.is_(False))
    return (select(m.c.person_id.label("person_id"),
                   func.max(case((last_one, func.coalesce(m.c.ntob, "O")))).label("ntob"),
                   func.max(case((and_(last_one, m.c.bgm.is_(True)), 1), else_=0)).label("bgm"),
                   func.max(case((and_(last_one, m.c.two_t.is_(True)), 1), else_=0)).label("two_t"),
                   func.max(case((valid, m.c.waz))).label("waz"),
                   func.max(case((valid, m.c.lhaz))).label("lhaz"),
                   func.max(case((valid, m.c.whz))).label("whz"),
                   func.max(case((and_(m.c.new_stunting.is_(True), m.c.flagged.is_(False)), 1), else_=0))
                   .label("new_stunting"))
            .group_by(m.c.person_id).subquery("w"))


def _weighed_by_distinct(q: Select, pos: Select, first: date, last: date, wide: bool,
                         parts: frozenset = frozenset(("last", "valid", "new_stunting")), ids: Select | None = None
                         ) -> Select:
    """child_month's weighing columns on PostgreSQL: each child's newest weighing of the month (a DISTINCT ON
    (person) over the month's rows) and her newest valid one (that one unless it is flagged: another DISTINCT ON
    for the children with a flagged weighing in the month only), and whether any valid one marks new stunting. The same rows as _month_weighings_window without its running count over a sorted window
    (41 ms against 61–73 ms for a district month at 150 000 children).

    The three are joined to each other first (the month's weighed children: every child of mv and ns is one of
    ml), and the result once to the children of S: joined to S one by one, each child of the district went
    through three hash joins, which made a month with few weighings yet (the current one) slower than the
    window's single join.

    `parts` (see WEIGHING_PARTS) leaves out what a list's membership does not need: the columns of a part left
    out are NULL. A part read alone is joined to S alone (every child of mv and ns is one of ml anyway)."""
    def newest(name: str, *valid):
        return (select(Measurement.person_id, Measurement.ntob, Measurement.bgm, Measurement.two_t,
                       Measurement.flagged, Measurement.waz, Measurement.lhaz, Measurement.whz)
                .where(*_month_rows(pos, first, last, wide, ids), *valid)
                .ext(distinct_on(Measurement.person_id))
                .order_by(Measurement.person_id, Measurement.measured_on.desc(), Measurement.id.desc())
                .subquery(name))

    none = literal(None)
    # whether weighed, no more: the month's weighed children, without sorting their rows
    weighed_only = (select(Measurement.person_id).where(*_month_rows(pos, first, last, wide, ids))
                    .group_by(Measurement.person_id).subquery("md")) if parts == {"weighed"} else None
    ml = newest("ml") if weighed_only is None and ("last" in parts or len(parts) > 1) else None
    if "valid" not in parts:
        mv = None
    elif ml is None:
        mv = newest("mv", Measurement.flagged.is_(False))
    else:  # the newest valid one is the newest unless that is flagged: look further for those children only
        flagged = select(Measurement.person_id).where(*_month_rows(pos, first, last, wide, ids),
                                                      Measurement.flagged.is_(True))
        mv = newest("mv", Measurement.flagged.is_(False), Measurement.person_id.in_(flagged))
    ns = (select(Measurement.person_id)
          .where(*_month_rows(pos, first, last, wide, ids), Measurement.new_stunting.is_(True),
                 Measurement.flagged.is_(False))
          .group_by(Measurement.person_id).subquery("ns")) if "new_stunting" in parts else None
    root = next(part for part in (ml, weighed_only, mv, ns) if part is not None)
    last_cols = ((func.coalesce(ml.c.ntob, "O"), case((ml.c.bgm.is_(True), 1), else_=0),
                  case((ml.c.two_t.is_(True), 1), else_=0)) if ml is not None and "last" in parts
                 else (none, none, none))
    if mv is None:
        z = (none, none, none)
    elif mv is root:
        z = (mv.c.waz, mv.c.lhaz, mv.c.whz)
    else:
        z = tuple(case((ml.c.flagged.is_(False), ml.c[k]), else_=mv.c[k]) for k in ("waz", "lhaz", "whz"))
    w = select(root.c.person_id.label("person_id"),
               *(col.label(name) for col, name in zip(last_cols, ("ntob", "bgm", "two_t"))),
               *(col.label(name) for col, name in zip(z, ("waz", "lhaz", "whz"))),
               (case((ns.c.person_id.is_not(None), 1), else_=0) if ns is not None else none).label("new_stunting"))
    for part in (mv, ns):
        if part is not None and part is not root:
            w = w.outerjoin(part, part.c.person_id == root.c.person_id)
    w = w.subquery("w")
    weighed = w.c.person_id if parts & {"last", "weighed"} else none
    return (q.add_columns(weighed.label("weighed"), w.c.ntob, w.c.bgm, w.c.two_t, w.c.waz, w.c.lhaz, w.c.whz,
                          w.c.new_stunting)
            .select_from(Person).outerjoin(w, w.c.person_id == Person.id))


def _weighed_by_probe(q: Select, first: date, last: date) -> Select:
    """child_month's weighing columns on SQLite, per child of S: her newest weighing of the month (date, then id)
    found by a backward step on the person-date index, her newest valid one only when that one is flagged, and
    whether any valid one marks new stunting. The same rows as _month_weighings_window, without sorting the
    month's measurements (SQLite sorts a window's rows through a temporary index: seconds for a district)."""
    def newest(valid: bool = False):
        m = aliased(Measurement)
        return (select(m.id).where(m.person_id == Person.id, m.measured_on >= first, m.measured_on <= last,
                                   m.weight_kg.is_not(None), *([m.flagged.is_(False)] if valid else []))
                .order_by(m.measured_on.desc(), m.id.desc()).limit(1).scalar_subquery())

    ml, mv, mn = aliased(Measurement, name="ml"), aliased(Measurement, name="mv"), aliased(Measurement, name="mn")
    # The newest weighing is the newest valid one unless it is flagged: only then look further (mv).
    ok = ml.flagged.is_(False)
    stunting = exists().where(  # word for word the condition of ix_measurement_new_stunting
        mn.person_id == Person.id, mn.measured_on >= first, mn.measured_on <= last, mn.weight_kg.is_not(None),
        mn.new_stunting == True, mn.flagged == False)  # noqa: E712
    weighed = ml.id.is_not(None)
    return (q.add_columns(ml.person_id.label("weighed"), case((weighed, func.coalesce(ml.ntob, "O"))).label("ntob"),
                          case((ml.bgm.is_(True), 1), (weighed, 0)).label("bgm"),
                          case((ml.two_t.is_(True), 1), (weighed, 0)).label("two_t"),
                          case((ok, ml.waz), else_=mv.waz).label("waz"),
                          case((ok, ml.lhaz), else_=mv.lhaz).label("lhaz"),
                          case((ok, ml.whz), else_=mv.whz).label("whz"),
                          case((~weighed, None), (and_(ml.new_stunting.is_(True), ok), 1),
                               (stunting, 1), else_=0).label("new_stunting"))
            .select_from(Person).outerjoin(ml, ml.id == newest())
            .outerjoin(mv, mv.id == case((ml.flagged.is_(True), newest(valid=True)))))


def _falling(pos: Select, month: date, wide: bool, ids: Select | None = None):
    """Children whose last three valid TB/U z-scores, ending this month and starting at most two months before,
    fall each time by FALLING_LHAZ in all while not yet stunted (domain.reports.falling, in SQL)."""
    first, last = dom.month_start(month), dom.month_end(month)
    # One window order (one sort): the newest row is the one with no next row.
    over = dict(partition_by=Measurement.person_id, order_by=(Measurement.measured_on, Measurement.id))
    h = (select(Measurement.person_id, Measurement.measured_on, Measurement.lhaz,
                func.lag(Measurement.lhaz, 1).over(**over).label("l1"),
                func.lag(Measurement.lhaz, 2).over(**over).label("l2"),
                func.lead(Measurement.id, 1).over(**over).label("next_id"))
         .where(Measurement.measured_on >= dom.shift_month(month, -2), Measurement.measured_on <= last,
                Measurement.flagged.is_(False), Measurement.lhaz.is_not(None), _measured(pos, last, wide, ids))
         ).subquery("h")
    # Grouped, so SQLite materialises it once instead of re-running the window for every child it is joined to.
    return (select(h.c.person_id.label("person_id"))
            .where(h.c.next_id.is_(None), h.c.measured_on >= first, h.c.l2 > h.c.l1, h.c.l1 > h.c.lhaz,
                   h.c.l2 - h.c.lhaz >= dom.FALLING_LHAZ, h.c.lhaz >= dom.STUNTED)
            .group_by(h.c.person_id).subquery("f"))


def _falling_by_probe(pos: Select, month: date, ids: Select | None = None) -> Select:
    """_falling on SQLite: per child of S with a valid TB/U this month, her three newest valid TB/U z-scores of
    the window, each a step on the person-date index, instead of a window sorting three months of the area's
    measurements (the same children: tests compare both)."""
    start, first, last = dom.shift_month(month, -2), dom.month_start(month), dom.month_end(month)

    def valid(m, since: date):
        return (m.person_id == Person.id, m.measured_on >= since, m.measured_on <= last, m.flagged.is_(False),
                m.lhaz.is_not(None))

    def nth(k: int):
        m = aliased(Measurement)
        return (select(m.lhaz).where(*valid(m, start)).order_by(m.measured_on.desc(), m.id.desc())
                .limit(1).offset(k).scalar_subquery())

    now = aliased(Measurement)
    z = (select(Person.id.label("person_id"), nth(0).label("l0"), nth(1).label("l1"), nth(2).label("l2"))
         .where(balita_filter(pos, last), exists().where(*valid(now, first)),
                *([Person.id.in_(ids)] if ids is not None else []))
         .group_by(Person.id).subquery("z"))  # grouped: computed once, not once per use of each column
    return (select(z.c.person_id.label("person_id"))
            .where(z.c.l2 > z.c.l1, z.c.l1 > z.c.l0, z.c.l2 - z.c.l0 >= dom.FALLING_LHAZ, z.c.l0 >= dom.STUNTED)
            .subquery("f"))


# How child_month reads the month's weighings, per backend: SQLite probes the person-date index per child,
# PostgreSQL takes each child's newest (and newest valid) row with DISTINCT ON (hash joins; its sorts fit
# work_mem, see report_reading). "window" is the generic path the others are tested against.
WEIGHINGS = {"sqlite": "probe", "postgresql": "distinct"}

# The parts of a child's month of weighings: "last", her newest weighing (weighed, ntob, bgm, two_t); "valid",
# her newest valid one (waz, lhaz, whz); "new_stunting", whether a valid one marks new stunting; "weighed"
# alone, whether she was weighed (part of "last").
WEIGHING_PARTS = ("last", "valid", "new_stunting")


def child_month(pos: Select, month: date, wide: bool = False, risk: bool = False, method: str | None = None,
                parts: tuple | None = None, ids: Select | None = None, named: bool = False):
    """One row per child in S: Posyandu, band, sex, K, the month's weighing figures (NULL if not weighed), and
    with `risk` whether TB/U is falling (a three-month window: only the at-risk list and counts ask for it).
    `method` ("probe", "distinct" on PostgreSQL, or "window") overrides the backend's way of reading the
    weighings (tests compare them). `parts` (of WEIGHING_PARTS; all by default) reads only those parts of the
    weighings on PostgreSQL, none at all when empty (the other columns are NULL): a list's membership (see
    list_page). `ids` (a select of person ids) keeps those children of S only: a list's page. `named` adds the
    child's name (a list's order)."""
    first, last = dom.month_start(month), dom.month_end(month)
    q = select(Person.id.label("person_id"), Person.posyandu_id.label("posyandu_id"), Person.sex.label("sex"),
               _band_expr(Person.birth_date, last).label("band"),
               case((Person.has_kia_book.is_(True), 1), else_=0).label("k"),
               *([Person.name.label("name")] if named else []))
    method = method or WEIGHINGS.get(_dialect(), "window")
    parts = frozenset(WEIGHING_PARTS if parts is None else parts)
    if not parts:
        none = literal(None)
        q = q.add_columns(*(none.label(name) for name in ("weighed", "ntob", "bgm", "two_t", "waz", "lhaz", "whz",
                                                            "new_stunting")))
    elif method == "probe":
        q = _weighed_by_probe(q, first, last)
    elif method == "distinct":
        q = _weighed_by_distinct(q, pos, first, last, wide, parts, ids)
    else:
        w = _month_weighings_window(pos, first, last, wide, ids)
        q = q.add_columns(w.c.person_id.label("weighed"), w.c.ntob, w.c.bgm, w.c.two_t, w.c.waz, w.c.lhaz, w.c.whz,
                          w.c.new_stunting).outerjoin(w, w.c.person_id == Person.id)
    if risk:
        f = _falling_by_probe(pos, month, ids) if method == "probe" else _falling(pos, month, wide, ids)
        q = q.add_columns(f.c.person_id.label("falling")).outerjoin(f, f.c.person_id == Person.id)
    else:
        q = q.add_columns(literal(None).label("falling"))
    q = q.where(balita_filter(pos, last))
    if ids is not None:
        q = q.where(Person.id.in_(ids))
    return q.subquery("c")


RISK_REASONS = ("2T", "T_low_whz", "falling_lhaz")


def _child_conditions(c) -> dict:
    """Each child metric as a condition on child_month's columns."""
    t_low = and_(c.c.ntob == "T", c.c.whz < dom.LOW_WHZ)
    return {
        "S": true(), "K": c.c.k == 1, "D": c.c.weighed.is_not(None),
        "N": c.c.ntob == "N", "T": c.c.ntob == "T", "O": c.c.ntob == "O", "B": c.c.ntob == "B",
        "tidak_hadir": and_(c.c.k == 1, c.c.weighed.is_(None)),
        "bgm": c.c.bgm == 1, "two_t": c.c.two_t == 1,
        "gizi_buruk": c.c.whz < dom.GIZI_BURUK, "gizi_kurang": and_(c.c.whz >= dom.GIZI_BURUK, c.c.whz < dom.GIZI_KURANG),
        "stunted": c.c.lhaz < dom.STUNTED, "wasted": c.c.whz < dom.WASTED, "underweight": c.c.waz < dom.UNDERWEIGHT,
        "new_stunting": c.c.new_stunting == 1,
        "at_risk": or_(c.c.two_t == 1, t_low, c.c.falling.is_not(None)),
    }


def _risk_reason(c):
    return case((c.c.two_t == 1, literal("2T")), (and_(c.c.ntob == "T", c.c.whz < dom.LOW_WHZ), literal("T_low_whz")),
                else_=literal("falling_lhaz"))


def _risk_severity(c):
    """Most urgent first: not gaining while already thin (acute), then two months without gain, then a slowly
    falling TB/U."""
    return case((and_(c.c.ntob == "T", c.c.whz < dom.LOW_WHZ), 0), (c.c.two_t == 1, 1), else_=2)


def _n(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def skdn_by_posyandu(pos: Select, month: date, wide: bool = False, risk: bool = False
                     ) -> dict[int, dict[tuple[str, str], dom.Cell]]:
    """The SKDN and nutrition cells per Posyandu, band and sex: one query (with `risk`, the at-risk count too)."""
    report_reading()
    c = child_month(pos, month, wide, risk)
    cond = _child_conditions(c)
    cols = {"S": func.count(), "D": func.count(c.c.weighed), "lhaz_n": func.count(c.c.lhaz),
            "whz_n": func.count(c.c.whz), "waz_n": func.count(c.c.waz)}
    cols.update({k: _n(cond[k]) for k in ("K", "N", "T", "O", "B", "tidak_hadir", "bgm", "two_t", "gizi_buruk",
                                          "gizi_kurang", "stunted", "wasted", "underweight", "new_stunting")})
    if risk:
        cols["at_risk"] = _n(cond["at_risk"])
    names = list(cols)
    rows = db.session.execute(select(c.c.posyandu_id, c.c.band, c.c.sex, *cols.values())
                              .group_by(c.c.posyandu_id, c.c.band, c.c.sex)).all()
    out: dict = defaultdict(dict)
    for pid, band, sex, *values in rows:
        out[pid][(band, sex)] = dom.Cell(**{k: int(v or 0) for k, v in zip(names, values)})
    return out


def _active_pregnancy(first: date, last: date):
    """A pregnancy that was on at some time in the month (44 weeks at most after HPHT)."""
    return and_(Pregnancy.deleted_at.is_(None), Pregnancy.hpht <= last,
                Pregnancy.hpht >= first - timedelta(weeks=44),
                or_(Pregnancy.ended_on.is_(None), Pregnancy.ended_on >= first))


def mothers_by_posyandu(pos: Select, month: date) -> dict[int, tuple[int, int, int]]:
    """Ibu hamil of the month, those whose LILA was measured in the month while pregnant, and KEK among them."""
    first, last = dom.month_start(month), dom.month_end(month)
    lila = and_(Measurement.person_id == Pregnancy.person_id, Measurement.measured_on >= first,
                Measurement.measured_on <= last, Measurement.measured_on >= Pregnancy.hpht,
                Measurement.muac_cm.is_not(None))
    rows = db.session.execute(
        select(Person.posyandu_id, func.count(func.distinct(Pregnancy.person_id)),
               func.count(func.distinct(Measurement.person_id)),
               func.count(func.distinct(case((Measurement.muac_cm < dom.KEK_MUAC_CM, Measurement.person_id)))))
        .join(Person, Person.id == Pregnancy.person_id).outerjoin(Measurement, lila)
        .where(_active_pregnancy(first, last), Person.posyandu_id.in_(pos), on_roll(first))
        .group_by(Person.posyandu_id)).all()
    return {pid: (int(a), int(b), int(c)) for pid, a, b, c in rows}


def vitamin_a_by_posyandu(pos: Select, month: date) -> dict[int, dict[str, int]]:
    first, last = dom.month_start(month), dom.month_end(month)
    rows = db.session.execute(
        select(Person.posyandu_id, ServiceRecord.code, func.count(func.distinct(ServiceRecord.person_id)))
        .join(Person, Person.id == ServiceRecord.person_id)
        .where(ServiceRecord.kind == "vitamin_a", ServiceRecord.deleted_at.is_(None),
               ServiceRecord.given_on >= first, ServiceRecord.given_on <= last,
               Person.posyandu_id.in_(pos), on_roll(first))
        .group_by(Person.posyandu_id, ServiceRecord.code)).all()
    out: dict = defaultdict(dict)
    for pid, code, n in rows:
        out[pid][code] = int(n)
    return out


def _group_tests(last: date) -> list[tuple[str, object]]:
    """The life-cycle groups at the month's end, each with its test, in the order they are tried (the first that
    holds is the person's group; lansia's, the last, always holds)."""
    pregnant = select(Pregnancy.person_id).where(
        Pregnancy.deleted_at.is_(None), Pregnancy.ended_on.is_(None), Pregnancy.hpht <= last,
        Pregnancy.hpht >= last - timedelta(weeks=44))
    nifas = select(Pregnancy.person_id).where(Pregnancy.deleted_at.is_(None), Pregnancy.ended_on <= last,
                                              Pregnancy.ended_on >= last - timedelta(days=NIFAS_DAYS))
    b = Person.birth_date
    return [("ibu_hamil", Person.id.in_(pregnant)), ("nifas", Person.id.in_(nifas)),
            ("balita", b > dom.latest_birth_for_age(last, 60)),
            ("usia_sekolah_remaja", b > dom.latest_birth_for_age(last, 19 * 12)),
            ("dewasa", b > dom.latest_birth_for_age(last, 60 * 12)), ("lansia", true())]


def _group_expr(last: date):
    """The life-cycle group of a person at the month's end (lifecycle.group_for, in SQL)."""
    tests = _group_tests(last)
    return case(*((test, literal(grp)) for grp, test in tests[:-1]), else_=literal(tests[-1][0]))


def _in_group(grp: str, last: date):
    """`_group_expr(last) == grp` as plain conditions: this group's test holds and none tried before it does (a
    person's id is never NULL, nor a pregnancy's person, nor a birth date: no test is unknown). The planner can
    estimate these (a birth-date range, a few pregnancies); it cannot estimate a CASE compared to a word."""
    conds = []
    for name, test in _group_tests(last):
        if name == grp:
            return and_(*conds, test)
        conds.append(~test)
    raise ValueError(grp)


def _registered(pos: Select, last: date):
    return (select(Person.id.label("person_id"), Person.posyandu_id.label("posyandu_id"),
                   _group_expr(last).label("grp"))
            .where(Person.posyandu_id.in_(pos), on_roll(dom.month_start(last)), Person.birth_date <= last)
            .subquery("r"))


def _visited(pos: Select, first: date, last: date):
    """Visits on the hari buka held in the month by people of the area: read from the month's hari buka (a few
    hundred) through their visits, not by probing every person of the area for visits."""
    days = select(HariBuka.id).where(HariBuka.held_on >= first, HariBuka.held_on <= last)
    return (select(Visit.person_id.label("person_id"), Person.posyandu_id.label("posyandu_id"),
                   Visit.group.label("grp"))
            .join(Person, Person.id == Visit.person_id)
            .where(Visit.hari_buka_id.in_(days), Person.posyandu_id.in_(pos), on_roll(first)).subquery("v"))


def ilp_by_posyandu(pos: Select, month: date) -> tuple[dict, dict]:
    """People registered per life-cycle group at the month's end, and people with a visit in the month per group
    (the group at the visit)."""
    report_reading()
    first, last = dom.month_start(month), dom.month_end(month)
    r = _registered(pos, last)
    reg: dict = defaultdict(dict)
    for pid, grp, n in db.session.execute(select(r.c.posyandu_id, r.c.grp, func.count())
                                          .group_by(r.c.posyandu_id, r.c.grp)):
        reg[pid][grp] = int(n)
    v = _visited(pos, first, last)
    vis: dict = defaultdict(dict)
    for pid, grp, n in db.session.execute(select(v.c.posyandu_id, v.c.grp, func.count(func.distinct(v.c.person_id)))
                                          .group_by(v.c.posyandu_id, v.c.grp)):
        vis[pid][grp] = int(n)
    return reg, vis


def attendance_by_posyandu(pos: Select, month: date) -> dict[int, tuple[int, int]]:
    """Kader duties on the hari buka held in the month, and how many were present."""
    first, last = dom.month_start(month), dom.month_end(month)
    rows = db.session.execute(
        select(HariBuka.posyandu_id, func.count(Duty.id), _n(Duty.present.is_(True)))
        .join(Duty, Duty.hari_buka_id == HariBuka.id)
        .where(HariBuka.posyandu_id.in_(pos), HariBuka.held_on >= first, HariBuka.held_on <= last)
        .group_by(HariBuka.posyandu_id)).all()
    return {pid: (int(n), int(p)) for pid, n, p in rows}


def monthly_by_posyandu(pos: Select, month: date, wide: bool = False, risk: bool = False,
                        parallel: bool = False) -> dict[int, dom.Area]:
    """Everything the monthly report counts, per Posyandu of the area: an approved Posyandu-month from its
    snapshot (frozen at approval), the others from the live tables (`parallel`: see live_by_posyandu), kept per
    Posyandu until a commit changes one of its records (services.changes)."""
    from . import changes, month_snapshot

    frozen = month_snapshot.read(pos, month, "report")
    rest = list(db.session.scalars(_not_in(pos, frozen)))
    kept = changes.kept("report", (dom.month_start(month), wide, risk), rest, lambda stale: {
        pid: month_snapshot.to_plain(area) for pid, area in live_by_posyandu(stale, month, wide, risk, parallel).items()})
    out = {pid: month_snapshot.from_plain(plain) for pid, plain in kept.items()}
    for pid, plain in frozen.items():
        if plain is not None:
            out[pid] = area = month_snapshot.from_plain(plain)
            if not risk:  # the snapshot counts the children at risk; a report that does not ask shows none
                for cell in area.cells.values():
                    cell.at_risk = 0
    return out


def _rest_ids(pos: Select, frozen: dict) -> list[int] | None:
    """The ids of the Posyandu of `pos` without a snapshot (None when there are no snapshots: all of them)."""
    if not frozen:
        return None
    return list(db.session.scalars(_not_in(pos, frozen)))


def _not_in(pos: Select, ids) -> Select:
    """The Posyandu of `pos` other than `ids` (those read from snapshots)."""
    return select(Posyandu.id).where(Posyandu.id.in_(pos), Posyandu.id.not_in(list(ids)))


def not_final(pos: Select, month: date) -> list[tuple[int, str]]:
    """The Posyandu of the area whose month is not approved: their numbers may still change. By name."""
    from ..models import PosyanduMonth

    approved = select(PosyanduMonth.posyandu_id).where(PosyanduMonth.month == dom.month_start(month),
                                                       PosyanduMonth.state == "approved")
    return [tuple(r) for r in db.session.execute(
        select(Posyandu.id, Posyandu.name).where(Posyandu.id.in_(pos), Posyandu.id.not_in(approved))
        .order_by(Posyandu.name, Posyandu.id))]


def final_on(pos: Select, month: date) -> date | None:
    """When every Posyandu of the area has the month approved: the day of the last approval (district time), which
    the documents print instead of the day of printing, so a closed month prints the same bytes. Else None."""
    from ..models import PosyanduMonth
    from .months import local_date

    n_pos = db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(pos)))
    n, last = db.session.execute(select(func.count(), func.max(PosyanduMonth.approved_at)).where(
        PosyanduMonth.posyandu_id.in_(pos), PosyanduMonth.month == dom.month_start(month),
        PosyanduMonth.state == "approved")).one()
    return local_date(last) if n_pos and n == n_pos and last is not None else None


def live_by_posyandu(pos: Select, month: date, wide: bool = False, risk: bool = False,
                     parallel: bool = False) -> dict[int, dom.Area]:
    """Everything the monthly report counts, per Posyandu of the area, from the live tables (six grouped
    queries). `parallel`: a report page's read (nothing of its own uncommitted), which may run the heavy queries
    at once (`database.concurrently`)."""
    from ..database import concurrently

    calls = [(skdn_by_posyandu, pos, month, wide, risk), (ilp_by_posyandu, pos, month),
             (_small_parts, pos, month)]
    if parallel:
        skdn, (reg, vis), (mothers, vit_a, att) = concurrently(calls)
    else:
        skdn, (reg, vis), (mothers, vit_a, att) = (fn(*args) for fn, *args in calls)
    out: dict[int, dom.Area] = {}
    for pid in set(skdn) | set(mothers) | set(vit_a) | set(reg) | set(vis) | set(att):
        a = dom.Area(cells=skdn.get(pid, {}))
        a.vitamin_a.update(vit_a.get(pid, {}))
        a.ibu_hamil, a.lila_measured, a.kek = mothers.get(pid, (0, 0, 0))
        a.ilp_registered, a.ilp_visited = dict(reg.get(pid, {})), dict(vis.get(pid, {}))
        a.duties, a.present = att.get(pid, (0, 0))
        out[pid] = a
    return out


def _small_parts(pos: Select, month: date) -> tuple:
    report_reading()
    return mothers_by_posyandu(pos, month), vitamin_a_by_posyandu(pos, month), attendance_by_posyandu(pos, month)


def total(areas) -> dom.Area:
    out = dom.Area()
    for a in areas:
        out.add(a)
    return out


def roll_up(by_pos: dict[int, dom.Area], rows: list[PosyanduRow], level: str) -> list[tuple[int, str, dom.Area]]:
    """Sum Posyandu figures into kelurahan, puskesmas or kecamatan: (id, name, area), by name."""
    sums: dict = {}
    names: dict = {}
    for r in rows:
        key, name = {"kelurahan": (r.kelurahan_id, r.kelurahan), "puskesmas": (r.puskesmas_id, r.puskesmas),
                     "kecamatan": (r.kecamatan_id, r.kecamatan), "posyandu": (r.id, r.name)}[level]
        if key is None:
            continue
        names[key] = name
        sums.setdefault(key, dom.Area())
        if r.id in by_pos:
            sums[key].add(by_pos[r.id])
    return sorted(((k, names[k], a) for k, a in sums.items()), key=lambda t: t[1])


# --- trends and risk ---------------------------------------------------------------------------------------

def _month_key(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def prevalence_trend(pos: Select, month: date, months: int = 12, wide: bool = False) -> list[tuple[date, dom.Cell]]:
    """Stunting, wasting and underweight prevalence per month over the last `months` months. An approved
    Posyandu-month counts from its snapshot's figures; the live tables are read only for the months some Posyandu
    of the area has not approved (one query over those months)."""
    from . import month_snapshot

    first = dom.shift_month(month, -(months - 1))
    frozen = month_snapshot.read_months(pos, first, dom.month_end(month), "trend")
    n_pos = db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(pos)))
    sums = {mo: dom.Cell() for mo in dom.months_back(month, months)}
    done = defaultdict(int)
    for pid, mo in frozen:
        done[mo] += 1
    unfinished = [mo for mo in sums if done[mo] < n_pos]
    if unfinished:  # from the first month not all frozen to the last: usually the current month alone
        live = trend_by_posyandu(pos, month, months, wide, since=min(unfinished), until=max(unfinished))
        for (pid, mo), cell in live.items():
            if (pid, mo) not in frozen and mo in sums:
                sums[mo].add(cell)
    for (pid, mo), plain in frozen.items():
        if mo in sums:
            sums[mo].add(month_snapshot.cell_from_plain(plain))
    return list(sums.items())


def trend_by_posyandu(pos: Select, month: date, months: int = 12, wide: bool = False,
                      since: date | None = None, until: date | None = None) -> dict[tuple[int, date], dom.Cell]:
    """The trend's counts per Posyandu and month, from the live tables: one query, on the latest valid
    measurement of each child in each month. "Child" here is under five at the measurement
    (age_days < UNDER_FIVE_DAYS): one cut-off for every month of the trend. `since`/`until` narrow the months
    read (the children considered stay those of the whole window)."""
    report_reading()
    window = dom.shift_month(month, -(months - 1))
    first = max(window, dom.month_start(since)) if since else window
    last = dom.month_end(min(month, until) if until else month)
    mk = _month_key(Measurement.measured_on)
    where = [Measurement.measured_on >= first, Measurement.measured_on <= last, Measurement.flagged.is_(False),
             Measurement.age_days < UNDER_FIVE_DAYS]
    if not wide:
        where.append(Measurement.person_id.in_(select(Person.id).where(
            Person.posyandu_id.in_(pos), Person.birth_date > dom.latest_birth_for_age(window, 60 + months))))
    m = (select(Measurement.person_id, mk.label("mk"), Measurement.waz, Measurement.lhaz, Measurement.whz,
                func.row_number().over(partition_by=(Measurement.person_id, mk),
                                       order_by=(Measurement.measured_on.desc(), Measurement.id.desc())).label("rn"))
         .where(*where)).subquery("m")
    rows = db.session.execute(
        select(m.c.mk, Person.posyandu_id, func.count(m.c.lhaz), _n(m.c.lhaz < dom.STUNTED), func.count(m.c.whz),
               _n(m.c.whz < dom.WASTED), func.count(m.c.waz), _n(m.c.waz < dom.UNDERWEIGHT))
        .join(Person, Person.id == m.c.person_id)
        .where(m.c.rn == 1, Person.posyandu_id.in_(pos), Person.deleted_at.is_(None))
        .group_by(m.c.mk, Person.posyandu_id)).all()
    return {(pid, date(int(k[:4]), int(k[5:7]), 1)): dom.Cell(lhaz_n=int(a), stunted=int(b), whz_n=int(c),
                                                               wasted=int(d), waz_n=int(e), underweight=int(f))
            for k, pid, a, b, c, d, e, f in rows}


def _current_roles(pos: Select, on: date):
    return (KaderRole.posyandu_id.in_(pos), KaderRole.start_date <= on,
            or_(KaderRole.end_date.is_(None), KaderRole.end_date >= on), Kader.deleted_at.is_(None))


def kader_by_posyandu(pos: Select, on: date) -> dict[int, dict[str, list[int]]]:
    """Per Posyandu: the kader with a current role on the day, and those trained (any stratum), as ids."""
    from . import roster

    where = _current_roles(pos, on)
    strata = roster.strata(select(KaderRole.kader_id).join(Kader, Kader.id == KaderRole.kader_id).where(*where))
    out: dict = defaultdict(lambda: {"current": set(), "trained": set()})
    for pid, kid in db.session.execute(select(KaderRole.posyandu_id, KaderRole.kader_id)
                                       .join(Kader, Kader.id == KaderRole.kader_id).where(*where).distinct()):
        out[pid]["current"].add(kid)
        if strata.get(kid):
            out[pid]["trained"].add(kid)
    return {pid: {k: sorted(v) for k, v in d.items()} for pid, d in out.items()}


def trained_kader(pos: Select, on: date, month: date | None = None) -> tuple[int, int]:
    """Kader with a current role in the area, and those trained (any stratum, by the roster's competence rule).
    With `month`, an approved Posyandu-month's kader come from its snapshot (a kader of two Posyandu counts once)."""
    from . import month_snapshot

    frozen = month_snapshot.present(month_snapshot.read(pos, month, "kader")) if month is not None else {}
    ids, trained = set(), set()
    for data in frozen.values():
        ids.update((data or {}).get("current", []))
        trained.update((data or {}).get("trained", []))
    rest = _rest_ids(pos, frozen)
    if rest is None or rest:
        for data in kader_by_posyandu(pos if rest is None else rest, on).values():
            ids.update(data["current"])
            trained.update(data["trained"])
    return len(ids), len(trained)


def incentive_totals(pos: Select, month: date) -> dict | None:
    """Incentive lines of the month for the kelurahan of the area, by batch status (None if none computed)."""
    from ..models import IncentiveBatch, IncentiveLine

    kel = select(Posyandu.kelurahan_id).where(Posyandu.id.in_(pos))
    rows = db.session.execute(
        select(IncentiveBatch.status, func.count(IncentiveLine.id), func.coalesce(func.sum(IncentiveLine.gross), 0),
               func.coalesce(func.sum(IncentiveLine.net), 0))
        .join(IncentiveLine, IncentiveLine.batch_id == IncentiveBatch.id)
        .where(IncentiveBatch.kelurahan_id.in_(kel), IncentiveBatch.month == dom.month_start(month))
        .group_by(IncentiveBatch.status)).all()
    if not rows:
        return None
    return {status: {"lines": int(n), "gross": int(g), "net": int(net)} for status, n, g, net in rows}


# --- the lists behind the numbers ---------------------------------------------------------------------------

def people_behind(pos: Select, month: date, metric: str, band: str | None = None, sex: str | None = None,
                  wide: bool = False, grouped: bool = False) -> Select:
    """The people behind one number: a select of (Person, detail) ordered by Posyandu and name (the children at
    risk most urgent first: across the area, or within each Posyandu when `grouped`)."""
    first, last = dom.month_start(month), dom.month_end(month)
    if metric in CHILD_METRICS:
        c = child_month(pos, month, wide, risk=metric == "at_risk")
        q = select(Person, _child_detail(c, metric).label("detail")).join(c, c.c.person_id == Person.id).where(
            *_child_list_conditions(c, metric, band, sex))
        return q.where(Person.posyandu_id.in_(pos), on_roll(first)).order_by(*_child_order(c, metric, grouped))
    if metric in ("vita_biru", "vita_merah"):
        given = (select(ServiceRecord.person_id, func.min(ServiceRecord.given_on).label("given_on"))
                 .where(ServiceRecord.kind == "vitamin_a", ServiceRecord.code == metric.removeprefix("vita_"),
                        ServiceRecord.deleted_at.is_(None), ServiceRecord.given_on >= first,
                        ServiceRecord.given_on <= last).group_by(ServiceRecord.person_id).subquery("g"))
        q = select(Person, given.c.given_on.label("detail")).join(given, given.c.person_id == Person.id)
    elif metric in ("ibu_hamil", "kek"):
        preg = (select(Pregnancy.person_id, func.max(Pregnancy.hpht).label("hpht"))
                .where(_active_pregnancy(first, last)).group_by(Pregnancy.person_id).subquery("p"))
        if metric == "ibu_hamil":
            q = select(Person, preg.c.hpht.label("detail")).join(preg, preg.c.person_id == Person.id)
        else:
            lila = (select(Measurement.person_id, func.min(Measurement.muac_cm).label("muac"))
                    .join(preg, preg.c.person_id == Measurement.person_id)
                    .where(Measurement.measured_on >= first, Measurement.measured_on <= last,
                           Measurement.measured_on >= preg.c.hpht, Measurement.muac_cm < dom.KEK_MUAC_CM)
                    .group_by(Measurement.person_id).subquery("l"))
            q = select(Person, lila.c.muac.label("detail")).join(lila, lila.c.person_id == Person.id)
    elif metric in ILP_METRICS:
        _, which, grp = metric.split("-", 2)
        if which == "reg":
            r = _registered(pos, last)
            q = select(Person, r.c.grp.label("detail")).join(r, r.c.person_id == Person.id).where(r.c.grp == grp)
        else:
            v = _visited(pos, first, last)
            seen = (select(v.c.person_id, func.count().label("n")).where(v.c.grp == grp).group_by(v.c.person_id)
                    .subquery("s"))
            q = select(Person, seen.c.n.label("detail")).join(seen, seen.c.person_id == Person.id)
    else:
        raise ValueError(metric)
    return q.where(Person.posyandu_id.in_(pos), on_roll(first)).order_by(Person.posyandu_id, Person.name, Person.id)


def _child_detail(c, metric: str):
    """The detail column of a child metric's list, from child_month's columns."""
    return {"stunted": c.c.lhaz, "new_stunting": c.c.lhaz, "at_risk": _risk_reason(c)}.get(
        metric, c.c.whz if metric in ("wasted", "gizi_buruk", "gizi_kurang") else
        c.c.waz if metric in ("underweight", "bgm") else c.c.ntob)


def _child_list_conditions(c, metric: str, band: str | None, sex: str | None) -> list:
    return [_child_conditions(c)[metric], *([c.c.band == band] if band else []), *([c.c.sex == sex] if sex else [])]


def _child_order(c, metric: str, grouped: bool = False) -> list:
    """A child list's order: Posyandu and name (the children at risk most urgent first: across the area, or within
    each Posyandu when `grouped`)."""
    order = [Person.posyandu_id, Person.name, Person.id]
    if metric == "at_risk":
        order.insert(1 if grouped else 0, _risk_severity(c))
    return order


# What a child metric's membership reads of the month's weighings (child_month's parts): S and K none at all,
# the SKDN codes the newest weighing, the z-score metrics the newest valid one; the detail is read for the
# page's rows only.
LIST_PARTS = {"S": (), "K": (), "D": ("weighed",), "tidak_hadir": ("weighed",), "N": ("last",), "T": ("last",),
              "O": ("last",), "B": ("last",), "bgm": ("last",), "two_t": ("last",),
              "gizi_buruk": ("valid",), "gizi_kurang": ("valid",), "stunted": ("valid",), "wasted": ("valid",),
              "underweight": ("valid",), "new_stunting": ("new_stunting",), "at_risk": ("last", "valid")}


def list_page(pos: Select, month: date, metric: str, band: str | None = None, sex: str | None = None,
              wide: bool = False, page: int = 1, size: int = 25) -> tuple[list, bool, int]:
    """One page of the list behind a number of the report, whether more follow, and the total: the same rows,
    order, total and details as page_with_total(people_list(...)).

    A live child list is read in one statement in three steps instead of computing every child's whole month:
    its members (the children of S that pass the metric's condition, computed from only the parts of the
    month's weighings it needs: LIST_PARTS), counted and ordered apart (materialised, so a LIMIT cannot make the
    planner probe the area's children one by one); then the page's rows; then the detail of those rows only
    (child_month kept to their ids). SQLite probes each child's whole month whatever the parts: there only the
    lists that need no weighing at all (S, K) are read so."""
    q = people_list(pos, month, metric, band, sex, wide)
    if metric in ILP_METRICS and isinstance(q, Select):
        return _ilp_page(pos, month, metric, page, size)
    if (metric not in CHILD_METRICS or not isinstance(q, Select)
            or (LIST_PARTS[metric] and WEIGHINGS.get(_dialect()) == "probe")):
        return page_with_total(q, page, size)
    report_reading()
    risk = metric == "at_risk"
    slim = child_month(pos, month, wide, risk=risk, parts=LIST_PARTS[metric], named=True)
    # people_behind's order (_child_order) on child_month's own columns: S is read once, not joined to person again
    order = [slim.c.posyandu_id, slim.c.name, slim.c.person_id]
    if risk:
        order.insert(0, _risk_severity(slim))
    keys = [col.label(f"k{i}") for i, col in enumerate(order)]
    members = (select(*keys).where(*_child_list_conditions(slim, metric, band, sex))  # S is on the roll (balita_filter)
               .cte("members").prefix_with("MATERIALIZED"))
    ranked = [members.c[f"k{i}"] for i in range(len(order))]
    pid = members.c[f"k{len(order) - 1}"]  # the last key is the person's id
    chosen = (select(*ranked).order_by(*ranked).offset((page - 1) * size).limit(size + 1)
              .cte("chosen").prefix_with("MATERIALIZED"))
    c = child_month(pos, month, False, risk=risk, ids=select(chosen.c[pid.name]))
    total = select(func.count()).select_from(members).scalar_subquery()
    found = db.session.execute(
        select(Person, _child_detail(c, metric).label("detail"), total.label("all_rows"))
        .join_from(chosen, Person, Person.id == chosen.c[pid.name]).join(c, c.c.person_id == Person.id)
        .order_by(*(chosen.c[k.name] for k in ranked))).all()
    return _page_and_total(found, page, size, members)


def _page_and_total(found: list, page: int, size: int, members) -> tuple[list, bool, int]:
    """(the page's rows, whether more follow, the list's total) from up to size + 1 rows that each end with the
    total; a page past the end has none, so the members are counted."""
    if found:
        total_n = int(found[0][-1])
    else:
        total_n = 0 if page == 1 else db.session.scalar(select(func.count()).select_from(members))
    rows = [tuple(r[:-1]) for r in found]
    return rows[:size], len(rows) > size, total_n


def _ilp_members(pos: Select, month: date, metric: str) -> Select:
    """The members of an ILP list as (posyandu_id, name, id, detail), unordered: people_behind's people, read
    from the person table once (registered: the group's own conditions, _in_group; visited: the month's visits
    in the group counted per person, then their people)."""
    first, last = dom.month_start(month), dom.month_end(month)
    _, which, grp = metric.split("-", 2)
    cols = (Person.posyandu_id.label("k0"), Person.name.label("k1"), Person.id.label("k2"))
    if which == "reg":
        q = select(*cols, literal(grp).label("detail")).where(Person.birth_date <= last, _in_group(grp, last))
    else:
        days = select(HariBuka.id).where(HariBuka.held_on >= first, HariBuka.held_on <= last)
        seen = (select(Visit.person_id, func.count().label("n"))
                .where(Visit.hari_buka_id.in_(days), Visit.group == grp).group_by(Visit.person_id).subquery("s"))
        q = select(*cols, seen.c.n.label("detail")).join(seen, seen.c.person_id == Person.id)
    return q.where(Person.posyandu_id.in_(pos), on_roll(first))


LIST_RANDOM_PAGE_COST = "1.1"


def _list_reading() -> None:
    """report_reading, and on PostgreSQL a random page costed like a cached one for this transaction: a list
    reads a few thousand people by their index (the pregnant, the page's rows) where the default cost (4, for a
    disk) made the planner scan every person of the district instead (ILP lists: ibu hamil 0,5 → 0,1 s at
    150 000 children)."""
    report_reading()
    if _dialect() == "postgresql":
        db.session.execute(text("SELECT set_config('random_page_cost', :cost, true)"),
                           {"cost": LIST_RANDOM_PAGE_COST})


def _ilp_page(pos: Select, month: date, metric: str, page: int, size: int) -> tuple[list, bool, int]:
    """list_page of an ILP list: the same rows, order and total as page_with_total(people_behind(...)).

    Registered: the page walks the people in the list's order (the Posyandu-name index) until it has its rows,
    and the total counts the group apart (from ix_person_roll alone on PostgreSQL, which carries the id the
    pregnancy tests need). Visited: the members (the month's visits in the group, counted per person, and their
    people) are materialised once, counted, and the page picked by a top-N sort — not every member numbered."""
    _list_reading()
    members = _ilp_members(pos, month, metric)
    if metric.startswith("ilp-reg-"):
        m = members.subquery("m")
        total = select(func.count()).select_from(m).scalar_subquery()
        q = select(Person, m.c.detail, total.label("all_rows")).join_from(m, Person, Person.id == m.c.k2)
        q = q.order_by(m.c.k0, m.c.k1, m.c.k2).offset((page - 1) * size).limit(size + 1)
    else:
        m = members.cte("members").prefix_with("MATERIALIZED")
        keys = (m.c.k0, m.c.k1, m.c.k2)
        chosen = (select(*keys, m.c.detail).order_by(*keys).offset((page - 1) * size).limit(size + 1)
                  .cte("chosen").prefix_with("MATERIALIZED"))
        total = select(func.count()).select_from(m).scalar_subquery()
        q = (select(Person, chosen.c.detail, total.label("all_rows"))
             .join_from(chosen, Person, Person.id == chosen.c.k2).order_by(chosen.c.k0, chosen.c.k1, chosen.c.k2))
    return _page_and_total(db.session.execute(q).all(), page, size, m)


DATE_DETAIL = ("vita_biru", "vita_merah", "ibu_hamil")


def lists_by_posyandu(pos: Select, month: date, wide: bool = False) -> dict[int, dict[str, list]]:
    """Every list behind a number, per Posyandu, as the snapshot keeps them: metric → [person id, band, sex,
    detail] rows in the list's order (name; the children at risk most urgent first). Seven queries, whatever
    the number of Posyandu; the conditions and details are people_behind's."""
    report_reading()
    first, last = dom.month_start(month), dom.month_end(month)
    out: dict = defaultdict(lambda: {m: [] for m in METRICS})
    c = child_month(pos, month, wide, risk=True)
    cond = _child_conditions(c)
    details = {"lhaz": c.c.lhaz, "whz": c.c.whz, "waz": c.c.waz, "ntob": c.c.ntob, "reason": _risk_reason(c)}
    q = (select(Person.posyandu_id, Person.id, c.c.band, c.c.sex, _risk_severity(c), *details.values(),
                *(case((cond[m], 1), else_=0) for m in CHILD_METRICS))
         .join(c, c.c.person_id == Person.id).where(Person.posyandu_id.in_(pos), on_roll(first))
         .order_by(Person.posyandu_id, Person.name, Person.id))
    risky: dict = defaultdict(list)
    for pid, person_id, band, sex, severity, lhaz, whz, waz, ntob, reason, *flags in db.session.execute(q):
        for metric, flag in zip(CHILD_METRICS, flags):
            if not flag:
                continue
            detail = {"stunted": lhaz, "new_stunting": lhaz, "at_risk": reason}.get(
                metric, whz if metric in ("wasted", "gizi_buruk", "gizi_kurang") else
                waz if metric in ("underweight", "bgm") else ntob)
            if metric == "at_risk":
                risky[pid].append((severity, [person_id, band, sex, detail]))
            else:
                out[pid][metric].append([person_id, band, sex, detail])
    for pid, rows in risky.items():
        out[pid]["at_risk"] = [row for _, row in sorted(rows, key=lambda t: t[0])]  # stable: name order kept
    for metric in ("vita_biru", "vita_merah", "ibu_hamil", "kek"):
        q = people_behind(pos, month, metric)
        detail = q.selected_columns.detail
        for pid, person_id, value in db.session.execute(q.with_only_columns(Person.posyandu_id, Person.id, detail)):
            out[pid][metric].append([person_id, None, None, value.isoformat() if isinstance(value, date) else value])
    r = _registered(pos, last)
    for pid, person_id, grp in db.session.execute(
            select(Person.posyandu_id, Person.id, r.c.grp).join(r, r.c.person_id == Person.id)
            .where(Person.posyandu_id.in_(pos), on_roll(first)).order_by(Person.posyandu_id, Person.name, Person.id)):
        out[pid][f"ilp-reg-{grp}"].append([person_id, None, None, grp])
    v = _visited(pos, first, last)
    seen = select(v.c.person_id, v.c.grp, func.count().label("n")).group_by(v.c.person_id, v.c.grp).subquery("s")
    for pid, person_id, grp, n in db.session.execute(
            select(Person.posyandu_id, Person.id, seen.c.grp, seen.c.n).join(seen, seen.c.person_id == Person.id)
            .where(Person.posyandu_id.in_(pos), on_roll(first)).order_by(Person.posyandu_id, Person.name, Person.id)):
        out[pid][f"ilp-vis-{grp}"].append([person_id, None, None, int(n)])
    return {pid: {m: rows for m, rows in lists.items() if rows} for pid, lists in out.items()}


class Listed(tuple):
    """A (Person, detail) row of a closed month's list, with the Posyandu it was counted in: its id and its name
    at approval (None when the snapshot did not keep it)."""

    def __new__(cls, person, detail, posyandu_id: int, posyandu: str | None):
        row = super().__new__(cls, (person, detail))
        row.posyandu_id, row.posyandu = posyandu_id, posyandu
        return row


def counted_in(row, names: dict[int, str]) -> str:
    """The Posyandu a list row was counted in: for a closed month, the one (and its name) at approval; else the
    person's own, by `names` (posyandu_names of the area)."""
    if isinstance(row, Listed):
        return row.posyandu or names.get(row.posyandu_id, "")
    return names.get(row[0].posyandu_id, "")


class PeopleList:
    """The people behind a number over an area that holds approved months: the approved Posyandu's people from
    their snapshots (the list that matches the frozen number), the others' from the live tables. Posyandu by
    id, then the list's order within each. Rows are (Person, detail) like people_behind's; a frozen one is a
    `Listed`, which also says the Posyandu at approval."""

    CHUNK = 2000

    def __init__(self, live: Select | None, frozen: dict[int, tuple[list, list]], metric: str,
                 posyandu: dict[int, str | None] | None = None):
        # frozen: Posyandu id → (person ids, details), in the list's order
        self.live, self.frozen, self.metric = live, frozen, metric
        self.posyandu = posyandu or {}

    def count(self) -> int:
        live = count_of(self.live) if self.live is not None else 0
        return live + sum(len(ids) for ids, _details in self.frozen.values())

    def _live_rows(self):
        if self.live is None:
            return
        offset = 0
        while True:
            rows = db.session.execute(self.live.offset(offset).limit(self.CHUNK)).all()
            yield from rows
            if len(rows) < self.CHUNK:
                return
            offset += self.CHUNK

    def _frozen_rows(self, pid: int, columns: tuple[list, list]):
        ids, details = columns
        name = self.posyandu.get(pid)
        i, size = 0, 100  # a first page needs few people: load them in growing chunks
        while i < len(ids):
            part = ids[i:i + size]
            people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(part)))}
            for person_id, detail in zip(part, details[i:i + size]):
                if person_id in people:
                    if self.metric in DATE_DETAIL and isinstance(detail, str):
                        detail = date.fromisoformat(detail)
                    yield Listed(people[person_id], detail, pid, name)
            i, size = i + size, min(size * 4, self.CHUNK)

    def rows(self, limit: int | None = None):
        """All rows in order (a generator: no cursor stays open between chunks)."""
        live = self._live_rows()
        pending = next(live, None)
        for pid in sorted(self.frozen):
            while pending is not None and pending[0].posyandu_id < pid:
                yield pending
                pending = next(live, None)
            yield from self._frozen_rows(pid, self.frozen[pid])
        while pending is not None:
            yield pending
            pending = next(live, None)


def people_list(pos: Select, month: date, metric: str, band: str | None = None, sex: str | None = None,
                wide: bool = False) -> "Select | PeopleList":
    """The people behind one number of the report as the report counts it: people_behind when no Posyandu of the
    area has its month approved, else a PeopleList mixing snapshots (only this metric's list of each) and live
    rows."""
    from . import month_snapshot

    frozen = month_snapshot.present(month_snapshot.read(pos, month, f"lists/{metric}"))
    if not frozen:
        return people_behind(pos, month, metric, band, sex, wide)
    rest = _rest_ids(pos, frozen)
    live = people_behind(select(Posyandu.id).where(Posyandu.id.in_(rest)), month, metric, band, sex, wide,
                         grouped=True) if rest else None
    columns, names = {}, {}
    for pid, part in frozen.items():
        columns[pid], names[pid] = month_snapshot.columns(part, band, sex)
    return PeopleList(live, columns, metric, names)


def page_of(q: "Select | PeopleList", page: int, size: int) -> tuple[list, bool]:
    if isinstance(q, PeopleList):
        from itertools import islice

        rows = list(islice(q.rows(), (page - 1) * size, page * size + 1))
    else:
        rows = db.session.execute(q.offset((page - 1) * size).limit(size + 1)).all()
    return rows[:size], len(rows) > size


def page_with_total(q: "Select | PeopleList", page: int, size: int) -> tuple[list, bool, int]:
    """One page of a list behind a number, whether more follow, and how many there are in all. A live list is one
    query: the total is a window count over the same rows, so the heavy part (the month of every child of the
    area) runs once, not once for the page and again for the count."""
    if isinstance(q, PeopleList):
        rows, more = page_of(q, page, size)
        return rows, more, q.count()
    report_reading()
    if _dialect() == "postgresql":
        found = db.session.execute(_numbered_page(q, page, size)).all()
    else:
        found = db.session.execute(q.add_columns(func.count().over().label("all_rows"))
                                   .offset((page - 1) * size).limit(size + 1)).all()
    if found:
        total = int(found[0][-1])
    else:
        total = 0 if page == 1 else count_of(q)  # a page past the end: counted apart
    rows = [tuple(r[:-1]) for r in found]
    return rows[:size], len(rows) > size, total


def _numbered_page(q: Select, page: int, size: int) -> Select:
    """PostgreSQL: the list numbered in a materialised CTE, the page picked by number. With a LIMIT on the query
    itself the planner expects to stop early (it does not see that the window count reads every row) and joins a
    district's children to their month row by row: minutes instead of a second."""
    order = q._order_by_clauses  # the list's own order (people_behind)
    numbered = (q.with_only_columns(Person.id.label("pid"), q.selected_columns.detail.label("detail"),
                                    func.count().over().label("all_rows"),
                                    func.row_number().over(order_by=order).label("rn"))
                .order_by(None).cte("numbered").prefix_with("MATERIALIZED"))
    first = (page - 1) * size
    return (select(Person, numbered.c.detail, numbered.c.all_rows).join(numbered, numbered.c.pid == Person.id)
            .where(numbered.c.rn > first, numbered.c.rn <= first + size + 1).order_by(numbered.c.rn))


def count_of(q: "Select | PeopleList") -> int:
    if isinstance(q, PeopleList):
        return q.count()
    return db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))


def posyandu_names(pos: Select) -> dict[int, str]:
    return dict(db.session.execute(select(Posyandu.id, Posyandu.name).where(Posyandu.id.in_(pos))).all())


