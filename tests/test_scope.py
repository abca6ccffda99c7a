"""No IDOR: every route that takes an object id answers 404 for objects outside the user's node, for every role.

The test walks the app's URL map, so a new route with an id parameter fails here until it is mapped below.
"""
import pytest
from werkzeug.routing import IntegerConverter

from posyandu.models import Kecamatan

from . import factories, incentive_factories, kader_factories

# What each id parameter names, as a function of a Posyandu: the object of that Posyandu (or around it).
ID_PARAMS = {
    "person_id": lambda t, key: t.people[f"child_{key}"].id,
    "posyandu_id": lambda t, key: t.posyandu[key].id,
    "kelurahan_id": lambda t, key: t.posyandu[key].kelurahan_id,
    "pregnancy_id": lambda t, key: t.people[f"mother_{key}"].pregnancies[0].id,
    "hb_id": lambda t, key: t.sessions[key].id,
    "visit_id": lambda t, key: t.sessions[key].visits[0].id,
    "kader_id": lambda t, key: kader_factories.kader_of(t, key).id,
    "commitment_id": lambda t, key: kader_factories.commitment_of(t, key).id,
    "certificate_id": lambda t, key: kader_factories.certificate_of(t, key).id,
    "policy_id": lambda t, key: incentive_factories.policy_of(t, key).id,
    "batch_id": lambda t, key: incentive_factories.batch_of(t, key).id,
    "line_id": lambda t, key: incentive_factories.batch_of(t, key).lines[0].id,
    "transfer_id": lambda t, key: factories.transfer_of(t, key).id,
    # Only the installation admin opens a district by id (every other role gets 403 there).
    "district_id": lambda t, key: t.posyandu[key].kelurahan.kecamatan.district_id,
    "asset_id": lambda t, key: factories.asset_of(t, key).id,
    "device_id": lambda t, key: factories.device_of(t, key).id,
    "case_id": lambda t, key: factories.sync_case_of(t, key).id,
    "user_id": lambda t, key: next(u.id for u in t.users.values()
                                   if u.district_id == t.posyandu[key].kelurahan.kecamatan.district_id),
}
PLACE_OF_KIND = {
    "kecamatan": lambda pos: pos.kelurahan.kecamatan_id,
    "kelurahan": lambda pos: pos.kelurahan_id,
    "puskesmas": lambda pos: pos.kelurahan.puskesmas_id,
}
# Parameters that are not object ids: a fixed valid value.
FIXED = {"meja": 2, "code": "tbc_anak", "metric": "S", "month": "2025-01"}
# Each user, a Posyandu inside its scope, and the nearest Posyandu outside it (plus one in another district).
USERS = {
    "kader_a1": ("A1", ["A2", "C1"]),
    "ketua_a1": ("A1", ["A2", "C1"]),
    "clerk_a": ("A1", ["B1", "C1"]),
    "nakes_a": ("A1", ["B1", "C1"]),
    "admin_d": ("A1", ["C1"]),
}


def id_routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        ints = [a for a in rule.arguments if isinstance(rule._converters[a], IntegerConverter)]
        if ints:
            out.append(rule)
    return out


def build(t, rule, key, kind=None):
    values = {}
    for arg in rule.arguments:
        if arg == "kind":
            values[arg] = kind
        elif arg in FIXED:
            values[arg] = FIXED[arg]
        elif arg == "obj_id":
            values[arg] = PLACE_OF_KIND[kind](t.posyandu[key])
        elif arg == "person_id" and "pregnancy_id" in rule.arguments:
            values[arg] = t.people[f"mother_{key}"].id
        elif arg in ID_PARAMS:
            values[arg] = ID_PARAMS[arg](t, key)
        else:  # a word in the path (test_every_id_parameter_is_mapped keeps id parameters out of here)
            values[arg] = "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_id_parameter_is_mapped(app):
    for rule in id_routes(app):
        for arg in rule.arguments:
            assert arg in ID_PARAMS or arg in FIXED or arg in ("kind", "obj_id"), f"map {arg} of {rule.rule} in ID_PARAMS"


@pytest.mark.parametrize("username", sorted(USERS))
def test_objects_outside_scope_answer_404(app, tree, login, username):
    c = login(username)
    inside, outsides = USERS[username]
    checked = 0
    for rule in id_routes(app):
        kinds = list(PLACE_OF_KIND) if "kind" in rule.arguments else [None]
        for kind in kinds:
            for method in sorted(rule.methods & {"GET", "POST"}):
                call = c.get if method == "GET" else c.post
                own = call(build(tree, rule, inside, kind)).status_code
                for key in outsides:
                    url = build(tree, rule, key, kind)
                    status = call(url).status_code
                    if own == 403:  # the role may not use this route at all: the same 403 for every id
                        assert status == 403, (username, method, url)
                    else:
                        assert status == 404, (username, method, url, status)
                    checked += 1
    assert checked >= 20


def test_kader_gets_404_for_every_person_of_another_posyandu(app, tree, login):
    c = login("kader_a1")
    for key in ("A2", "B1", "B2", "C1", "C2"):
        for who in ("child", "mother"):
            pid = tree.people[f"{who}_{key}"].id
            for url in (f"/sasaran/{pid}", f"/sasaran/{pid}/ubah"):
                assert c.get(url).status_code == 404
            assert c.post(f"/sasaran/{pid}/hapus").status_code == 404
            assert c.get(f"/sasaran/baru?ibu={pid}").status_code == 404


def test_visit_of_another_hari_buka_is_404(app, tree, login):
    c = login("ketua_a1")
    own, foreign = tree.sessions["A1"], tree.sessions["A2"].visits[0]
    for meja in (2, 3, 4, 5):
        assert c.get(f"/hari-buka/{own.id}/kunjungan/{foreign.id}/meja/{meja}").status_code == 404


def test_pregnancy_of_another_person_is_404(app, tree, login):
    c = login("kader_a1")
    own = tree.people["mother_A1"].id
    foreign = tree.people["mother_A2"].pregnancies[0].id
    assert c.post(f"/sasaran/{own}/kehamilan/{foreign}/selesai", {"outcome": "lahir_hidup"}).status_code == 404


def test_lists_show_only_the_scope(app, tree, login):
    html = login("kader_a1").get("/sasaran/").get_data(as_text=True)
    assert "Anak A1" in html and "Anak A2" not in html and "Anak C1" not in html
    html = login("admin_d").get("/sasaran/?page=1").get_data(as_text=True)
    assert "Anak B2" in html and "Anak C1" not in html
    html = login("admin_d").get("/wilayah/").get_data(as_text=True)
    assert "Kelurahan A" in html and "Kelurahan C" not in html
    html = login("admin_d").get("/akun/").get_data(as_text=True)
    assert "kader_a1" in html and "admin_e" not in html


def test_mother_from_another_posyandu_cannot_be_linked(app, tree, login):
    c = login("kader_a1")
    foreign = tree.people["mother_A2"]
    resp = c.post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi X", "sex": "L",
                                     "birth_date": "2026-01-01", "mother_nik": foreign.nik, "idempotency_key": "x1"})
    assert resp.status_code == 422 and "Belum ada ibu dengan NIK ini" in resp.get_data(as_text=True)
    resp = c.post("/sasaran/baru", {"posyandu_id": tree.posyandu["A1"].id, "name": "Bayi X", "sex": "L",
                                     "birth_date": "2026-01-01", "mother_id": foreign.id, "idempotency_key": "x2"})
    assert resp.status_code == 422


def test_kecamatan_model_is_scoped_for_admins(app, tree):
    from posyandu.services.scope import get_in_scope

    other = tree.posyandu["C1"].kelurahan.kecamatan_id
    assert get_in_scope(tree.users["admin_d"], Kecamatan, other) is None
    assert get_in_scope(tree.users["admin_e"], Kecamatan, other) is not None
