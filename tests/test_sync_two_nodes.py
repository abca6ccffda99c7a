"""A district server and a Posyandu laptop as two processes over HTTP (docs/sync.md): the district runs
`flask serve` (waitress) on a free port on its own SQLite file; the laptop is an app on another SQLite file,
driven through its CLI. Enrol, pull, a session day on the laptop, push; a rerun or a replay after a lost answer
adds nothing; a closed month is refused with its reason; a revoked laptop is refused."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from posyandu import create_app
from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import Device, HariBuka, Measurement, Person, Posyandu, ServiceRecord, SyncState, User, Visit
from tests.conftest import PASSWORD, ROOT, base_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nodes(sqlite_template, tmp_path):
    """(district app, laptop app, district URL, district env): the district's server in its own process."""
    district_db, laptop_db = tmp_path / "district.sqlite", tmp_path / "laptop.sqlite"
    shutil.copy(sqlite_template, district_db)
    shutil.copy(sqlite_template, laptop_db)
    district = create_app(base_config(f"sqlite:///{district_db}"))
    with district.app_context():
        from tests.factories import build_tree

        build_tree()
        db.session.commit()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{district_db}", "SECRET_KEY": "district-test",
           "SYNC_CREDENTIAL_FILE": str(tmp_path / "district-has-none.json")}
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port),
                               "--threads", "4"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/sync/v1/status", timeout=1)
        except urllib.error.HTTPError:
            break  # answered (400: no protocol header): the server is up
        except OSError:
            time.sleep(0.1)
    laptop = create_app(base_config(f"sqlite:///{laptop_db}", SYNC_LAPTOP=True,
                                    SYNC_CREDENTIAL_FILE=str(tmp_path / "sync.json")))
    yield district, laptop, url, env
    server.terminate()
    server.wait(timeout=10)


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.session.remove()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def on(app, fn):
    """Run fn() in the app with its own session, committed."""
    with app.app_context():
        try:
            out = fn()
            db.session.commit()
            return out
        finally:
            db.session.remove()
            db.engine.dispose()


def test_laptop_and_district_over_http(nodes, tmp_path):
    district, laptop, url, env = nodes
    pos_id = on(district, lambda: db.session.scalar(select(Posyandu.id).where(Posyandu.name == "Posyandu A1")))
    added = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "device", "add", "--posyandu",
                            str(pos_id), "--name", "Laptop A1"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    code = added.stdout.strip().splitlines()[-1]

    enrol = cli(laptop, "sync", "enrol", url, code)
    assert enrol.exit_code == 0, enrol.output
    assert (tmp_path / "sync.json").stat().st_mode & 0o777 == 0o600

    first = cli(laptop, "sync", "run")
    assert first.exit_code == 0, first.output
    assert "nothing to send" in first.output and "sync finished: 0 waiting" in first.output

    def laptop_holds():
        names = set(db.session.scalars(select(Person.name)))
        users = set(db.session.scalars(select(User.username)))
        return names, users
    names, users = on(laptop, laptop_holds)
    assert {"Ibu A1", "Anak A1"} <= names and "Anak A2" not in names  # only its scope
    assert {"ketua_a1", "kader_a1"} <= users and "kader_a2" not in users
    with laptop.app_context():  # the kader's account works on the laptop, offline
        from tests.conftest import Client

        assert Client(laptop.test_client()).login("kader_a1").status_code == 303
        db.session.remove()

    today = date.today()

    def session_day():
        from posyandu.services import session_day as sd

        ketua = db.session.scalar(select(User).where(User.username == "ketua_a1"))
        pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu A1"))
        child = db.session.scalar(select(Person).where(Person.name == "Anak A1"))
        baby = Person(posyandu_id=pos.id, name="Bayi Baru Laptop", sex="P", birth_date=today - timedelta(days=90))
        db.session.add(baby)
        hb = sd.open_session(ketua, pos, today)
        for p, kg, length in ((child, 9.6, 76.0), (baby, 5.4, 58.5)):
            visit = sd.add_to_queue(ketua, hb, p)
            sd.save_measurement(ketua, visit, {"weight_kg": kg, "length_cm": length, "position": "l"}, True)
            sd.record_services(ketua, visit, [("vitamin_a", "biru", None)], done=False)
    on(laptop, session_day)
    assert on(laptop, lambda: db.session.scalar(select(func.count()).select_from(SyncState)
                                                .where(SyncState.state == "pending"))) >= 6

    pushed = cli(laptop, "sync", "run")
    assert pushed.exit_code == 0, pushed.output
    print(pushed.output)
    assert "refused" not in pushed.output.split("sync finished")[0], pushed.output
    assert "sync finished: 0 waiting, 0 conflicts, 0 refused" in pushed.output

    def district_counts():
        hb = db.session.scalar(select(HariBuka).join(Posyandu).where(Posyandu.name == "Posyandu A1",
                                                                     HariBuka.held_on == today))
        return (db.session.scalar(select(func.count()).select_from(Person).where(Person.name == "Bayi Baru Laptop")),
                db.session.scalar(select(func.count()).select_from(Visit).where(Visit.hari_buka_id == hb.id)),
                db.session.scalar(select(func.count()).select_from(Measurement).join(Visit)
                                  .where(Visit.hari_buka_id == hb.id, Measurement.waz.is_not(None))),
                db.session.scalar(select(func.count()).select_from(ServiceRecord).join(Visit)
                                  .where(Visit.hari_buka_id == hb.id)))
    assert on(district, district_counts) == (1, 2, 2, 2)

    # The district's pages show the day: the admin logs in over HTTP and opens the hari buka list.
    assert "Bayi Baru Laptop" in _district_page(url, "/sasaran?q=Bayi+Baru")

    again = cli(laptop, "sync", "run")
    assert "nothing to send" in again.output
    # An answer lost on the way back: the district applied the push, the laptop never heard; the next run sends
    # the same change again and the district keeps one copy.
    def deworm():
        from posyandu.services import session_day as sd

        visit = db.session.scalar(select(Visit).join(Person).where(Person.name == "Anak A1",
                                                                   Visit.hari_buka.has(HariBuka.held_on == today)))
        sd.record_services(None, visit, [("obat_cacing", "", None)], done=False)
    on(laptop, deworm)

    def cut_push():
        from posyandu.sync import laptop as lp
        from posyandu.sync.client import Transport, load_credential

        class Cut(Transport):
            def call(self, method, path, payload=None):
                super().call(method, path, payload)
                raise OSError("connection reset by peer")
        cred = load_credential(laptop.config["SYNC_CREDENTIAL_FILE"])
        with pytest.raises(OSError):
            lp.push(Cut(cred["url"], cred["credential"]), lp.Report())
    on(laptop, cut_push)
    assert on(district, district_counts) == (1, 2, 2, 3)
    replay = cli(laptop, "sync", "run")
    assert replay.output.startswith("pushed: 1 duplicate") and "0 waiting" in replay.output, replay.output
    assert on(district, district_counts) == (1, 2, 2, 3)

    # A month the kelurahan approved is closed: a late weighing for it is refused with the reason.
    month = shift_month(today, -1)
    held = month + timedelta(days=14)

    def approve():
        from posyandu.services import months

        pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu A1"))
        u = {n: db.session.scalar(select(User).where(User.username == n)) for n in ("ketua_a1", "nakes_a", "clerk_a")}
        for step, who in (("submit", "ketua_a1"), ("verify", "nakes_a"), ("approve", "clerk_a")):
            getattr(months, step)(u[who], pos, month)
    on(district, approve)

    def late_session():
        from posyandu.services import session_day as sd

        ketua = db.session.scalar(select(User).where(User.username == "ketua_a1"))
        pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu A1"))
        child = db.session.scalar(select(Person).where(Person.name == "Anak A1"))
        visit = sd.add_to_queue(ketua, sd.open_session(ketua, pos, held), child)
        sd.save_measurement(ketua, visit, {"weight_kg": 9.2, "length_cm": 75.0, "position": "l"}, True)
    on(laptop, late_session)
    refused = cli(laptop, "sync", "run")
    assert "refused month_closed" in refused.output and "approved" in refused.output, refused.output
    assert on(laptop, lambda: db.session.scalar(select(func.count()).select_from(SyncState)
                                                .where(SyncState.state == "refused", SyncState.code == "month_closed"))) >= 1

    # No link: the changes travel as a signed bundle; imported twice, they count once.
    def weigh_again():
        from posyandu.services import session_day as sd

        ketua = db.session.scalar(select(User).where(User.username == "ketua_a1"))
        mother = db.session.scalar(select(Person).where(Person.name == "Ibu A1"))
        hb = db.session.scalar(select(HariBuka).where(HariBuka.held_on == today))
        sd.add_to_queue(ketua, hb, mother)
    on(laptop, weigh_again)
    bundle = tmp_path / "bundle.gz"
    exported = cli(laptop, "sync", "export", str(bundle))
    assert exported.exit_code == 0 and "changes written" in exported.output, exported.output
    assert bundle.stat().st_mode & 0o777 == 0o600
    imports = [subprocess.run([sys.executable, "-m", "flask", "--app", "app", "sync", "import", str(bundle)],
                              cwd=ROOT, env=env, capture_output=True, text=True) for _ in range(2)]
    assert "applied" in imports[0].stdout and "applied" not in imports[1].stdout, imports[0].stderr
    assert "duplicate" in imports[1].stdout
    assert on(district, district_counts)[1] == 3  # the mother's visit, once
    after_bundle = cli(laptop, "sync", "run")
    assert "duplicate" in after_bundle.output and "sync finished: 0 waiting" in after_bundle.output, \
        after_bundle.output

    # Revoked: the laptop is refused with the reason.
    def revoke():
        from posyandu.sync import devices

        devices.revoke(db.session.scalar(select(User).where(User.username == "admin_d")),
                       db.session.scalar(select(Device)))
    on(district, revoke)
    revoked = cli(laptop, "sync", "run")
    assert revoked.exit_code != 0 and "device_revoked" in revoked.output


def _district_page(url: str, path: str) -> str:
    """A page of the district as its admin sees it (a real login over HTTP, cookies and CSRF)."""
    import http.cookiejar
    import re
    import urllib.parse

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    html = opener.open(url + "/masuk").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": "admin_d", "password": PASSWORD}).encode()
    opener.open(url + "/masuk", data=data)
    return opener.open(url + path).read().decode()
