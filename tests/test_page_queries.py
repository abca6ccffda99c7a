"""The everyday pages stay flat as data grows (issue 15): a fixed number of queries for the people list and the
person card whatever the number of rows or weighings, translations that follow the locale, charts that follow
the data."""
from datetime import date, datetime, timedelta

from flask import render_template_string
from flask_babel import force_locale, gettext
from sqlalchemy import event

from posyandu.domain import growth_chart
from posyandu.domain.identity import initial
from posyandu.extensions import db
from posyandu.models import Measurement, Pregnancy
from tests.factories import person


def _queries(fn) -> tuple[int, object]:
    n = [0]

    def count(*_args, **_kw):
        n[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        out = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n[0], out


def test_people_list_takes_the_same_few_queries_for_four_people_or_twenty_five(tree, login):
    c = login("clerk_a")
    few, page = _queries(lambda: c.get("/sasaran/"))
    assert page.status_code == 200
    a1, b1 = tree.posyandu["A1"], tree.posyandu["B1"]
    elsewhere = person(b1, "Ibu Zaitun Luar", "P", date(1990, 1, 1))  # a mother outside the clerk's kelurahan
    for i in range(20):
        mother = person(a1, f"Ibu Banyak {i:02d}", "P", date(1992, 1, 1))
        db.session.add(Pregnancy(person_id=mother.id, hpht=date.today() - timedelta(days=70),
                                 hpl=date.today() + timedelta(days=210)))
        person(a1, f"Anak Banyak {i:02d}", "L", date.today() - timedelta(days=300 + i),
               mother_id=(elsewhere if i == 0 else mother).id)
    db.session.commit()
    many, page = _queries(lambda: c.get("/sasaran/"))
    html = page.get_data(as_text=True)
    assert many == few, (few, many)
    # SQLite: BEGIN, the user, the open sync cases of the menu's badge (nav.py), the Posyandu in scope, the page
    # with mothers and Posyandu, the pregnancies (PostgreSQL has no BEGIN).
    assert many <= 6, many
    assert html.count("<tr>") == 26  # the header and a full page of 25
    assert "Ibu Banyak 00" in html and "Posyandu A1" in html
    row = html.split("Anak Banyak 00")[1].split("</tr>")[0]
    assert "Ibu Zaitun Luar" not in row and initial("Ibu Zaitun Luar") in row  # outside the scope: initial only
    assert "Ibu Banyak 01" in html.split("Anak Banyak 01")[1].split("</tr>")[0]
    pregnant = html.split("Ibu Banyak 00</a>")[1].split("</tr>")[0]
    assert "Ibu hamil" in pregnant


def test_person_card_takes_the_same_queries_for_two_weighings_or_twenty_four(tree, login):
    child = tree.people["child_A1"]
    child.birth_date = date.today() - timedelta(days=800)
    c = login("kader_a1")

    def weigh(months):
        for m in months:
            on = date.today() - timedelta(days=30 * m + 1)
            db.session.add(Measurement(person_id=child.id, posyandu_id=child.posyandu_id, measured_on=on,
                                       age_days=(on - child.birth_date).days, weight_kg=12 - 0.1 * m,
                                       length_cm=88 - 0.4 * m, position="h"))
        db.session.commit()

    weigh(range(2))
    few, page = _queries(lambda: c.get(f"/sasaran/{child.id}"))
    assert page.status_code == 200 and page.get_data(as_text=True).count("<svg") >= 2
    weigh(range(2, 24))
    many, page = _queries(lambda: c.get(f"/sasaran/{child.id}"))
    assert page.status_code == 200
    assert many == few, (few, many)
    html = page.get_data(as_text=True)
    assert html.count('class="kms-points"') == 2 and html.count("<circle") >= 48


def test_a_chart_is_drawn_again_when_a_weighing_is_added_or_corrected():
    args = dict(title="BB/U", y_label="kg", x_label="bulan", max_months=24, chart_id="bbu-1")
    points = [(30 * m, 4 + 0.5 * m, False) for m in range(6)]
    first = growth_chart.kms_chart("wfa", "L", points, **args)
    assert growth_chart.kms_chart("wfa", "L", list(points), **args) == first
    corrected = points[:-1] + [(150, 9.9, False)]
    redrawn = growth_chart.kms_chart("wfa", "L", corrected, **args)
    assert redrawn != first
    assert redrawn == growth_chart._draw("wfa", "L", corrected, **args)
    flagged = points[:-1] + [(150, 6.5, True)]
    assert growth_chart.kms_chart("wfa", "L", flagged, **args) == growth_chart._draw("wfa", "L", flagged, **args)


def test_translations_follow_a_locale_changed_within_the_request(app):
    with app.test_request_context("/"):
        assert gettext("Sasaran") == "Sasaran"
        assert render_template_string("{{ _('Sasaran') }}") == "Sasaran"
        with force_locale("en"):
            assert gettext("Sasaran") == "People"
            assert render_template_string("{{ _('Sasaran') }}") == "People"
        assert gettext("Sasaran") == "Sasaran"
        assert render_template_string("{{ _('Sasaran') }}") == "Sasaran"


def test_meja1_expected_count_and_first_names_follow_the_roll_pregnancies_and_queue(tree):
    """Meja 1's "not yet come" (count from the roll index, the first few by name): balita and women with an open
    pregnancy of the day's Posyandu, on the roll that day, not queued — every other case left out."""
    from posyandu.models import HariBuka, Visit
    from posyandu.services.session_views import expected_not_come

    a1, a2 = tree.posyandu["A1"], tree.posyandu["A2"]
    today = date.today()
    hb = HariBuka(posyandu_id=a1.id, held_on=today)
    db.session.add(hb)
    db.session.flush()
    kid = today - timedelta(days=400)
    want = {"Anak A1", "Ibu A1"}  # the tree's balita and its mother, pregnant again
    for name, birth, kw in (("Balita Ada", kid, {}), ("Balita Pindah Nanti", kid, {"left_on": today + timedelta(days=3)})):
        person(a1, name, "L", birth, **kw)
        want.add(name)
    person(a1, "Balita Keluar", "L", kid, left_on=today - timedelta(days=3))
    person(a1, "Balita Dihapus", "L", kid, deleted_at=datetime(2025, 1, 1))
    person(a1, "Anak Enam Tahun", "L", today - timedelta(days=6 * 366))
    person(a2, "Balita Posyandu Lain", "L", kid)
    queued = person(a1, "Balita Sudah Antri", "P", kid)
    db.session.add(Visit(hari_buka_id=hb.id, person_id=queued.id, queue_number=1, group="balita", step=2))
    for name, hpht, ended in (("Ibu Hamil", today - timedelta(days=70), None),
                              ("Ibu Sudah Lahir", today - timedelta(days=200), today - timedelta(days=5)),
                              ("Ibu Lewat 44 Minggu", today - timedelta(weeks=45), None),
                              ("Ibu Belum HPHT", today + timedelta(days=2), None)):
        mother = person(a1, name, "P", date(1994, 3, 3))
        db.session.add(Pregnancy(person_id=mother.id, hpht=hpht, hpl=hpht + timedelta(days=280), ended_on=ended))
        if name == "Ibu Hamil":
            want.add(name)
    db.session.commit()
    hb = db.session.get(HariBuka, hb.id)
    got = expected_not_come(hb, limit=3)
    assert got["total"] == len(want), (got["total"], sorted(want))
    assert [d.person.name for d in got["rows"]] == sorted(want)[:3]
    everyone = expected_not_come(hb, limit=50)
    assert sorted(d.person.name for d in everyone["rows"]) == sorted(want)
    # read as rows: each one's group and dues as the person's own record gives them
    from posyandu.models import Person
    from posyandu.services.people import group_of

    dues = {d.person.name: d for d in everyone["rows"]}
    assert dues["Ibu Hamil"].group == "ibu_hamil" and dues["Balita Ada"].group == "balita"
    for d in everyone["rows"]:
        record = db.session.get(Person, d.person.id)
        assert d.group == group_of(record, today)
        assert ("no_nik" in d.codes) == (not record.nik)
    assert "imunisasi" in dues["Balita Ada"].codes  # 13 months old, nothing given


def test_the_roll_merged_per_posyandu_pages_exactly_as_the_sorted_roll(tree, monkeypatch):
    """The clerk's list pages through the first names of each Posyandu merged (services.people.MERGE_ROWS):
    the same people in the same order, page by page, as sorting the whole kelurahan — the left, the deleted and
    the people of another kelurahan left out alike."""
    from posyandu.services import people

    a1, a2, b1 = tree.posyandu["A1"], tree.posyandu["A2"], tree.posyandu["B1"]
    today = date.today()
    for i in range(23):
        pos = (a1, a2)[i % 2]
        person(pos, f"{'Sama Nama' if i % 5 == 0 else 'Orang'} {(i * 7) % 23:02d}", "L", date(2001, 1, 1 + i % 28),
               **({"left_on": today - timedelta(days=1)} if i == 3 else {}),
               **({"left_on": today + timedelta(days=5)} if i == 4 else {}),
               **({"deleted_at": datetime(2025, 1, 1)} if i == 6 else {}))
    person(b1, "Orang Kelurahan Lain", "L", date(2001, 1, 1))
    db.session.commit()
    clerk = tree.users["clerk_a"]
    merged = [people.search_page(clerk, "", page, 4) for page in range(1, 9)]
    monkeypatch.setattr(people, "MERGE_ROWS", 0)
    sorted_ = [people.search_page(clerk, "", page, 4) for page in range(1, 9)]
    assert [([p.id for p in m.rows], m.more) for m in merged] == [([p.id for p in s.rows], s.more) for s in sorted_]
    names = [p.name for m in merged for p in m.rows]
    assert len(names) == 2 + 2 + 23 - 2 and names == sorted(names)  # the tree's mothers and children, 21 of ours
    assert "Orang Kelurahan Lain" not in names and merged[-1].more is False


def test_remembered_date_and_number_filters_follow_the_locale_and_match_flask_babel(app):
    from decimal import Decimal

    from flask_babel import format_date, format_decimal

    tpl = "{{ d|dateformat('d MMM y') }} {{ d|dateformat }} {{ n|decimalformat }} {{ m|decimalformat }}"
    d, n, m = date(2026, 8, 17), 12.35, Decimal("7.50")
    with app.test_request_context("/"):
        for locale in ("id", "en", "id"):
            with force_locale(locale):
                want = f"{format_date(d, 'd MMM y')} {format_date(d)} {format_decimal(n)} {format_decimal(m)}"
                assert render_template_string(tpl, d=d, n=n, m=m) == want
                assert render_template_string(tpl, d=d, n=n, m=m) == want  # from memory the second time
        with force_locale("en"):
            assert render_template_string("{{ d|dateformat('MMMM') }}", d=d) == "August"
        with force_locale("id"):
            assert render_template_string("{{ d|dateformat('MMMM') }}", d=d) == "Agustus"


def test_form_attributes_are_written_exactly_as_wtforms_writes_them():
    from markupsafe import Markup
    from wtforms.widgets import core

    import posyandu.forms  # noqa: F401  (installs the quicker writer)

    quick, original = core.html_params, core.html_params.original
    assert quick is not original and core.Input.html_params is quick and core.Button.html_params is quick
    for kw in (dict(name="a", id="b", class_="x y"), dict(checked=True, readonly=False, value='kata "hai" & <b>'),
               dict(value=Markup('<i>"q"</i>'), data_x_y=3, aria_label="l", for_="z"),
               dict(value=None, x=0, y=1.5), {'a"b': "c", "step": "any"}):
        assert quick(**kw) == original(**kw) and type(quick(**kw)) is Markup, kw
