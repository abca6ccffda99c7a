"""Posyandu change tokens and the report's figures kept under them (services.changes, issue 15)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from posyandu.domain import reports as dom
from posyandu.extensions import db
from posyandu.models import Measurement, Person, Pregnancy, ServiceRecord
from posyandu.services import changes
from posyandu.services import reports as svc

from .factories import person
from .report_factories import M, build_month, day, weigh
from .test_report_read_paths import _district, _varied_month


def _tokens(tree) -> dict[str, str | None]:
    found = changes.tokens([p.id for p in tree.posyandu.values()])
    return {key: found.get(p.id) for key, p in tree.posyandu.items()}


def _renewed(before: dict, after: dict) -> set[str]:
    return {key for key in after if after[key] != before[key]}


def test_a_commit_renews_the_tokens_of_the_posyandu_it_touched_and_no_other(tree):
    a1, a2, b1 = tree.posyandu["A1"], tree.posyandu["A2"], tree.posyandu["B1"]
    child = person(a1, "Anak A1", "L", M - timedelta(days=400))
    db.session.commit()
    t0 = _tokens(tree)
    assert t0["A1"] is not None and len(t0["A1"]) == 32

    weigh(child, day(10), "N", -1.0, -1.0, -0.5)
    db.session.commit()
    t1 = _tokens(tree)
    assert _renewed(t0, t1) == {"A1"}

    # a visitor: a child of A2 weighed at A1's hari buka moves the figures of both
    visitor = person(a2, "Anak A2", "P", M - timedelta(days=300))
    db.session.commit()
    t2 = _tokens(tree)
    db.session.add(Measurement(person_id=visitor.id, posyandu_id=a1.id, measured_on=day(11), weight_kg=8.0,
                               age_days=300))
    db.session.commit()
    assert _renewed(t2, _tokens(tree)) == {"A1", "A2"}

    # a person who moves: the Posyandu she left and the one she joined
    t3 = _tokens(tree)
    child.posyandu_id = b1.id
    db.session.commit()
    assert _renewed(t3, _tokens(tree)) == {"A1", "B1"}

    # a record deleted: vitamin A given to the visitor
    service = ServiceRecord(person_id=visitor.id, kind="vitamin_a", code="biru", given_on=day(12))
    db.session.add(service)
    db.session.commit()
    t4 = _tokens(tree)
    db.session.delete(service)
    db.session.commit()
    assert _renewed(t4, _tokens(tree)) == {"A2"}

    # a rolled-back change renews nothing, and a change of nothing neither
    t5 = _tokens(tree)
    weigh(visitor, day(13), "N")
    db.session.flush()
    db.session.rollback()
    child = db.session.get(Person, child.id)
    child.name = child.name
    db.session.commit()
    assert _tokens(tree) == t5


def _live(pos, wide, risk):
    return svc.live_by_posyandu(pos, M, wide, risk)


def _trend_live(pos, wide):
    sums = {mo: dom.Cell() for mo in dom.months_back(M, 3)}
    for (_pid, mo), cell in svc.trend_by_posyandu(pos, M, 3, wide).items():
        sums[mo].add(cell)
    return list(sums.items())


@pytest.mark.parametrize("wide", [False, True])
def test_kept_figures_equal_the_live_ones_after_every_kind_of_change(tree, monkeypatch, wide):
    """The report's figures are kept per Posyandu until a commit changes one of its records: after each change
    below, every figure of every Posyandu equals the live tables' and only the Posyandu changed are read again."""
    k = build_month(tree)
    _varied_month(tree)
    pos = _district(tree)
    risk = not wide
    computed: list[list[int]] = []
    live = svc.live_by_posyandu

    def counting(ids, *args, **kw):
        computed.append(sorted(ids))
        return live(ids, *args, **kw)

    monkeypatch.setattr(svc, "live_by_posyandu", counting)
    assert svc.prevalence_trend(pos, M, 3, wide) == _trend_live(pos, wide)  # kept from here on
    svc.list_page(pos, M, "stunted", wide=wide)
    first = svc.monthly_by_posyandu(pos, M, wide, risk)
    assert first == live(pos, M, wide, risk) and computed == [sorted(p.id for p in tree.posyandu.values())]
    computed.clear()
    assert svc.monthly_by_posyandu(pos, M, wide, risk) == first and computed == []  # kept: nothing read again
    # a copy each time: a caller that adds to an Area does not change what is kept
    svc.monthly_by_posyandu(pos, M, wide, risk)[tree.posyandu["A1"].id].cells.clear()
    assert svc.monthly_by_posyandu(pos, M, wide, risk) == first

    a1, a2, b1 = (tree.posyandu[key] for key in ("A1", "A2", "B1"))
    some = db.session.scalars(select(Person).where(Person.posyandu_id == a1.id, Person.deleted_at.is_(None))
                              .order_by(Person.id)).all()

    def change_weighing():
        m = db.session.scalar(select(Measurement).where(Measurement.posyandu_id == a1.id,
                                                        Measurement.measured_on >= M).order_by(Measurement.id))
        m.ntob, m.lhaz, m.bgm = "T", -3.3, True

    def weigh_a_visitor():
        visitor = db.session.scalar(select(Person).where(Person.posyandu_id == a2.id).order_by(Person.id))
        db.session.add(Measurement(person_id=visitor.id, posyandu_id=b1.id, measured_on=day(14), weight_kg=9.0,
                                   age_days=(day(14) - visitor.birth_date).days, ntob="N", waz=-2.5))

    def leave():
        some[1].left_on = M - timedelta(days=1)

    def move():
        some[2].posyandu_id = b1.id

    def vitamin_a():
        db.session.add(ServiceRecord(person_id=some[3].id, kind="vitamin_a", code="biru", given_on=day(15)))

    def delete_weighing():
        db.session.delete(db.session.scalar(select(Measurement).where(Measurement.person_id == k["c10"].id)))

    def pregnancy():
        db.session.add(Pregnancy(person_id=k["m3"].id, hpht=M - timedelta(days=40), hpl=M + timedelta(days=240)))

    for change, places in ((change_weighing, {a1.id}), (weigh_a_visitor, {a2.id, b1.id}), (leave, {a1.id}),
                           (move, {a1.id, b1.id}), (vitamin_a, {a1.id}),
                           (delete_weighing, {tree.posyandu["C1"].id}), (pregnancy, {a1.id})):
        change()
        db.session.commit()
        computed.clear()
        kept = svc.monthly_by_posyandu(pos, M, wide, risk)
        assert computed == [sorted(places)], change.__name__
        assert kept == live(pos, M, wide, risk), change.__name__
        assert svc.prevalence_trend(pos, M, 3, wide) == _trend_live(pos, wide), change.__name__
        assert svc.list_page(pos, M, "stunted", wide=wide, size=500)[0] == [
            tuple(r) for r in db.session.execute(svc.people_behind(pos, M, "stunted", wide=wide)).all()]
    assert kept != first  # the changes moved the figures


def test_a_transactions_own_changes_are_read_live_and_not_kept(tree, monkeypatch):
    build_month(tree)
    pos, a1 = _district(tree), tree.posyandu["A1"]
    before = svc.monthly_by_posyandu(pos, M)
    child = person(a1, "Anak Baru", "L", M - timedelta(days=200))  # flushed, not committed
    weigh(child, day(9), "B", -2.5, -2.5, -2.5)
    seen = svc.monthly_by_posyandu(pos, M)
    assert seen == svc.live_by_posyandu(pos, M) and seen[a1.id].total().S == before[a1.id].total().S + 1
    db.session.rollback()
    assert svc.monthly_by_posyandu(pos, M) == before  # what this transaction saw was not kept


def test_a_posyandu_without_a_token_is_read_live_every_time(tree, monkeypatch):
    from posyandu.models import PosyanduChange

    build_month(tree)
    db.session.execute(PosyanduChange.__table__.delete())
    db.session.commit()
    pos = _district(tree)
    computed = []
    live = svc.live_by_posyandu
    monkeypatch.setattr(svc, "live_by_posyandu", lambda ids, *a, **kw: computed.append(1) or live(ids, *a, **kw))
    svc.monthly_by_posyandu(pos, M)
    svc.monthly_by_posyandu(pos, M)
    assert len(computed) == 2


def test_a_weighing_saved_at_meja_2_shows_in_the_kept_report_at_once(app, tree, login):
    """Through the routes a kader uses: the district report's figures were kept, a kader saves a weighing at meja
    2, and the next read of the report counts it (the save's commit renewed the Posyandu's token)."""
    from .test_session_day import enqueue, open_day

    admin, ketua, kader = login("admin_d"), login("ketua_a1"), login("kader_a1")
    hb = open_day(ketua, tree)
    visit = enqueue(kader, hb, tree.people["child_A1"])
    month, pos = date.today().replace(day=1), _district(tree)
    assert admin.get(f"/laporan/kabupaten?bulan={month:%Y-%m}").status_code == 200
    db.session.rollback()
    before = svc.monthly_by_posyandu(pos, month, True)
    a1 = tree.posyandu["A1"].id
    token = changes.tokens([a1])[a1]
    db.session.rollback()
    saved = kader.post(f"/hari-buka/{hb.id}/kunjungan/{visit.id}/meja/2",
                       {"weight_kg": "9.6", "length_cm": "75.5", "position": "l"})
    assert saved.status_code == 303
    db.session.rollback()
    assert changes.tokens([a1])[a1] != token
    after = svc.monthly_by_posyandu(pos, month, True)
    assert after == svc.live_by_posyandu(pos, month, True)
    assert after[a1].total().D == before.get(a1, dom.Area()).total().D + 1


def test_what_is_kept_is_bounded_and_what_was_dropped_is_computed_again(tree, monkeypatch):
    build_month(tree)
    _varied_month(tree)
    monkeypatch.setattr(changes, "KEPT_WEIGHT", 40)  # rows of lists: less than the district's lists together
    pos = _district(tree)
    for _ in range(2):
        for metric in ("S", "D", "ilp-reg-balita", "S"):
            whole = [(p.id, d) for p, d in db.session.execute(svc.people_behind(pos, M, metric)).all()]
            got = svc.list_page(pos, M, metric, size=1000)
            assert ([(p.id, d) for p, d in got[0]], got[2]) == (whole, len(whole)), metric
            store = changes._kept[db.engine]
            assert store.weight <= 40 and store.weight == sum(w for _t, _v, w in store.entries.values())
