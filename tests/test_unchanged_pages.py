"""Everyday pages answered again before Flask while nothing they show has changed (posyandu.unchanged_pages), and
only then: a change at the Posyandu, anywhere else a page shows (the site token), another day, another session,
a record of a Posyandu outside the user's scope, waiting flashes — each takes the full path (issue 15)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from posyandu import unchanged_pages
from posyandu.extensions import db
from posyandu.models import AuthSession, Person, Posyandu, SiteChange, User, Visit
from posyandu.models.base import utcnow
from posyandu.services import changes, session_day
from tests.factories import person
from tests.test_poll_shortcut import HX, Watch


def _visit(tree, key="A1") -> Visit:
    hb = tree.sessions[key]
    return db.session.scalar(select(Visit).where(Visit.hari_buka_id == hb.id))


def _meja(visit: Visit, meja: int) -> str:
    return f"/hari-buka/{visit.hari_buka_id}/kunjungan/{visit.id}/meja/{meja}"


def _twice(c, app, url, **kw):
    """The page asked twice: (the second answer, how many of the two reached Flask)."""
    with Watch(app) as w:
        first = c.get(url, **kw)
        second = c.get(url, **kw)
    assert first.status_code == second.status_code == 200
    return first, second, w.flask


def test_an_unchanged_page_is_answered_again_before_flask_with_the_same_bytes(app, tree, login):
    c = login("kader_a1")
    child = tree.people["child_A1"]
    for url in ("/sasaran/", f"/sasaran/{child.id}", f"/hari-buka/{tree.sessions['A1'].id}/meja/1",
                _meja(_visit(tree), 2), _meja(_visit(tree), 3), _meja(_visit(tree), 4), _meja(_visit(tree), 5)):
        c.get(url)  # the first page of a login sets the session's CSRF secret (a cookie): never kept
        changes.renew(db.session)  # every token new: the next answer comes from Flask
        db.session.commit()
        first, second, flask = _twice(c, app, url)
        assert flask == 1, url
        assert second.get_data() == first.get_data() and second.headers == first.headers, url


def test_a_saved_measurement_shows_at_once_on_the_card_and_meja_3(app, tree, login):
    c = login("kader_a1")
    visit, child = _visit(tree), tree.people["child_A1"]
    card, meja3 = f"/sasaran/{child.id}", _meja(visit, 3)
    for url in (card, meja3):
        c.get(url)
        assert "12,3" not in c.get(url).get_data(as_text=True)
    resp = c.post(_meja(visit, 2), {"weight_kg": "12.3", "length_cm": "80.5", "position": "l", "confirm": "y"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    for url in (card, meja3):
        with Watch(app) as w:
            page = c.get(url).get_data(as_text=True)
        assert w.flask == 1 and "12,3" in page, url


def test_a_change_at_another_posyandu_leaves_the_copy_but_one_in_scope_does_not(app, tree, login):
    kader, clerk = login("kader_a1"), login("clerk_a")
    for c in (kader, clerk):
        c.get("/sasaran/")
        c.get("/sasaran/")
    person(tree.posyandu["A2"], "Ibu Baru Di A2", "P", date(1993, 1, 1))  # in the clerk's kelurahan only
    db.session.commit()
    with Watch(app) as w:
        assert "Ibu Baru Di A2" not in kader.get("/sasaran/").get_data(as_text=True)
    assert w.flask == 0  # the kader's Posyandu A1 did not change
    with Watch(app) as w:
        assert "Ibu Baru Di A2" in clerk.get("/sasaran/").get_data(as_text=True)
    assert w.flask == 1


def test_a_change_outside_the_posyandu_records_renews_the_site_token(app, tree, login):
    c = login("kader_a1")
    url = f"/sasaran/{tree.people['child_A1'].id}"
    c.get(url)
    c.get(url)
    tree.posyandu["A1"].name = "Posyandu Melati Baru"  # a place: not one of a Posyandu's records
    db.session.commit()
    with Watch(app) as w:
        assert "Posyandu Melati Baru" in c.get(url).get_data(as_text=True)
    assert w.flask == 1
    c.get(url)
    db.session.execute(update(Posyandu).where(Posyandu.id == tree.posyandu["A1"].id).values(name="Posyandu Mawar"))
    db.session.commit()  # an UPDATE statement, which no flush sees
    with Watch(app) as w:
        assert "Posyandu Mawar" in c.get(url).get_data(as_text=True)
    assert w.flask == 1


def test_bookkeeping_leaves_the_site_token_alone():
    assert AuthSession in changes.IGNORED and User not in changes.IGNORED and Posyandu not in changes.IGNORED


def test_the_login_sessions_touch_does_not_renew_the_site_token(app, tree, login):
    c = login("kader_a1")
    before = db.session.get(SiteChange, 1).token
    db.session.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert c.get("/sasaran/").status_code == 200  # touches the session
    db.session.expire_all()
    assert db.session.get(SiteChange, 1).token == before


def test_another_day_another_session_or_htmx_headers_take_the_full_path(app, tree, login, monkeypatch):
    c, other = login("kader_a1"), login("kader_a1")
    url = f"/sasaran/{tree.people['child_A1'].id}"
    c.get(url)
    c.get(url)
    with Watch(app) as w:
        other.get(url)  # the same user, another login: its own copy (its own CSRF secret)
        c.get(url, headers=HX)  # an htmx request: another answer
    assert w.flask == 2

    class Tomorrow(date):
        @classmethod
        def today(cls):
            return date.today() + timedelta(days=1)

    monkeypatch.setattr(unchanged_pages, "date", Tomorrow)
    with Watch(app) as w:
        c.get(url)  # ages and due dates move with the day
    assert w.flask == 1


def test_a_revoked_session_or_a_deactivated_user_is_never_answered_from_a_copy(app, tree, login):
    c = login("kader_a1")
    c.get("/sasaran/")
    c.get("/sasaran/")
    db.session.execute(update(AuthSession).values(revoked_at=utcnow()))
    db.session.commit()
    assert c.get("/sasaran/").status_code == 302
    c = login("kader_a2")
    c.get("/sasaran/")
    c.get("/sasaran/")
    tree.users["kader_a2"].active = False
    db.session.commit()
    assert c.get("/sasaran/").status_code == 302


def test_waiting_flashes_are_shown_by_flask(app, tree, login):
    c = login("kader_a1")
    child = tree.people["child_A1"]
    url = f"/sasaran/{child.id}"
    c.get(url)
    c.get(url)
    resp = c.post(f"/sasaran/{child.id}/ubah", {"name": "Anak A1 Baru", "sex": "L", "birth_date":
                                                 child.birth_date.isoformat(), "posyandu_id": child.posyandu_id})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    with Watch(app) as w:
        page = c.get(url).get_data(as_text=True)
    assert w.flask == 1 and "Perubahan disimpan." in page and "Anak A1 Baru" in page


def test_a_person_of_a_posyandu_outside_the_scope_keeps_the_page_live(app, tree, login):
    """The clerk queues a child of A2 at A1's hari buka: A1's kader sees her there, but a change at A2 renews
    only A2's token, so A1's meja pages are answered by Flask every time."""
    clerk = db.session.get(User, tree.users["clerk_a"].id)
    visit = session_day.add_to_queue(clerk, tree.sessions["A1"], tree.people["child_A2"])
    db.session.commit()
    c = login("kader_a1")
    queue = f"/hari-buka/{visit.hari_buka_id}/meja/2"  # her name in the queue (the page's records are let go
    for url in (_meja(visit, 2), queue):  # once it is rendered: noted as they load, not looked up at the end)
        c.get(url)
        first, second, flask = _twice(c, app, url)
        assert flask == 2 and "Anak A2" in second.get_data(as_text=True), url
    db.session.get(Person, tree.people["child_A2"].id).name = "Anak A2 Diganti"
    db.session.commit()
    for url in (_meja(visit, 2), queue):
        assert "Anak A2 Diganti" in c.get(url).get_data(as_text=True), url


def test_the_paths_are_the_endpoints_pages():
    from posyandu.unchanged_pages import ENDPOINTS, PATH

    assert PATH.match("/sasaran/") and PATH.match("/sasaran/12") and PATH.match("/hari-buka/3/meja/1")
    assert PATH.match("/hari-buka/3/kunjungan/9/meja/5")
    assert not PATH.match("/hari-buka/3/meja/1/antrian") and not PATH.match("/sasaran/12/ubah")
    assert not PATH.match("/hari-buka/3/kunjungan/9/meja/1") and not PATH.match("/sasaran/baru")


def test_every_kept_endpoints_url_is_one_of_the_paths(app):
    from posyandu.unchanged_pages import ENDPOINTS, PATH

    rules = [r for r in app.url_map.iter_rules() if r.endpoint in ENDPOINTS]
    assert {r.endpoint for r in rules} == ENDPOINTS
    with app.test_request_context():
        from flask import url_for

        samples = {"people.list_people": {}, "people.view_person": {"person_id": 7},
                   "sessions.meja": {"hb_id": 3, "meja": 2}, "sessions.work": {"hb_id": 3, "visit_id": 4, "meja": 3}}
        for endpoint, values in samples.items():
            assert PATH.match(url_for(endpoint, **values)), endpoint


@pytest.mark.parametrize("size", [3])
def test_the_store_is_bounded(app, tree, login, monkeypatch, size):
    monkeypatch.setattr(unchanged_pages, "ENTRIES", size)
    c = login("clerk_a")
    for key in ("A1", "A2", "B1"):
        for p in ("mother", "child"):
            pid = tree.people[f"{p}_{key}"].id
            c.get(f"/sasaran/{pid}")
            c.get(f"/sasaran/{pid}")
    assert len(app.extensions["unchanged_pages"]._entries) <= size


def test_a_list_showing_a_mother_registered_outside_the_scope_stays_live(app, tree, login):
    """A child of A1 whose mother is registered at B1 (another kelurahan): the clerk's list shows her initial, and
    a change of her renews only B1's token, so the list is answered by Flask every time."""
    elsewhere = person(tree.posyandu["B1"], "Zaitun Luar", "P", date(1990, 1, 1))
    person(tree.posyandu["A1"], "Anak Zaitun", "L", date.today() - timedelta(days=300), mother_id=elsewhere.id)
    db.session.commit()
    c = login("clerk_a")
    c.get("/sasaran/")
    first, second, flask = _twice(c, app, "/sasaran/")
    assert flask == 2 and "Anak Zaitun" in second.get_data(as_text=True)
    db.session.get(Person, elsewhere.id).name = "Warda Luar"
    db.session.commit()
    page = c.get("/sasaran/").get_data(as_text=True)
    assert "W." in page and "Z." not in page
