"""One-time invitation links (issue 12): an account made without a password gets a link, shown once to its maker;
opening it lets its owner set her password, once, within seven days; every step is audited and the token is kept
nowhere but the maker's screen."""
import re
from datetime import timedelta

from sqlalchemy import select

from posyandu.extensions import db
from posyandu.models import AuditLog, Invitation, User
from posyandu.models.base import utcnow
from posyandu.services import invitations

NEW = {"username": "kader_baru", "display_name": "Kader Baru", "role": "kader", "kelurahan_id": 0,
       "puskesmas_id": 0, "active": "y"}
NEW_PASSWORD = "sandi-pilihan-sendiri"


def _link(html: str) -> str:
    m = re.search(r'id="invitation-link"[^>]*value="([^"]+)"', html)
    assert m, html[:3000]
    return m.group(1)


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def test_a_district_admin_invites_an_account_and_its_owner_sets_her_password(app, tree, login, client):
    admin = tree.users["admin_d"]
    c = login("admin_d")
    resp = c.post("/akun/baru", {**NEW, "posyandu_id": tree.posyandu["A1"].id, "password": ""})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]  # before: 422 "Wajib diisi."
    link = _link(resp.get_data(as_text=True))
    token = link.rsplit("/", 1)[1]
    user = db.session.scalar(select(User).where(User.username == "kader_baru"))
    assert user.district_id == admin.district_id and not invitations.has_password(user)
    # Only the hash is stored; the token is in no table and no audit row.
    inv = db.session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert inv.token_hash == invitations.digest(token) and token not in inv.token_hash
    assert timedelta(days=6, hours=23) < inv.expires_at - utcnow() <= timedelta(days=7)
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.entity == "invitation")))
    assert [(r.action, r.actor_id) for r in rows] == [("create", admin.id)]
    assert all(token not in str(r.changes) and "token_hash" not in r.changes for r in rows)
    # Nobody logs in with the account before she sets a password.
    assert client.login("kader_baru", "").status_code == 422

    opened = client.get(_path(link))
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/undangan")
    page = client.get("/undangan").get_data(as_text=True)
    assert "kader_baru" in page and token not in page
    short = client.post("/undangan", {"new": "pendek", "confirm": "pendek"})
    assert short.status_code == 422 and "paling sedikit" in short.get_data(as_text=True).lower()
    mismatch = client.post("/undangan", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422
    done = client.post("/undangan", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/masuk")
    assert client.login("kader_baru", NEW_PASSWORD).status_code == 303
    used = db.session.scalar(select(AuditLog).where(AuditLog.entity == "invitation", AuditLog.action == "update"))
    assert used.actor_id == user.id and used.entity_id == inv.id
    # Single use: the link (and the page behind it) say so, in Indonesian.
    again = client.get(_path(link))
    assert again.status_code == 410 and "sudah dipakai" in again.get_data(as_text=True)
    assert client.get("/undangan").status_code == 404  # nothing remembered in the session any more


def test_expired_replaced_and_unknown_links_are_refused_with_a_clear_page(app, tree, login, client):
    c = login("admin_d")
    c.post("/akun/baru", {**NEW, "posyandu_id": tree.posyandu["A1"].id, "password": ""})
    user = db.session.scalar(select(User).where(User.username == "kader_baru"))
    first = invitations.create(tree.users["admin_d"], user)
    # A new link from the account page replaces the earlier one.
    resp = c.post(f"/akun/{user.id}/undangan")
    assert resp.status_code == 200
    second = _link(resp.get_data(as_text=True)).rsplit("/", 1)[1]
    gone = client.get(f"/undangan/{first}")
    assert gone.status_code == 410 and "diganti" in gone.get_data(as_text=True)
    # Seven days later it has expired, even opened in a tab before.
    assert client.get(f"/undangan/{second}").status_code == 303
    inv = db.session.scalar(select(Invitation).where(Invitation.token_hash == invitations.digest(second)))
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    late = client.post("/undangan", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert late.status_code == 410 and "kedaluwarsa" in late.get_data(as_text=True)
    assert not invitations.has_password(db.session.get(User, user.id))
    unknown = client.get("/undangan/" + "x" * 43)
    assert unknown.status_code == 404 and "tidak dikenal" in unknown.get_data(as_text=True)
    # Another district's admin cannot make a link for this account.
    assert login("admin_e").post(f"/akun/{user.id}/undangan").status_code == 404


def test_the_installation_admin_invites_a_new_districts_first_admin(app, tree, login, client):
    from .test_district_setup import NEW_DISTRICT, _installation_admin

    _installation_admin()
    c = login("provinsi")
    resp = c.post("/instalasi/baru", {**NEW_DISTRICT, "password": "", "idempotency_key": "k-inv"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    link = _link(resp.get_data(as_text=True))
    assert client.get(_path(link)).status_code == 303
    assert client.post("/undangan", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    assert client.login("dinkes_kukar", NEW_PASSWORD).status_code == 303
    assert "Wilayah" in client.get("/wilayah/").get_data(as_text=True)
