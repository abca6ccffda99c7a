"""Monthly reports and roll-ups, aggregated in SQL: a handful of GROUP BY queries per report, grouped by
Posyandu, summed up the tree in Python (80 Posyandu, not 150 000 children). Read-only; no Flask request here.

Every function takes a select of Posyandu ids (`pos`) already limited to the user's scope (see `area_posyandu`).
The per-child subquery `child_month` is shared by the counts and by the lists behind them, so a number and its
list always agree.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

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


def _measured(pos: Select, last: date, wide: bool):
    """Which measurements to read. For a small area, those of its balita (through the person index); for a
    kecamatan or the district, the whole date range (through the date index) — the join to S keeps the area."""
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


def _month_rows(pos: Select, first: date, last: date, wide: bool) -> tuple:
    return (Measurement.measured_on >= first, Measurement.measured_on <= last, Measurement.weight_kg.is_not(None),
            _measured(pos, last, wide))


def _month_weighings_window(pos: Select, first: date, last: date, wide: bool):
    """Per child weighed in the month: the last weighing's codes, and the latest valid z-scores."""
    # One window (one sort): the row number, and a running count of valid rows, newest first — the latest valid
    # row is the unflagged one where that count reaches 1.
    newest = dict(partition_by=Measurement.person_id, order_by=(Measurement.measured_on.desc(), Measurement.id.desc()))
    m = (select(Measurement.person_id, Measurement.ntob, Measurement.bgm, Measurement.two_t, Measurement.flagged,
                Measurement.waz, Measurement.lhaz, Measurement.whz, Measurement.new_stunting,
                func.row_number().over(**newest).label("rn"),
                func.sum(case((Measurement.flagged.is_(False), 1), else_=0)).over(
                    rows=(None, 0), **newest).label("rv"))
         .where(*_month_rows(pos, first, last, wide))).subquery("m")
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


def _weighed_by_distinct(q: Select, pos: Select, first: date, last: date, wide: bool) -> Select:
    """child_month's weighing columns on PostgreSQL: each child's newest weighing of the month (a DISTINCT ON
    (person) over the month's rows) and her newest valid one (that one unless it is flagged: another DISTINCT ON
    for the children with a flagged weighing in the month only), and whether any valid one marks new stunting.
    The same rows as _month_weighings_window without its running count over a sorted window (41 ms against
    61–73 ms for a district month at 150 000 children).

    The three are joined to each other first (the month's weighed children: every child of mv and ns is one of
    ml), and the result once to the children of S: joined to S one by one, each child of the district went
    through three hash joins, which made a month with few weighings yet (the current one) slower than the
    window's single join."""
    def newest(name: str, *valid):
        return (select(Measurement.person_id, Measurement.ntob, Measurement.bgm, Measurement.two_t,
                       Measurement.flagged, Measurement.waz, Measurement.lhaz, Measurement.whz)
                .where(*_month_rows(pos, first, last, wide), *valid)
                .ext(distinct_on(Measurement.person_id))
                .order_by(Measurement.person_id, Measurement.measured_on.desc(), Measurement.id.desc())
                .subquery(name))

    ml = newest("ml")
    # the newest valid one is the newest unless that is flagged: look further for those children only
    flagged = select(Measurement.person_id).where(*_month_rows(pos, first, last, wide), Measurement.flagged.is_(True))
    mv = newest("mv", Measurement.flagged.is_(False), Measurement.person_id.in_(flagged))
    ns = (select(Measurement.person_id)
          .where(*_month_rows(pos, first, last, wide), Measurement.new_stunting.is_(True),
                 Measurement.flagged.is_(False))
          .group_by(Measurement.person_id).subquery("ns"))
    z = tuple(case((ml.c.flagged.is_(False), ml.c[k]), else_=mv.c[k]) for k in ("waz", "lhaz", "whz"))
    w = (select(ml.c.person_id.label("person_id"), func.coalesce(ml.c.ntob, "O").label("ntob"),
                case((ml.c.bgm.is_(True), 1), else_=0).label("bgm"),
                case((ml.c.two_t.is_(True), 1), else_=0).label("two_t"),
                *(col.label(name) for col, name in zip(z, ("waz", "lhaz", "whz"))),
                case((ns.c.person_id.is_not(None), 1), else_=0).label("new_stunting"))
         .outerjoin(mv, mv.c.person_id == ml.c.person_id).outerjoin(ns, ns.c.person_id == ml.c.person_id)
         .subquery("w"))
    return (q.add_columns(w.c.person_id.label("weighed"), w.c.ntob, w.c.bgm, w.c.two_t, w.c.waz, w.c.lhaz, w.c.whz,
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


def _falling(pos: Select, month: date, wide: bool):
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
                Measurement.flagged.is_(False), Measurement.lhaz.is_not(None), _measured(pos, last, wide))
         ).subquery("h")
    # Grouped, so SQLite materialises it once instead of re-running the window for every child it is joined to.
    return (select(h.c.person_id.label("person_id"))
            .where(h.c.next_id.is_(None), h.c.measured_on >= first, h.c.l2 > h.c.l1, h.c.l1 > h.c.lhaz,
                   h.c.l2 - h.c.lhaz >= dom.FALLING_LHAZ, h.c.lhaz >= dom.STUNTED)
            .group_by(h.c.person_id).subquery("f"))


def _falling_by_probe(pos: Select, month: date) -> Select:
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
         .where(balita_filter(pos, last), exists().where(*valid(now, first)))
         .group_by(Person.id).subquery("z"))  # grouped: computed once, not once per use of each column
    return (select(z.c.person_id.label("person_id"))
            .where(z.c.l2 > z.c.l1, z.c.l1 > z.c.l0, z.c.l2 - z.c.l0 >= dom.FALLING_LHAZ, z.c.l0 >= dom.STUNTED)
            .subquery("f"))


# How child_month reads the month's weighings, per backend: SQLite probes the person-date index per child,
# PostgreSQL takes each child's newest (and newest valid) row with DISTINCT ON (hash joins; its sorts fit
# work_mem, see report_reading). "window" is the generic path the others are tested against.
WEIGHINGS = {"sqlite": "probe", "postgresql": "distinct"}

def child_month(pos: Select, month: date, wide: bool = False, risk: bool = False, method: str | None = None):
    """One row per child in S: Posyandu, band, sex, K, the month's weighing figures (NULL if not weighed), and
    with `risk` whether TB/U is falling (a three-month window: only the at-risk list and counts ask for it).
    `method` ("probe", "distinct" on PostgreSQL, or "window") overrides the backend's way of reading the
    weighings (tests compare them)."""
    first, last = dom.month_start(month), dom.month_end(month)
    q = select(Person.id.label("person_id"), Person.posyandu_id.label("posyandu_id"), Person.sex.label("sex"),
               _band_expr(Person.birth_date, last).label("band"),
               case((Person.has_kia_book.is_(True), 1), else_=0).label("k"))
    method = method or WEIGHINGS.get(_dialect(), "window")
    if method == "probe":
        q = _weighed_by_probe(q, first, last)
    elif method == "distinct":
        q = _weighed_by_distinct(q, pos, first, last, wide)
    else:
        w = _month_weighings_window(pos, first, last, wide)
        q = q.add_columns(w.c.person_id.label("weighed"), w.c.ntob, w.c.bgm, w.c.two_t, w.c.waz, w.c.lhaz, w.c.whz,
                          w.c.new_stunting).outerjoin(w, w.c.person_id == Person.id)
    if risk:
        f = _falling_by_probe(pos, month) if method == "probe" else _falling(pos, month, wide)
        q = q.add_columns(f.c.person_id.label("falling")).outerjoin(f, f.c.person_id == Person.id)
    else:
        q = q.add_columns(literal(None).label("falling"))
    q = q.where(balita_filter(pos, last))
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
    kept = changes.kept("report", (dom.month_start(month), wide, risk), _not_in(pos, frozen), lambda stale: {
        pid: month_snapshot.to_plain(area)
        for pid, area in live_by_posyandu(stale, month, _wide(stale, wide), risk, parallel).items()})
    out = {pid: month_snapshot.from_plain(plain) for pid, plain in kept.items()}
    for pid, plain in frozen.items():
        if plain is not None:
            out[pid] = area = month_snapshot.from_plain(plain)
            if not risk:  # the snapshot counts the children at risk; a report that does not ask shows none
                for cell in area.cells.values():
                    cell.at_risk = 0
    return out


WIDE_FROM = 8  # Posyandu


def _wide(posyandu_ids: list[int], wide: bool) -> bool:
    """How to read the Posyandu whose kept figures are stale (services.changes): a kecamatan's or the district's
    way (`wide`: the month's rows by date) when many are, a small area's (by their people) when a few changed
    since the last read — the same numbers either way, four Posyandu of a district in a tenth of the time."""
    return wide and len(posyandu_ids) >= WIDE_FROM


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
    from . import changes, month_snapshot

    first = dom.shift_month(month, -(months - 1))
    frozen = month_snapshot.read_months(pos, first, dom.month_end(month), "trend")
    n_pos = db.session.scalar(select(func.count()).select_from(Posyandu).where(Posyandu.id.in_(pos)))
    sums = {mo: dom.Cell() for mo in dom.months_back(month, months)}
    done = defaultdict(int)
    for pid, mo in frozen:
        done[mo] += 1
    unfinished = [mo for mo in sums if done[mo] < n_pos]
    if unfinished:  # from the first month not all frozen to the last: usually the current month alone
        since, until = min(unfinished), max(unfinished)
        # kept per Posyandu until a commit changes one of its records (services.changes)
        live = changes.kept("trend", (month, months, wide, since, until), pos, lambda stale: _by_posyandu(
            trend_by_posyandu(stale, month, months, _wide(stale, wide), since=since, until=until)))
        for pid, cells in live.items():
            for mo, cell in cells.items():
                if (pid, mo) not in frozen and mo in sums:
                    sums[mo].add(cell)
    for (pid, mo), plain in frozen.items():
        if mo in sums:
            sums[mo].add(month_snapshot.cell_from_plain(plain))
    return list(sums.items())


def _by_posyandu(cells: dict[tuple[int, date], dom.Cell]) -> dict[int, dict[date, dom.Cell]]:
    out: dict = defaultdict(dict)
    for (pid, mo), cell in cells.items():
        out[pid][mo] = cell
    return out


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
        return _child_list(pos, month, metric, band, sex, wide, grouped,
                           lambda c: (Person, _child_detail(c, metric).label("detail")))
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


def _child_list(pos: Select, month: date, metric: str, band: str | None, sex: str | None, wide: bool,
                grouped: bool, columns) -> Select:
    """The children behind a child metric, in the list's order: `columns(c)` of child_month's `c` and Person."""
    c = child_month(pos, month, wide, risk=metric == "at_risk")
    return (select(*columns(c)).join(c, c.c.person_id == Person.id)
            .where(*_child_list_conditions(c, metric, band, sex), Person.posyandu_id.in_(pos),
                   on_roll(dom.month_start(month)))
            .order_by(*_child_order(c, metric, grouped)))


def live_lists(posyandu_ids: list[int], month: date, metric: str, wide: bool = False) -> dict[int, tuple]:
    """The live list behind one number of each of these Posyandu, whole: (person ids, details, bands, sexes,
    severities) in the list's order within the Posyandu (band and sex for the children's lists, to filter by;
    the severity for the children at risk, to order them across Posyandu). A Posyandu with nobody in the list
    is left out."""
    if metric in ILP_METRICS:
        _list_reading()  # report_reading, and a random page costed as cached
    else:
        report_reading()
    pos = select(Posyandu.id).where(Posyandu.id.in_(posyandu_ids))
    if metric in CHILD_METRICS:
        q = _child_list(pos, month, metric, None, None, wide, True, lambda c: (
            Person.posyandu_id, Person.id, _child_detail(c, metric), c.c.band, c.c.sex,
            _risk_severity(c) if metric == "at_risk" else literal(None)))
    elif metric in ILP_METRICS:
        m = _ilp_members(pos, month, metric).subquery("m")
        q = select(m.c.k0, m.c.k2, m.c.detail, literal(None), literal(None), literal(None)).order_by(
            m.c.k0, m.c.k1, m.c.k2)
    else:
        q = people_behind(pos, month, metric, grouped=True)
        q = q.with_only_columns(Person.posyandu_id, Person.id, q.selected_columns.detail, literal(None),
                                literal(None), literal(None))
    rows: dict = defaultdict(list)
    for pid, *row in db.session.execute(q):
        rows[pid].append(row)
    return {pid: tuple(tuple(col) for col in zip(*found)) for pid, found in rows.items()}


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


def list_page(pos: Select, month: date, metric: str, band: str | None = None, sex: str | None = None,
              wide: bool = False, page: int = 1, size: int = 25) -> tuple[list, bool, int]:
    """One page of the list behind a number of the report, whether more follow, and the total."""
    return people_list(pos, month, metric, band, sex, wide).page(page, size)


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
    """The people behind a number over an area, Posyandu by Posyandu: an approved Posyandu-month's from its snapshot
    (the list that matches the frozen number), the others' as computed from the live tables (live_lists, kept
    under their change tokens). Posyandu by id, then the list's order within each; `across` ((Posyandu id,
    index) pairs) orders the rows across Posyandu instead (the children at risk, most urgent first). Rows are
    `Listed` (Person, detail) pairs that also say the Posyandu counted in."""

    CHUNK = 2000

    def __init__(self, parts: dict[int, tuple], metric: str, posyandu: dict[int, str | None] | None = None,
                 across: list[tuple[int, int]] | None = None):
        # parts: Posyandu id → (person ids, details), in the list's order
        self.parts, self.metric, self.across = parts, metric, across
        self.posyandu = posyandu or {}

    def count(self) -> int:
        return sum(len(ids) for ids, _details in self.parts.values())

    def _entries(self):
        if self.across is not None:
            for pid, i in self.across:
                ids, details = self.parts[pid]
                yield pid, ids[i], details[i]
            return
        for pid in sorted(self.parts):
            ids, details = self.parts[pid]
            for person_id, detail in zip(ids, details):
                yield pid, person_id, detail

    def rows(self):
        """All rows in order (a generator; the people are loaded in growing chunks: a first page needs few)."""
        return self._listed(self._entries())

    def page(self, page: int, size: int) -> tuple[list, bool, int]:
        """One page of the rows (only its people loaded), whether more follow, and how many there are in all."""
        entries = list(islice(self._entries(), (page - 1) * size, page * size + 1))
        return list(self._listed(iter(entries[:size]))), len(entries) > size, self.count()

    def _listed(self, entries):
        size = 100
        while part := list(islice(entries, size)):
            people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_([e[1] for e in part])))}
            for pid, person_id, detail in part:
                if person_id in people:
                    if self.metric in DATE_DETAIL and isinstance(detail, str):
                        detail = date.fromisoformat(detail)
                    yield Listed(people[person_id], detail, pid, self.posyandu.get(pid))
            size = min(size * 4, self.CHUNK)


def people_list(pos: Select, month: date, metric: str, band: str | None = None, sex: str | None = None,
                wide: bool = False) -> PeopleList:
    """The people behind one number of the report as the report counts it: an approved Posyandu-month's from its
    snapshot (only this metric's list), the others' from the live tables, kept per Posyandu until a commit
    changes one of its records (services.changes), so paging through a list, or coming back to it, computes
    nothing again."""
    from . import changes, month_snapshot

    if metric not in CHILD_METRICS:  # only the children's lists have an age band and a sex to filter by
        band = sex = None
    frozen = month_snapshot.present(month_snapshot.read(pos, month, f"lists/{metric}"))
    live = changes.kept("list", (dom.month_start(month), wide, metric), _not_in(pos, frozen),
                        lambda stale: live_lists(stale, month, metric, _wide(stale, wide)),
                        weight=lambda part: len(part[0]))
    parts, names, severities = {}, {}, {}
    for pid, part in frozen.items():
        parts[pid], names[pid] = month_snapshot.columns(part, band, sex)
    for pid, (ids, details, bands, sexes, severity) in live.items():
        if band is None and sex is None:
            parts[pid], severities[pid] = (ids, details), severity
            continue
        keep = [i for i in range(len(ids)) if (band is None or bands[i] == band) and (sex is None or sexes[i] == sex)]
        if keep:
            parts[pid] = ([ids[i] for i in keep], [details[i] for i in keep])
            severities[pid] = [severity[i] for i in keep]
    across = None
    if metric == "at_risk" and not frozen:  # most urgent first across the area (a snapshot keeps no severity)
        across = [(pid, i) for _s, pid, i in sorted((sev, pid, i) for pid, sevs in severities.items()
                                                     for i, sev in enumerate(sevs))]
    return PeopleList(parts, metric, names, across)


def posyandu_names(pos: Select) -> dict[int, str]:
    return dict(db.session.execute(select(Posyandu.id, Posyandu.name).where(Posyandu.id.in_(pos))).all())


