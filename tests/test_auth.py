"""Login, logout, server-side revocation, idle timeout, rate limit."""
from datetime import timedelta

from sqlalchemy import select, update

from posyandu.extensions import db
from posyandu.models import AuthSession, Throttle, User
from posyandu.models.base import utcnow

from .conftest import PASSWORD, Client


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


def _from(app, ip):
    """A client whose requests come from address `ip`."""
    c = Client(app.test_client())
    c.c.environ_base["REMOTE_ADDR"] = ip
    return c


def _wait_passes():
    """The backoff wait is over (as if its seconds had passed)."""
    db.session.execute(update(Throttle).values(next_at=Throttle.next_at - 3600))
    db.session.commit()


def test_five_wrong_guesses_slow_this_client_down_but_never_lock_the_real_user_out(app, tree):
    attacker, owner = _from(app, "203.0.113.9"), _from(app, "198.51.100.7")
    for _ in range(5):
        assert attacker.login("kader_a1", "salah").status_code == 422
    resp = attacker.login("kader_a1")  # the guesser's client waits now, even with the right password
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 300
    assert "Coba lagi dalam" in resp.get_data(as_text=True)
    assert owner.login("kader_a1").status_code == 303  # the owner on her own device is not locked out
    _wait_passes()
    assert attacker.login("kader_a1").status_code == 303  # and the wait is short, not 15 minutes


def test_the_wait_grows_with_each_failure_after_the_free_ones(app, tree):
    c = _from(app, "203.0.113.9")
    waits = []
    for _ in range(8):
        resp = c.login("kader_a1", "salah")
        if resp.status_code == 429:
            waits.append(int(resp.headers["Retry-After"]))
            _wait_passes()
            resp = c.login("kader_a1", "salah")
        assert resp.status_code == 422
    assert waits == [2, 4, 8] and max(waits) <= 300


def test_thirty_failures_from_one_address_delay_it_briefly_and_do_not_block_its_other_users(app, tree):
    shared = _from(app, "10.1.1.1")  # a whole Posyandu behind one address
    for i in range(30):
        assert shared.login(f"tidak-ada-{i}", "salah").status_code == 422
    resp = shared.login("ketua_a1")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 60
    _wait_passes()
    assert shared.login("ketua_a1").status_code == 303


def test_a_known_device_is_not_slowed_by_guesses_from_everywhere_else(app, tree):
    owner = _from(app, "198.51.100.7")
    assert owner.login("kader_a1").status_code == 303
    assert owner.post("/keluar").status_code == 303
    owner._token = None  # logged out: a fresh form token
    for i in range(30):  # a botnet: one guess from each of many addresses
        assert _from(app, f"203.0.113.{i + 1}").login("kader_a1", "salah").status_code == 422
    assert _from(app, "192.0.2.50").login("kader_a1").status_code == 429  # a new device waits
    assert owner.login("kader_a1").status_code == 303  # her own browser does not


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(app, tree):
    from posyandu import create_app
    from tests.conftest import base_config

    # Without a trusted proxy the header is ignored: changing it does not escape the throttle.
    spoofer = _from(app, "203.0.113.9")
    for i in range(5):
        spoofer.c.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{i}"
        assert spoofer.login("kader_a1", "salah").status_code == 422
    spoofer.c.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.99"
    assert spoofer.login("kader_a1", "salah").status_code == 429
    # Behind nginx at 127.0.0.1 (trusted), each client is its own forwarded address.
    behind = create_app(base_config(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=("127.0.0.1",),
                                    SQLALCHEMY_ENGINE_OPTIONS=app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
    clients = []
    for ip in ("198.51.100.1", "198.51.100.2"):
        c = _from(behind, "127.0.0.1")
        c.c.environ_base["HTTP_X_FORWARDED_FOR"] = ip
        clients.append(c)
    for _ in range(5):
        assert clients[0].login("ketua_a1", "salah").status_code == 422
    assert clients[0].login("ketua_a1").status_code == 429
    assert clients[1].login("ketua_a1").status_code == 303
    keys = set(db.session.scalars(select(Throttle.key)))
    assert "client:198.51.100.1" in keys and "client:127.0.0.1" not in keys


def test_concurrent_guesses_are_counted_atomically(app, tree):
    """Ten wrong guesses at once from one client: five are checked, five wait (PostgreSQL let ten through)."""
    import threading

    app.config["LOGIN_THROTTLE"] = {**app.config["LOGIN_THROTTLE"], "account_client": (5, 600, 600)}
    clients = [_from(app, "203.0.113.9") for _ in range(10)]
    for c in clients:
        c.token()
    start, codes = threading.Barrier(10), []

    def guess(c):
        with app.app_context():
            start.wait()
            codes.append(c.post("/masuk", {"username": "kader_a1", "password": "salah"}).status_code)

    threads = [threading.Thread(target=guess, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [422] * 5 + [429] * 5
    assert db.session.scalar(select(Throttle.failures).where(Throttle.key == "login:kader_a1|203.0.113.9")) == 5


def test_a_user_changes_her_password_and_her_other_sessions_end(app, tree):
    here, elsewhere = _from(app, "198.51.100.7"), _from(app, "198.51.100.8")
    here.login("kader_a1")
    elsewhere.login("kader_a1")
    assert here.get("/sandi").status_code == 200
    wrong = here.post("/sandi", {"current": "bukan-sandinya", "new": "sandi-baru-panjang", "confirm": "sandi-baru-panjang"})
    assert wrong.status_code == 422 and "Kata sandi saat ini salah." in wrong.get_data(as_text=True)
    short = here.post("/sandi", {"current": PASSWORD, "new": "pendek", "confirm": "pendek"})
    assert short.status_code == 422 and "paling sedikit 10" in short.get_data(as_text=True)
    differ = here.post("/sandi", {"current": PASSWORD, "new": "sandi-baru-panjang", "confirm": "sandi-lain-panjang"})
    assert differ.status_code == 422
    ok = here.post("/sandi", {"current": PASSWORD, "new": "sandi-baru-panjang", "confirm": "sandi-baru-panjang"})
    assert ok.status_code == 303
    assert here.get("/").status_code == 200  # this session stays
    resp = elsewhere.get("/")
    assert resp.status_code == 302 and "/masuk" in resp.headers["Location"]  # the other one is logged out
    assert _from(app, "198.51.100.9").login("kader_a1").status_code == 422  # the old password no longer works
    assert _from(app, "198.51.100.9").login("kader_a1", "sandi-baru-panjang").status_code == 303
    assert Client(app.test_client()).get("/sandi").status_code == 302  # only when logged in


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


def test_idle_counters_are_forgotten_and_a_stale_count_starts_over(app, tree):
    import time

    from posyandu.services import throttle

    rule = throttle.Rule(free=2, base=10, cap=40, window=60)
    now = time.time()
    assert [throttle.attempt("x", rule, now).allowed for _ in range(3)] == [True, True, False]
    assert throttle.attempt("x", rule, now + 5).retry_after == 5  # 10 s after the second failure
    assert throttle.attempt("x", rule, now + 11).allowed  # the wait is over: counted, and the next wait doubles
    assert throttle.attempt("x", rule, now + 12).retry_after == 19
    assert throttle.attempt("x", rule, now + 100).allowed  # idle longer than the window: starts over at 1
    assert db.session.scalar(select(Throttle.failures).where(Throttle.key == "x")) == 1
    db.session.execute(update(Throttle).values(last_at=Throttle.last_at - 2 * 86400))
    assert throttle.prune(86400) == 1
