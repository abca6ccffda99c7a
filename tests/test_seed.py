"""The demo district looks like a Posyandu's register (issue 11)."""
from datetime import date, timedelta

from sqlalchemy import case, func, select

from posyandu.extensions import db
from posyandu.models import HariBuka, User
from posyandu.seed import seed_demo

TODAY = date(2026, 11, 30)  # after the 28th: the demo Posyandu's stored schedule day cannot be today's


def test_demo_posyandu_held_its_previous_hari_buka_a_month_ago(app):
    seed_demo(children=160, months=4, today=TODAY)
    kader = db.session.scalar(select(User).where(User.username == "kader"))
    days = db.session.scalars(select(HariBuka.held_on).where(HariBuka.posyandu_id == kader.posyandu_id)
                              .order_by(HariBuka.held_on.desc()).limit(2)).all()
    assert days[0] == TODAY and days[1] <= TODAY - timedelta(days=28), days  # it was 28 Nov before 30 Nov


def _dose_statuses(posyandu_id=None):
    """For each balita (of one Posyandu, or all) on TODAY: how many doses are overdue, how many due."""
    from posyandu.domain import immunisation
    from posyandu.models import Person, ServiceRecord
    from posyandu.services import people

    schedule = immunisation.load_schedule()
    given: dict = {}
    for pid, code, on in db.session.execute(select(ServiceRecord.person_id, ServiceRecord.code, ServiceRecord.given_on)
                                            .where(ServiceRecord.kind == "imunisasi")):
        given.setdefault(pid, {})[code] = on
    q = select(Person).where(Person.deleted_at.is_(None))
    if posyandu_id is not None:
        q = q.where(Person.posyandu_id == posyandu_id)
    out = []
    for p in db.session.scalars(q):
        if people.group_of(p, TODAY) == "balita":
            doses = immunisation.due_doses(schedule, p.birth_date, TODAY, given.get(p.id, {}))
            out.append((sum(d.status == "overdue" for d in doses), sum(d.status == "due" for d in doses)))
    return out


def test_demo_children_have_their_doses_and_a_few_are_due_today(app):
    """Issue 11 item 10: every demo balita showed every dose overdue (4.8 a child, 297 of 300 children)."""
    from posyandu.models import ServiceRecord, Visit

    seed_demo(children=300, months=6, today=TODAY)  # the e2e demo
    everyone = _dose_statuses()
    late = sum(1 for overdue, _due in everyone if overdue)
    due_today = sum(1 for _overdue, due in everyone if due)
    assert len(everyone) == 300
    assert sum(o for o, _d in everyone) / len(everyone) < 0.6  # doses overdue per child
    assert 3 <= late <= 45 and due_today >= 10, (late, due_today)  # a few late; some whose age just reached a dose
    # the demo Posyandu, where the e2e session day needs a child with a dose due today
    kader = db.session.scalar(select(User).where(User.username == "kader"))
    assert any(due or overdue for overdue, due in _dose_statuses(kader.posyandu_id))
    # a dose given at a seeded hari buka belongs to a visit of that day, as the meja-5 form records it
    on_visits = db.session.execute(select(ServiceRecord.given_on, HariBuka.held_on).join(Visit, Visit.id == ServiceRecord.visit_id)
                                   .join(HariBuka, HariBuka.id == Visit.hari_buka_id)).all()
    assert on_visits and all(given == held for given, held in on_visits)
    # nothing yet at today's hari buka of the demo Posyandu: the kader starts it at meja 1
    today_hb = db.session.scalar(select(HariBuka).where(HariBuka.posyandu_id == kader.posyandu_id,
                                                        HariBuka.held_on == TODAY))
    assert today_hb.closed_at is None and not today_hb.visits


def test_demo_ilp_coverage_is_plausible_for_every_group(app):
    """Issue 11 item 10: with no visits seeded the report's ILP coverage was 0 % for every group."""
    from posyandu.domain import reports as dom
    from posyandu.models import Posyandu, ScreeningRecord
    from posyandu.services import reports

    seed_demo(children=300, months=6, today=TODAY)
    month = dom.shift_month(TODAY, -1)
    whole = reports.total(reports.monthly_by_posyandu(select(Posyandu.id), month).values())
    coverage = {g: whole.ilp_coverage(g) for g in ("ibu_hamil", "balita", "usia_sekolah_remaja", "dewasa", "lansia")}
    assert all(10 < c < 95 for c in coverage.values()), coverage
    assert coverage["balita"] > 70 and coverage["ibu_hamil"] > 60  # the groups a Posyandu serves most
    assert whole.ilp_registered.get("nifas", 0) > 0 and whole.ilp_visited.get("nifas", 0) > 0  # mothers of newborns
    referred = db.session.scalar(select(func.avg(case((ScreeningRecord.refer.is_(True), 1.0), else_=0.0))))
    assert 0 < referred < 0.15, referred  # screenings answered, a few referred
    assert 0 < whole.kek < whole.lila_measured  # LILA measured for ibu hamil, a few KEK
