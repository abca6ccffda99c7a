"""A district built from nothing in the browser (issue 12): each new place shows up where the next step needs it."""
import re

from posyandu.extensions import db
from posyandu.models import Kecamatan, Puskesmas, User
from posyandu.services import scope


def _options(html: str, name: str) -> list[str]:
    """The option labels of a <select name=...>."""
    m = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert m, name
    return re.findall(r"<option[^>]*>([^<]*)</option>", m.group(1))


def test_a_new_kecamatan_appears_everywhere_the_next_step_needs_it(app, tree, login):
    c = login("admin_d")
    resp = c.post("/wilayah/kecamatan/baru", {"name": "Kecamatan Baru", "code": "64.02.01"})
    assert resp.status_code == 303
    kec = db.session.query(Kecamatan).filter_by(name="Kecamatan Baru").one()
    assert "Kecamatan Baru" in c.get("/wilayah/").get_data(as_text=True)
    assert c.get(f"/wilayah/kecamatan/{kec.id}/ubah").status_code == 200
    assert "Kecamatan Baru" in _options(c.get("/wilayah/kelurahan/baru").get_data(as_text=True), "kecamatan_id")
    assert "Kecamatan Baru" in _options(c.get("/wilayah/puskesmas/baru").get_data(as_text=True), "kecamatan_id")
    # The other district sees nothing of it.
    e = login("admin_e")
    assert "Kecamatan Baru" not in e.get("/wilayah/").get_data(as_text=True)
    assert e.get(f"/wilayah/kecamatan/{kec.id}/ubah").status_code == 404


def test_a_new_puskesmas_appears_in_the_kelurahan_form_and_to_its_nakes(app, tree, login):
    c = login("admin_d")
    kec = tree.kelurahan["A"].kecamatan
    assert c.post("/wilayah/puskesmas/baru", {"kecamatan_id": kec.id, "name": "Puskesmas Baru"}).status_code == 303
    pkm = db.session.query(Puskesmas).filter_by(name="Puskesmas Baru").one()
    assert "Puskesmas Baru" in _options(c.get("/wilayah/kelurahan/baru").get_data(as_text=True), "puskesmas_id")
    assert c.get(f"/wilayah/puskesmas/{pkm.id}/ubah").status_code == 200
    # A nakes of a Puskesmas that serves no kelurahan yet still sees her own Puskesmas and its kecamatan.
    nakes = User(username="nakes_baru", display_name="Nakes Baru", role="nakes", password_hash="x",
                 district_id=tree.districts["D"].id, puskesmas_id=pkm.id)
    db.session.add(nakes)
    db.session.commit()
    assert list(db.session.scalars(scope.puskesmas_ids(nakes))) == [pkm.id]
    assert list(db.session.scalars(scope.kecamatan_ids(nakes))) == [kec.id]


def test_a_new_kelurahan_appears_in_the_posyandu_and_account_forms(app, tree, login):
    c = login("admin_d")
    kec = tree.kelurahan["A"].kecamatan
    resp = c.post("/wilayah/kelurahan/baru", {"kecamatan_id": kec.id, "puskesmas_id": 0, "name": "Desa Baru",
                                               "kind": "desa", "code": "6402012001"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    assert "Desa Baru" in _options(c.get("/wilayah/posyandu/baru").get_data(as_text=True), "kelurahan_id")
    assert "Desa Baru" in _options(c.get("/akun/baru").get_data(as_text=True), "kelurahan_id")


def test_an_unknown_role_sees_nothing(app, tree):
    """Deny by default: a role the scope functions do not know gets empty selects, not someone else's node."""
    odd = User(username="odd", display_name="Odd", role="somebody", password_hash="x",
               district_id=tree.districts["D"].id, posyandu_id=tree.posyandu["A1"].id,
               kelurahan_id=tree.kelurahan["A"].id, puskesmas_id=tree.puskesmas["A"].id)
    for ids in (scope.kelurahan_ids, scope.posyandu_ids, scope.kecamatan_ids, scope.puskesmas_ids):
        assert list(db.session.scalars(ids(odd))) == []
    assert list(db.session.scalars(scope.people(odd))) == []
