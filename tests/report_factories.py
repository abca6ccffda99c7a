"""A small hand-counted month of data for the report tests.

The month M is 15 months ago, so the tree's own children (born 400 days ago) and pregnancies (60 days ago)
do not exist yet at its end. Every figure expected from it is counted by hand in EXPECTED_A1 below.

Posyandu A1, month M (L = its last day; ages in completed months on L):
  c1 L  5 mo (one day short of 6: band 0-5), KIA, weighed once: N; TB/U falling -0.2 → -0.5 → -0.8 (at risk)
  c2 P  6 mo (exactly: band 6-11), KIA, weighed twice: T then N (last counts: N); latest valid BB/U -2.4
        (kurang), TB/U -2.5 (stunted, new stunting)
  c3 L 18 mo, NO KIA, weighed once: T, 2T, BGM; BB/U -3.4 (sangat kurang), TB/U -2.2, BB/TB -3.1 (gizi
        buruk, wasted)
  c4 P 30 mo, KIA, NOT weighed in M (weighed the month before and after): tidak hadir
  c5 L 59 mo (the last month of S), KIA, weighed: O (missed last month)
  c6 P 60 mo exactly: not a balita any more, weighed in M: counted nowhere in SKDN
  c7 L 30 mo, KIA, weighed twice: a valid B (BB/U -2.1, BB/TB -2.3) then a FLAGGED B (BB/U -6.5, BGM stored):
        the flagged one is the last weighing (B, BGM) but prevalence and gizi use the earlier valid one (BB/TB
        gizi kurang, wasted)
  gizi buruk / gizi kurang are BB/TB categories (PMK 2/2020): c2's BB/U -2.4 is "berat badan kurang", not gizi.
  c8 P 18 mo, deleted: counted nowhere
  m1 ibu hamil, LILA 22.0 in M (KEK); m2 ibu hamil, LILA 25.0; m3 pregnancy ended before M
  vitamin A in M: c2 biru, c5 merah; c3 merah the month before; a deleted record for c4
  hari buka in M: visits c1, c2 (balita), m1 (ibu hamil); two kader on duty, one present
Posyandu A2: c9 L 2 mo, KIA, weighed: B.   Posyandu C1 (district E): c10, weighed: N (never in D's figures).
"""
from datetime import date, timedelta

from posyandu.domain import reports as dom
from posyandu.extensions import db
from posyandu.models import Duty, HariBuka, Kader, Measurement, Person, Pregnancy, ServiceRecord, Visit
from posyandu.models.base import utcnow

from .factories import person

M = dom.shift_month(date.today(), -15)
L = dom.month_end(M)
PREV, NEXT = dom.shift_month(M, -1), dom.shift_month(M, 1)


def born(months: int, days_after: int = 0) -> date:
    return dom.latest_birth_for_age(L, months) + timedelta(days=days_after)


def weigh(p: Person, on: date, ntob: str | None, waz=None, lhaz=None, whz=None, flagged=False, **kw) -> Measurement:
    m = Measurement(person_id=p.id, posyandu_id=p.posyandu_id, measured_on=on, weight_kg=kw.pop("weight_kg", 8.0),
                    length_cm=kw.pop("length_cm", 70.0), position="l", age_days=(on - p.birth_date).days,
                    waz=waz, lhaz=lhaz, whz=whz, flagged=flagged, ntob=ntob, **kw)
    db.session.add(m)
    return m


def day(n: int, month: date = M) -> date:
    return month.replace(day=n)


def build_month(tree) -> dict:
    a1, a2, c1_pos = tree.posyandu["A1"], tree.posyandu["A2"], tree.posyandu["C1"]
    k = {}
    k["c1"] = person(a1, "Anak Satu", "L", born(6, 1))
    k["c2"] = person(a1, "Anak Dua", "P", born(6))
    k["c3"] = person(a1, "Anak Tiga", "L", born(18), has_kia_book=False)
    k["c4"] = person(a1, "Anak Empat", "P", born(30))
    k["c5"] = person(a1, "Anak Lima", "L", born(59))
    k["c6"] = person(a1, "Anak Enam", "P", born(60))
    k["c7"] = person(a1, "Anak Tujuh", "L", born(30, 5))
    k["c8"] = person(a1, "Anak Delapan", "P", born(18), deleted_at=utcnow())
    k["c9"] = person(a2, "Anak Sembilan", "L", born(2))
    k["c10"] = person(c1_pos, "Anak Sepuluh", "L", born(12))
    for key in ("m1", "m2", "m3"):
        k[key] = person(a1, f"Ibu {key.upper()}", "P", date(1996, 1, 1))

    # c1: falling TB/U over three months, N this month
    weigh(k["c1"], day(8, dom.shift_month(M, -2)), "B", -0.3, -0.2, 0.0)
    weigh(k["c1"], day(8, PREV), "N", -0.4, -0.5, 0.1)
    weigh(k["c1"], day(8), "N", -0.5, -0.8, 0.1)
    # c2: weighed twice; the last weighing (N) counts, its z-scores are the latest valid ones
    weigh(k["c2"], day(12, PREV), "N", -1.8, -1.9, -0.8)
    weigh(k["c2"], day(5), "T", -2.5, -2.4, -1.2)
    weigh(k["c2"], day(20), "N", -2.4, -2.5, -1.0, new_stunting=True)
    # c3: 2T, BGM, no KIA book
    weigh(k["c3"], day(10, PREV), "T", -3.2, -2.1, -2.4)
    weigh(k["c3"], day(10), "T", -3.4, -2.2, -3.1, two_t=True, bgm=True)
    # c4: the months around M, not M
    weigh(k["c4"], day(10, PREV), "N", -1.0, -1.0, -0.5)
    weigh(k["c4"], day(10, NEXT), "O", -1.0, -1.0, -0.5)
    # c5: O (missed last month)
    weigh(k["c5"], day(10, dom.shift_month(M, -2)), "N", -1.0, -1.0, -0.5)
    weigh(k["c5"], day(10), "O", -1.0, -1.0, -0.5)
    # c6: 60 months on L (weighed on L itself: also over five at the measurement, so not in the trend)
    weigh(k["c6"], L, "N", -1.0, -3.0, -0.5)
    # c7: valid first, flagged last
    weigh(k["c7"], day(3), "B", -2.1, -1.0, -2.3)
    weigh(k["c7"], day(25), "B", -6.5, 0.0, -5.5, flagged=True, bgm=True)
    # c8: deleted, stunted
    weigh(k["c8"], day(10), "T", -3.5, -3.5, -2.5, bgm=True)
    weigh(k["c9"], day(10), "B", 0.1, 0.2, 0.0)
    weigh(k["c10"], day(10), "N", -2.5, -2.5, -2.5)

    # mothers
    db.session.add_all([
        Pregnancy(person_id=k["m1"].id, hpht=M - timedelta(days=100), hpl=M + timedelta(days=180)),
        Pregnancy(person_id=k["m2"].id, hpht=M - timedelta(days=30), hpl=M + timedelta(days=250)),
        Pregnancy(person_id=k["m3"].id, hpht=M - timedelta(days=300), hpl=M - timedelta(days=20),
                  ended_on=M - timedelta(days=60), outcome="lahir_hidup"),
    ])
    db.session.flush()
    weigh(k["m1"], day(10), None, muac_cm=22.0, weight_kg=55.0)
    weigh(k["m2"], day(10), None, muac_cm=25.0, weight_kg=60.0)
    weigh(k["m3"], day(10), None, muac_cm=21.0, weight_kg=50.0)  # not pregnant in M: not KEK

    # vitamin A
    db.session.add_all([
        ServiceRecord(person_id=k["c2"].id, kind="vitamin_a", code="biru", given_on=day(20)),
        ServiceRecord(person_id=k["c5"].id, kind="vitamin_a", code="merah", given_on=day(10)),
        ServiceRecord(person_id=k["c3"].id, kind="vitamin_a", code="merah", given_on=day(10, PREV)),
        ServiceRecord(person_id=k["c4"].id, kind="vitamin_a", code="merah", given_on=day(10), deleted_at=utcnow()),
    ])
    # the hari buka of M with visits and duties
    hb = HariBuka(posyandu_id=a1.id, held_on=day(10))
    for n, (key, grp) in enumerate((("c1", "balita"), ("c2", "balita"), ("m1", "ibu_hamil")), 1):
        hb.visits.append(Visit(person_id=k[key].id, queue_number=n, group=grp, step=0))
    db.session.add(hb)
    db.session.flush()
    kader = list(db.session.scalars(db.select(Kader).order_by(Kader.id)))[:2]
    db.session.add_all([Duty(hari_buka_id=hb.id, kader_id=kader[0].id, meja=1, present=True),
                        Duty(hari_buka_id=hb.id, kader_id=kader[1].id, meja=2, present=False)])
    db.session.commit()
    return k


# Hand-counted from the table in the module docstring.
EXPECTED_A1 = dict(S=6, K=5, D=5, N=2, T=1, O=1, B=1, tidak_hadir=1, bgm=2, two_t=1, gizi_buruk=1, gizi_kurang=1,
                   lhaz_n=5, stunted=2, whz_n=5, wasted=2, waz_n=5, underweight=3, new_stunting=1,
                   at_risk=2)
CELLS_A1 = {("0-5", "L"): "c1", ("6-11", "P"): "c2", ("12-23", "L"): "c3", ("24-35", "P"): "c4",
            ("24-35", "L"): "c7", ("36-59", "L"): "c5"}
