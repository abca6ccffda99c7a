"""The home page's life-cycle counts are kept between visits and counted again as soon as a person or a
pregnancy changes (issue 15: the district admin's home page counted all 276 000 people on every visit)."""
from datetime import date, timedelta

from sqlalchemy import event

from posyandu.extensions import db
from posyandu.models import Pregnancy, User
from posyandu.services import stats

from .factories import person


def _statements(run):
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        out = run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return out, seen


def test_counts_are_kept_until_a_person_or_pregnancy_changes(tree):
    today = date.today()
    admin = db.session.get(User, tree.users["admin_d"].id)
    a1 = tree.posyandu["A1"]
    first = stats.group_counts(admin, today)
    ids = sorted(p.id for k, p in tree.posyandu.items() if not k.startswith("C"))
    assert first == stats.count_groups(ids, today)

    again, statements = _statements(lambda: stats.group_counts(admin, today))
    assert again == first
    assert not any("count(" in s.lower() for s in statements), statements  # no person counted again

    child = person(a1, "Bayi Baru", "L", today - timedelta(days=40))
    db.session.commit()
    after_birth = stats.group_counts(admin, today)
    assert after_birth["total"] == first["total"] + 1 and after_birth["balita"] == first["balita"] + 1

    mother = person(a1, "Ibu Baru", "P", date(1995, 3, 3))
    db.session.commit()
    db.session.add(Pregnancy(person_id=mother.id, hpht=today - timedelta(days=70), hpl=today + timedelta(days=210)))
    db.session.commit()
    pregnant = stats.group_counts(admin, today)
    assert pregnant["ibu_hamil"] == first["ibu_hamil"] + 1 and pregnant["dewasa"] == first["dewasa"] + 1

    child.left_on = today - timedelta(days=1)  # an edit of an existing person, no new row
    db.session.commit()
    left = stats.group_counts(admin, today)
    assert left["balita"] == first["balita"] and left == stats.count_groups(ids, today)


def test_counts_differ_per_scope_and_day(tree):
    today = date.today()
    admin = db.session.get(User, tree.users["admin_d"].id)
    clerk = db.session.get(User, tree.users["clerk_a"].id)
    person(tree.posyandu["B1"], "Anak B", "P", today - timedelta(days=400))
    db.session.commit()
    whole, part = stats.group_counts(admin, today), stats.group_counts(clerk, today)
    a = sorted(p.id for k, p in tree.posyandu.items() if k.startswith("A"))
    assert part == stats.count_groups(a, today) and whole["balita"] > part["balita"]
    later = today + timedelta(days=6 * 366)  # the child of B1 is no balita any more
    ids = sorted(p.id for k, p in tree.posyandu.items() if not k.startswith("C"))
    assert stats.group_counts(admin, later) == stats.count_groups(ids, later) != whole
