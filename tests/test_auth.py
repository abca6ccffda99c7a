"""Login, logout, server-side revocation, idle timeout, rate limit."""
from datetime import timedelta

from sqlalchemy import select, update

from posyandu.extensions import db
from posyandu.models import AuthSession, User
from posyandu.models.base import utcnow

from .conftest import Client


def test_login_and_logout_revokes_session_on_server(app, tree, client):
    assert client.login("kader_a1").status_code == 303
    assert client.get("/").status_code == 200
    stolen = client.c.get_cookie("session").value  # what an attacker copied before logout
    assert client.get("/keluar").status_code == 405  # logout is never a GET
    assert client.post("/keluar").status_code == 303
    other = Client(app.test_client())
    other.c.set_cookie("session", stolen)
    resp = other.get("/")
    assert resp.status_code == 302 and "/masuk" in resp.headers["Location"]
    assert db.session.scalar(select(AuthSession.revoked_at)) is not None


def test_wrong_password_is_422_and_in_indonesian(tree, client):
    resp = client.login("kader_a1", "salah-sekali")
    assert resp.status_code == 422
    assert "Nama pengguna atau kata sandi salah." in resp.get_data(as_text=True)


def test_login_rate_limited_after_five_failures(tree, client):
    for _ in range(5):
        assert client.login("kader_a1", "salah").status_code == 422
    resp = client.login("kader_a1")  # even the right password waits now
    assert resp.status_code == 429
    assert "Terlalu banyak percobaan" in resp.get_data(as_text=True)


def test_idle_timeout_logs_out(app, tree, client):
    client.login("kader_a1")
    db.session.execute(update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    resp = client.get("/")
    assert resp.status_code == 302 and "/masuk" in resp.headers["Location"]


def test_next_only_local(tree, client):
    resp = client.post("/masuk?next=//evil.example/x", {"username": "kader_a1", "password": "rahasia-kader-1"})
    assert resp.headers["Location"] == "/"


def test_password_hash_is_argon2id(tree):
    assert db.session.scalar(select(User.password_hash).limit(1)).startswith("$argon2id$")


def test_production_argon2_parameters_meet_owasp():
    from posyandu.config import Defaults

    # OWASP: argon2id with at least m=19 MiB, t=2, p=1.
    assert Defaults.ARGON2_MEMORY_KIB >= 19 * 1024 and Defaults.ARGON2_TIME_COST >= 2


def test_htmx_request_without_login_gets_hx_redirect(tree, client):
    resp = client.get("/sasaran/", headers={"HX-Request": "true"})
    assert resp.status_code == 401 and resp.headers["HX-Redirect"].startswith("/masuk")
