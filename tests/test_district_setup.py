"""A district built from nothing in the browser (issue 12): each new place shows up where the next step needs it."""
import re

from posyandu.extensions import db
from posyandu.models import KaderRole, Kecamatan, Puskesmas, User
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


# --- the installation admin -------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

from sqlalchemy import select  # noqa: E402

from posyandu.models import AuditLog, District, Kelurahan  # noqa: E402
from posyandu.services.accounts import hash_password  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402

KUKAR_CSV = Path(__file__).parent / "data" / "kukar_kode_wilayah.csv"


def _installation_admin():
    u = User(username="provinsi", display_name="Admin Provinsi", role="installation_admin",
             password_hash=hash_password(PASSWORD), district_id=None)
    db.session.add(u)
    db.session.commit()
    return u


NEW_DISTRICT = {"name": "Kabupaten Kutai Kartanegara", "kind": "kabupaten", "code": "64.02",
                "username": "dinkes_kukar", "display_name": "Admin Dinkes Kukar", "password": "kukar-rahasia-1"}


def test_installation_admin_creates_a_district_and_its_first_admin(app, tree, login, client):
    inst = _installation_admin()
    c = login("provinsi")
    assert c.get("/").headers["Location"].endswith("/instalasi/")
    html = c.get("/instalasi/").get_data(as_text=True)
    assert "Kota D" in html and "Kota E" in html and "admin_d" in html
    resp = c.post("/instalasi/baru", {**NEW_DISTRICT, "idempotency_key": "k-1"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    # A double tap (the same key) lands on the same district, nothing is made twice.
    assert c.post("/instalasi/baru", {**NEW_DISTRICT, "idempotency_key": "k-1"}).headers["Location"] == \
        resp.headers["Location"]
    d = db.session.scalar(select(District).where(District.name == "Kabupaten Kutai Kartanegara"))
    admin = db.session.scalar(select(User).where(User.username == "dinkes_kukar"))
    assert d.kind == "kabupaten" and d.code == "64.02"
    assert admin.role == "district_admin" and admin.district_id == d.id
    # Audited, with the installation admin as the actor.
    audited = {(a.entity, a.entity_id) for a in db.session.scalars(select(AuditLog).where(AuditLog.actor_id == inst.id))}
    assert ("district", d.id) in audited and ("user_account", admin.id) in audited
    assert "dinkes_kukar" in c.get(resp.headers["Location"]).get_data(as_text=True)
    # The same district or username again is refused, nothing is made twice.
    again = c.post("/instalasi/baru", {**NEW_DISTRICT, "username": "other_admin"})
    assert again.status_code == 422 and "sudah dipakai" in again.get_data(as_text=True)
    again = c.post("/instalasi/baru", {**NEW_DISTRICT, "name": "Kabupaten Paser", "code": "64.01"})
    assert again.status_code == 422
    assert db.session.scalar(select(func_count()).select_from(District)) == 3
    # The new admin logs in and sees her empty district, nothing of the others.
    assert client.login("dinkes_kukar", "kukar-rahasia-1").status_code == 303
    html = client.get("/wilayah/").get_data(as_text=True)
    assert "Kecamatan A" not in html and "Kecamatan C" not in html
    assert client.get(f"/posyandu/{tree.posyandu['A1'].id}").status_code == 404


def func_count():
    from sqlalchemy import func

    return func.count()


def test_installation_admin_sees_no_ones_health_data(app, tree, login):
    _installation_admin()
    c = login("provinsi")
    t = tree
    for url in ("/sasaran/", "/wilayah/", "/akun/", "/laporan/", "/hari-buka/", "/kader/", "/insentif/",
                "/pengaturan/", f"/sasaran/{t.people['child_A1'].id}", f"/posyandu/{t.posyandu['A1'].id}",
                "/wilayah/impor"):
        assert c.get(url).status_code == 403, url
    assert c.post("/sasaran/baru", {"name": "X"}).status_code == 403
    assert c.get("/sandi").status_code == 200  # her own password she changes like everyone
    # Her nav offers only the district list.
    html = c.get("/instalasi/").get_data(as_text=True)
    assert 'href="/sasaran/"' not in html and 'href="/wilayah/"' not in html


def test_district_roles_cannot_open_installation_pages_or_make_installation_admins(app, tree, login):
    for username in ("admin_d", "clerk_a", "nakes_a", "ketua_a1", "kader_a1"):
        c = login(username)
        assert c.get("/instalasi/").status_code == 403
        assert c.post("/instalasi/baru", NEW_DISTRICT).status_code == 403
    c = login("admin_d")
    resp = c.post("/akun/baru", {"username": "naik", "display_name": "Naik", "role": "installation_admin",
                                 "password": "rahasia-panjang-9"})
    assert resp.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "naik")) is None


def test_get_in_scope_denies_an_installation_admin_everything(app, tree):
    from posyandu.models import Posyandu

    inst = _installation_admin()
    assert scope.get_in_scope(inst, Posyandu, tree.posyandu["A1"].id) is None
    assert scope.get_in_scope(inst, User, inst.id) is None
    assert scope.get_in_scope(inst, Kecamatan, tree.kelurahan["A"].kecamatan_id) is None


def test_cli_creates_an_installation_admin(app, monkeypatch):
    answers = iter(["rahasia-panjang-1", "rahasia-panjang-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = app.test_cli_runner().invoke(args=["create-admin", "--installation", "--username", "Kaltim",
                                                "--name", "Admin Provinsi"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "kaltim"))
    assert user.role == "installation_admin" and user.district_id is None


# --- import of a kode wilayah list ------------------------------------------------------------------------------

def _kukar(tree):
    d = District(name="Kabupaten Kutai Kartanegara", kind="kabupaten", code="64.02")
    db.session.add(d)
    db.session.flush()
    u = User(username="admin_k", display_name="Admin K", role="district_admin", password_hash=hash_password(PASSWORD),
             district_id=d.id)
    db.session.add(u)
    db.session.commit()
    return d


def _preview(c, data: bytes):
    from io import BytesIO

    return c.post("/wilayah/impor", {"file": (BytesIO(data), "wilayah.csv")}, content_type="multipart/form-data")


def test_import_previews_then_creates_and_reimport_changes_nothing(app, tree, login):
    d = _kukar(tree)
    c = login("admin_k")
    data = KUKAR_CSV.read_bytes()
    html = _preview(c, data).get_data(as_text=True)
    assert "7 baru" in html and "Tanjung Harapan" in html and "Semboja" in html
    assert db.session.scalar(select(func_count()).select_from(Kecamatan).where(Kecamatan.district_id == d.id)) == 0
    content = re.search(r'<textarea name="content" hidden>(.*?)</textarea>', html, re.S).group(1)
    import html as h

    resp = c.post("/wilayah/impor/simpan", {"content": h.unescape(content)})
    assert resp.status_code == 303
    kel = {k.name: k for k in db.session.scalars(select(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == d.id))}
    assert set(kel) == {"Tanjung Harapan", "Sungai Merdeka", "Amborawang Laut", "Melayu", "Bukit Biru"}
    assert kel["Tanjung Harapan"].kind == "desa" and kel["Melayu"].kind == "kelurahan"
    assert kel["Tanjung Harapan"].code == "6402012001" and kel["Tanjung Harapan"].kecamatan.name == "Semboja"
    # What the next steps need: the imported kecamatan and desa in the forms.
    assert "Semboja" in _options(c.get("/wilayah/puskesmas/baru").get_data(as_text=True), "kecamatan_id")
    assert "Bukit Biru" in _options(c.get("/wilayah/posyandu/baru").get_data(as_text=True), "kelurahan_id")
    before = db.session.scalar(select(func_count()).select_from(AuditLog))
    again = _preview(c, data).get_data(as_text=True)
    assert "0 baru · 0 diubah · 7 tetap" in again and "Tidak ada yang berubah" in again
    c.post("/wilayah/impor/simpan", {"content": data.decode("utf-8-sig")})
    assert db.session.scalar(select(func_count()).select_from(AuditLog)) == before
    # A renamed desa (comma-separated file this time) is an update of the same row.
    renamed = "kode,nama\n64.02.01.2001,Tanjung Harapan Baru\n".encode()
    assert "1 diubah" in _preview(c, renamed).get_data(as_text=True)
    c.post("/wilayah/impor/simpan", {"content": renamed.decode()})
    db.session.expire_all()
    assert db.session.get(Kelurahan, kel["Tanjung Harapan"].id).name == "Tanjung Harapan Baru"


def test_import_names_each_bad_row_by_line_and_saves_nothing(app, tree, login):
    d = _kukar(tree)
    c = login("admin_k")
    bad = ("kode;nama\n64.02.01;Semboja\n64.02.01.20x1;Salah\n64.02.01.2002;\n64.74.01.1001;Bontang\n"
           "64.02.09.2001;Tanpa Kecamatan\n64.02.01;Semboja Lagi\n").encode()
    resp = _preview(c, bad)
    html = resp.get_data(as_text=True)
    for line in (3, 4, 5, 6, 7):
        assert f"Baris {line}:" in html, line
    assert "Simpan" not in html.split("Baris yang salah")[1].split("</section>")[0]
    assert c.post("/wilayah/impor/simpan", {"content": bad.decode()}).status_code == 303
    assert db.session.scalar(select(func_count()).select_from(Kecamatan).where(Kecamatan.district_id == d.id)) == 0
    assert "Baris 1:" in _preview(c, b"foo;bar\n1;2\n").get_data(as_text=True)


# --- per-district settings --------------------------------------------------------------------------------------

def test_one_districts_settings_do_not_change_anothers(app, tree, login):
    from posyandu.services import roster

    d, e = tree.districts["D"], tree.districts["E"]
    rule = '[{"stratum": "purwa", "required": ["manajemen"], "extra": 0}]'
    c = login("admin_d")
    resp = c.post("/pengaturan/", {"government_name": "Pemerintah Kota D Baru", "place_name": "Dee",
                                   "trained_target_pct": "40", "stratum_rule": rule})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    db.session.expire_all()
    assert d.header == "Pemerintah Kota D Baru" and d.place == "Dee" and roster.trained_target(d) == 0.4
    assert roster.stratum_rule(d)[0]["required"] == ["manajemen"]
    assert e.header == "Pemerintah Kota E" and e.place == "E" and roster.trained_target(e) == 0.1
    assert len(roster.stratum_rule(e)) == 3
    # The number is formatted outside the msgid, the Indonesian way (no "40.0%")
    assert "Target: 40%." in c.get("/kader/kompetensi").get_data(as_text=True)
    assert "Target: 10%." in login("admin_e").get("/kader/kompetensi").get_data(as_text=True)
    audited = db.session.scalar(select(AuditLog).where(AuditLog.entity == "district", AuditLog.entity_id == d.id))
    assert audited is not None and "trained_target_pct" in audited.changes
    # A rule naming an unknown group is refused.
    bad = c.post("/pengaturan/", {"stratum_rule": '[{"stratum": "purwa", "required": ["sulap"], "extra": 0}]'})
    assert bad.status_code == 422


# --- the Kukar-shaped demo district -----------------------------------------------------------------------------

def test_seed_demo_kukar_adds_a_second_district_beside_the_first(app, tree, client):
    from posyandu.models import IncentivePolicy, Kader, Posyandu

    result = app.test_cli_runner().invoke(args=["seed-demo", "--district", "kukar"])
    assert result.exit_code == 0, result.output
    assert "admin_kukar" in result.output and "provinsi" in result.output
    d = db.session.scalar(select(District).where(District.name == "Kabupaten Kutai Kartanegara"))
    kel = list(db.session.scalars(select(Kelurahan).join(Kecamatan).where(Kecamatan.district_id == d.id)))
    assert kel and all(k.kind == "desa" and len(k.code) == 10 for k in kel)
    pos = list(db.session.scalars(select(Posyandu).where(Posyandu.kelurahan_id.in_([k.id for k in kel]))))
    assert pos and all(p.sk_number and p.registration_number for p in pos)
    policy = db.session.scalar(select(IncentivePolicy).where(IncentivePolicy.district_id == d.id))
    assert policy.amount == 250_000 and policy.funding_source == "APBDes"
    kader = list(db.session.scalars(select(Kader).join(KaderRole).where(KaderRole.posyandu_id.in_([p.id for p in pos]))))
    assert kader and all(k.review_status == "tervalidasi" for k in kader)
    # Twice is refused; --if-empty makes it a no-op (for `make run`).
    assert app.test_cli_runner().invoke(args=["seed-demo", "--district", "kukar"]).exit_code != 0
    assert app.test_cli_runner().invoke(args=["seed-demo", "--district", "kukar", "--if-empty"]).exit_code == 0
    # Its admin logs in and sees only her district.
    assert client.login("admin_kukar", "posyandu-demo").status_code == 303
    html = client.get("/wilayah/").get_data(as_text=True)
    assert "Tanjung Harapan" in html and "Kelurahan A" not in html


def test_the_kukar_seed_closes_its_past_months_like_bontang_and_leaves_this_month_open(app, tree):
    from datetime import date

    from posyandu.domain.reports import shift_month
    from posyandu.models import MonthEvent, Posyandu, PosyanduMonth
    from posyandu.seed_kukar import seed_kukar
    from posyandu.services import month_snapshot, months

    today = date(2026, 12, 2)
    made = seed_kukar(hash_password(PASSWORD), today=today)
    d = db.session.scalar(select(District).where(District.name == "Kabupaten Kutai Kartanegara"))
    pos = list(db.session.scalars(select(Posyandu).join(Kelurahan).join(Kecamatan)
                                  .where(Kecamatan.district_id == d.id).order_by(Posyandu.id)))
    ids = [p.id for p in pos]
    n_months = (2026 - 2024) * 12 + (11 - 4) + 1  # April 2024 (its kader started) to November 2026
    assert made["approved_months"] == len(pos) * n_months
    last = shift_month(today, -1)
    assert months.approved_ids(ids, last) == set(ids) and months.approved_ids(ids, date(2024, 4, 1)) == set(ids)
    assert months.approved_ids(ids, today) == set() and months.approved_ids(ids, date(2024, 3, 1)) == set()
    pm = months.month_of(ids[0], last)
    assert pm.snapshot is not None and month_snapshot.verify(pm)  # its snapshot, with a hash that holds
    assert pm.snapshot["lists"]["S"]["posyandu"] == pos[0].name  # the three children of each Posyandu
    steps = [e.action for e in db.session.scalars(select(MonthEvent).where(MonthEvent.posyandu_month_id == pm.id)
                                                   .order_by(MonthEvent.id))]
    assert steps[0] == "submit" and steps[-1] == "approve"
    approver = db.session.get(User, pm.approved_by_id)
    assert approver.username == "desa_kukar"  # the desa approves its own Posyandu
    # Bontang's (district one's) months are untouched.
    assert db.session.scalar(select(func_count()).select_from(PosyanduMonth).where(
        PosyanduMonth.posyandu_id.in_([p.id for p in tree.posyandu.values()]))) == 0


def test_kukar_computes_a_rp250000_batch_from_apbdes_and_district_one_is_untouched(app, tree):
    """The Done-when's batch, outside the browser (the e2e builds the tree; a batch needs kader, roles and a policy
    the seed gives): Kukar's own policy pays Rp250.000 from APBDes, signed in Tenggarong; district one's policies,
    documents and settings are not touched."""
    from datetime import date

    from posyandu.models import IncentivePolicy
    from posyandu.seed_kukar import seed_kukar
    from posyandu.services import incentives

    seed_kukar(hash_password(PASSWORD))
    clerk = db.session.scalar(select(User).where(User.username == "desa_kukar"))
    desa = clerk.kelurahan
    month = date(2026, 10, 1)
    # A batch pays from approved Posyandu-months only (issue 13): the seed closed the desa's past months.
    from posyandu.models import Posyandu
    from posyandu.services import months

    here = [p.id for p in db.session.scalars(select(Posyandu).where(Posyandu.kelurahan_id == desa.id))]
    assert months.approved_ids(here, month) == set(here)
    batch = incentives.compute(clerk, desa, month)
    assert batch.lines and all(ln.base == 250_000 for ln in batch.lines)
    assert sum(ln.net for ln in batch.lines) == 250_000 * len(batch.lines)
    doc = incentives.document_data(batch, on=date(2026, 11, 5))
    assert doc["funding_source"] == "APBDes" and doc["place_date"].startswith("Tenggarong, ")
    assert doc["district"] == "Kabupaten Kutai Kartanegara" and doc["kelurahan_kind"] == "Desa"
    # District one: no policy appeared there, its header and place are its own.
    d = tree.districts["D"]
    assert db.session.scalar(select(func_count()).select_from(IncentivePolicy)
                             .where(IncentivePolicy.district_id == d.id)) == 0
    assert d.header == "Pemerintah Kota D" and d.place == "D"
