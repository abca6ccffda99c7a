"""A district server and Posyandu laptops as separate processes over HTTP (docs/sync.md): the district runs
`flask serve` (waitress) on a free port, on PostgreSQL when TEST_DATABASE_URL is set and on SQLite otherwise (one
server per module and backend); each laptop is an app on its own SQLite file and instance directory, driven
through its CLI (or run as a process of its own, to be killed). Enrol, pull, a session day on the laptop, push; a
rerun or a replay after a lost answer adds nothing; a closed month is refused with its reason; bundles both ways
count once; two laptops editing one person or registering one NIK; a laptop killed mid-push; a revoked laptop."""
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from posyandu import create_app
from posyandu.domain.reports import shift_month
from posyandu.extensions import db
from posyandu.models import (Device, HariBuka, Measurement, Person, Posyandu, ServiceRecord, SyncReceipt, SyncState,
                             User, Visit)
from posyandu.sync import laptop as laptop_sync
from tests.conftest import BACKENDS, PASSWORD, PG_URL, ROOT, base_config
from tests.sync_helpers import on


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class District:
    app: object
    url: str
    env: dict
    backend: str


def _wait_up(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/sync/v1/status", timeout=1)
        except urllib.error.HTTPError:
            return  # answered (400: no protocol header): the server is up
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the district server did not start")


@pytest.fixture(scope="module", params=BACKENDS)
def district(request, tmp_path_factory):
    """The district server in its own process, with the small two-district tree, shared by the module's tests
    (each test works in a Posyandu of its own)."""
    from flask_migrate import upgrade

    from posyandu.config import normalise_database_url
    from tests.factories import build_tree

    tmp = tmp_path_factory.mktemp("district")
    schema = None
    if request.param == "sqlite":
        path = tmp / "district.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        app = create_app(base_config(url))
    else:
        schema = f"d_{uuidlib.uuid4().hex[:10]}"
        admin = create_engine(normalise_database_url(PG_URL))
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        app = create_app(base_config(normalise_database_url(url)))
    with app.app_context():
        if schema:
            upgrade(directory=str(ROOT / "migrations"))
        build_tree()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "district-test",
           "SYNC_CREDENTIAL_FILE": str(tmp / "district-has-none.json")}
    port = _free_port()
    log = open(tmp / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "serve", "--port", str(port),
                               "--threads", "4", "--no-jobs"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base)
        yield District(app, base, env, request.param)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


@dataclass
class Laptop:
    app: object
    dir: Path
    device: str
    env: dict  # to run the laptop's CLI as a process of its own


@pytest.fixture
def laptops(district, sqlite_template, tmp_path):
    """make(posyandu, name, url=None) → a laptop enrolled for that Posyandu: its own instance directory, SQLite
    file and credential, registered on the district and enrolled over HTTP (through `url`, e.g. a proxy)."""
    made = []

    def make(posyandu: str, name: str, url: str | None = None) -> Laptop:
        home = tmp_path / f"laptop-{len(made) + 1}"
        home.mkdir()
        shutil.copy(sqlite_template, home / "posyandu.sqlite")
        app = create_app(base_config(f"sqlite:///{home / 'posyandu.sqlite'}", SYNC_LAPTOP=True,
                                     SYNC_CREDENTIAL_FILE=str(home / "sync.json")))

        def register():
            from posyandu.sync import devices

            pos = db.session.scalar(select(Posyandu).where(Posyandu.name == f"Posyandu {posyandu}"))
            return devices.register(None, name, pos.id)
        dev, code = on(district.app, register)
        enrol = cli(app, "sync", "enrol", url or district.url, code)
        assert enrol.exit_code == 0, enrol.output
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{home / 'posyandu.sqlite'}", "SECRET_KEY": "laptop-test",
               "SYNC_CREDENTIAL_FILE": str(home / "sync.json")}
        laptop = Laptop(app, home, on(district.app, lambda: db.session.scalar(
            select(Device.uuid).where(Device.name == name))), env)
        made.append(laptop)
        return laptop
    return make


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.session.remove()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def district_cli(district, *args):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=district.env,
                          capture_output=True, text=True)


def synced(laptop) -> str:
    """`sync run` on the laptop; its output, checked to have finished with nothing waiting."""
    out = cli(laptop.app, "sync", "run")
    assert out.exit_code == 0 and "sync finished: 0 waiting" in out.output, out.output
    return out.output


def test_laptop_and_district_over_http(district, sqlite_template, tmp_path):
    url, env = district.url, district.env
    laptop_db = tmp_path / "laptop.sqlite"
    shutil.copy(sqlite_template, laptop_db)
    laptop = create_app(base_config(f"sqlite:///{laptop_db}", SYNC_LAPTOP=True,
                                    SYNC_CREDENTIAL_FILE=str(tmp_path / "sync.json")))
    pos_id = on(district.app, lambda: db.session.scalar(select(Posyandu.id).where(Posyandu.name == "Posyandu A1")))
    added = district_cli(district, "device", "add", "--posyandu", str(pos_id), "--name", "Laptop A1")
    assert added.returncode == 0, added.stderr
    code = added.stdout.strip().splitlines()[-1]
    district = district.app

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
    weighed_before = _district_weighed(url, today)

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

    # The district's pages show the day: the admin logs in over HTTP, finds the new baby, and the district report
    # of this month counts both children the laptop weighed (D, ditimbang).
    assert "Bayi Baru Laptop" in _district_page(url, "/sasaran?q=Bayi+Baru")
    assert _district_weighed(url, today) == weighed_before + 2

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
        from posyandu.sync.client import Transport, load_credential

        class Cut(Transport):
            def call(self, method, path, payload=None):
                super().call(method, path, payload)
                raise OSError("connection reset by peer")
        cred = load_credential(laptop.config["SYNC_CREDENTIAL_FILE"])
        with pytest.raises(OSError):
            laptop_sync.push(Cut(cred["url"], cred["credential"]), laptop_sync.Report())
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
    assert imports[0].returncode == 0, imports[0].stderr
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
                       db.session.scalar(select(Device).where(Device.name == "Laptop A1")))
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


def _district_weighed(url: str, on: date) -> int:
    """D (children weighed) of this month on the district report, as the admin reads it."""
    import re

    html = _district_page(url, f"/laporan/kabupaten?bulan={on:%Y-%m}")
    found = re.search(r"D/S · (?:<a [^>]*/daftar/D\?[^>]*>(\d+)</a>|0) ", html)
    assert found, html[html.find('<ul class="stats">'):][:800]
    return int(found.group(1) or 0)


def _person(name):
    return db.session.scalar(select(Person).where(Person.name == name))


def test_one_person_edited_on_two_laptops_is_a_conflict_and_the_district_keeps_its_value(district, laptops):
    one, two = laptops("A2", "Laptop A2 satu"), laptops("A2", "Laptop A2 dua")
    synced(one), synced(two)

    def edit(phone):
        def fn():
            _person("Ibu A2").phone = phone
        return fn
    on(one.app, edit("0811-111"))
    on(two.app, edit("0822-222"))
    synced(one)
    assert on(district.app, lambda: _person("Ibu A2").phone) == "0811-111"
    second = cli(two.app, "sync", "run")
    assert second.exit_code == 0, second.output
    assert "conflict edited_on_both" in second.output and "1 conflicts" in second.output, second.output
    assert on(district.app, lambda: _person("Ibu A2").phone) == "0811-111"  # the district keeps its value
    state = on(two.app, lambda: db.session.scalar(select(SyncState.state).join(
        Person, Person.uuid == SyncState.uuid).where(Person.name == "Ibu A2")))
    assert state == "conflict"
    # the flag stays on the laptop over later runs; the laptop shows the district's value meanwhile
    later = cli(two.app, "sync", "run")
    assert "1 conflicts" in later.output, later.output
    assert on(two.app, lambda: _person("Ibu A2").phone) == "0811-111"
    # a field edited on one side only merges
    on(two.app, lambda: setattr(_person("Anak A2"), "rt", "007"))
    synced(two)
    assert on(district.app, lambda: _person("Anak A2").rt) == "007"
    # the district decides (a new version of the person): the next pull brings it and clears the flag
    on(district.app, lambda: setattr(_person("Ibu A2"), "phone", "0822-222"))
    decided = synced(two)
    assert "0 conflicts" in decided, decided
    assert on(two.app, lambda: _person("Ibu A2").phone) == "0822-222"


def test_two_laptops_registering_one_nik_make_one_person_and_a_flag(district, laptops):
    one, two = laptops("B1", "Laptop B1 satu"), laptops("B1", "Laptop B1 dua")
    synced(one), synced(two)
    today = date.today()

    def register(name):
        def fn():
            from posyandu.services import session_day as sd

            pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu B1"))
            p = Person(posyandu_id=pos.id, name=name, sex="P", birth_date=date(2015, 7, 15), nik="6474015507159901")
            db.session.add(p)
            db.session.flush()
            sd.add_to_queue(None, sd.open_session(None, pos, today), p)
            return p.uuid
        return fn
    first = on(one.app, register("Siti Aminah"))
    second = on(two.app, register("Siti Aminah (laptop dua)"))
    synced(one)
    out = synced(two)
    assert f"applied same_nik: person {second} is the district's {first}" in out, out

    def on_district():
        people = db.session.scalars(select(Person).where(Person.nik == "6474015507159901")).all()
        visits = db.session.scalars(select(Visit).join(HariBuka).where(
            Visit.person_id == people[0].id, HariBuka.held_on == today)).all()
        return [p.uuid for p in people], len(visits)
    assert on(district.app, on_district) == ([first], 1)  # one person, one visit: both laptops' visits are one
    # the second laptop took the district's person: its own copy carries the first laptop's UUID now, audited
    assert on(two.app, lambda: db.session.scalar(select(Person.uuid).where(Person.nik == "6474015507159901"))) \
        == first
    assert second != first


class _Proxy(http.server.ThreadingHTTPServer):
    """Forwards a laptop's requests to the district; `on_push(response)` runs when a push's answer is back from
    the district and before it is relayed (the test kills the laptop there)."""
    daemon_threads = True

    def __init__(self, target: str):
        self.target, self.on_push = target, None

        class Handler(http.server.BaseHTTPRequestHandler):
            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                req = urllib.request.Request(self.server.target + self.path, data=body, method=self.command,
                                             headers={k: v for k, v in self.headers.items()
                                                      if k.lower() not in ("host", "content-length")})
                try:
                    resp = urllib.request.urlopen(req, timeout=60)
                except urllib.error.HTTPError as e:
                    resp = e
                status, headers, payload = resp.status if hasattr(resp, "status") else resp.code, resp.headers, \
                    resp.read()
                if self.path.startswith("/sync/v1/push") and self.server.on_push is not None:
                    self.server.on_push()
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the laptop was killed: nobody hears the answer
                    pass

            do_GET = do_POST = _relay

            def log_message(self, *args):
                pass
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


def test_a_laptop_killed_mid_push_leaves_one_copy_of_every_record(district, laptops):
    proxy = _Proxy(district.url)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        laptop = laptops("B2", "Laptop B2", url=proxy.url)
        synced(laptop)
        today = date.today()

        def session_day():
            from posyandu.services import session_day as sd

            pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu B2"))
            hb = sd.open_session(None, pos, today)
            for i in range(6):
                p = Person(posyandu_id=pos.id, name=f"Balita B2-{i}", sex="LP"[i % 2],
                           birth_date=today - timedelta(days=300 + 30 * i))
                db.session.add(p)
                db.session.flush()
                visit = sd.add_to_queue(None, hb, p)
                sd.save_measurement(None, visit, {"weight_kg": 8.0 + i / 10, "length_cm": 70.0 + i,
                                                  "position": "l"}, True)
                sd.record_services(None, visit, [("vitamin_a", "biru", None)], done=False)
        on(laptop.app, session_day)
        pending = on(laptop.app, lambda: db.session.scalar(select(func.count()).select_from(SyncState)
                                                           .where(SyncState.state == "pending")))
        assert pending >= 6 * 4 + 1

        # The laptop's own process, killed (SIGKILL) after the district applied its push and before the answer
        # reached it: the laptop never hears what the district did.
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "sync", "run"], cwd=ROOT,
                                env=laptop.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        proxy.on_push = lambda: (os.kill(proc.pid, signal.SIGKILL), proc.wait(timeout=10))
        proc.wait(timeout=120)
        proxy.on_push = None
        assert proc.returncode == -signal.SIGKILL, proc.stdout.read().decode()
        assert on(laptop.app, lambda: db.session.scalar(select(func.count()).select_from(SyncState)
                                                        .where(SyncState.state == "pending"))) == pending

        def held():
            pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu B2"))
            visits = db.session.scalars(select(Visit).join(HariBuka).where(HariBuka.posyandu_id == pos.id,
                                                                           HariBuka.held_on == today)).all()
            ids = [v.id for v in visits]
            return (db.session.scalar(select(func.count()).select_from(HariBuka).where(
                        HariBuka.posyandu_id == pos.id, HariBuka.held_on == today)),
                    db.session.scalar(select(func.count()).select_from(Person).where(Person.name.like("Balita B2-%"))),
                    len(visits), len({v.person_id for v in visits}),
                    db.session.scalar(select(func.count()).select_from(Measurement)
                                      .where(Measurement.visit_id.in_(ids))),
                    db.session.scalar(select(func.count()).select_from(ServiceRecord)
                                      .where(ServiceRecord.visit_id.in_(ids))))
        assert on(district.app, held) == (1, 6, 6, 6, 6, 6)  # the district applied it all

        # One more weighing while the laptop was down, then the rerun: the killed batch comes back as duplicates.
        def late():
            from posyandu.services import session_day as sd

            m = db.session.scalar(select(Measurement).join(Visit).join(Person).where(Person.name == "Balita B2-0"))
            sd.save_measurement(None, db.session.get(Visit, m.visit_id), {"weight_kg": 8.3, "length_cm": 70.0, "position": "l"}, True)
        on(laptop.app, late)
        rerun = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "sync", "run"], cwd=ROOT,
                               env=laptop.env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0 and "sync finished: 0 waiting, 0 conflicts, 0 refused" in rerun.stdout, \
            rerun.stdout + rerun.stderr
        assert "duplicate" in rerun.stdout, rerun.stdout
        assert on(district.app, held) == (1, 6, 6, 6, 6, 6)  # exactly one copy of every record
        assert on(district.app, lambda: float(db.session.scalar(
            select(Measurement.weight_kg).join(Visit).join(Person).where(Person.name == "Balita B2-0")))) == 8.3
        receipts = on(district.app, lambda: db.session.scalars(select(SyncReceipt.change_id)).all())
        assert len(receipts) == len(set(receipts))
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_bundles_both_ways_count_once_and_keep_local_changes(district, laptops, tmp_path):
    laptop = laptops("A2", "Laptop A2 USB")
    synced(laptop)  # enrolled with a link; from here on the laptop and the district have none

    def district_news():
        pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu A2"))
        db.session.add(Person(posyandu_id=pos.id, name="Bayi Kabar Kabupaten", sex="L",
                              birth_date=date.today() - timedelta(days=40)))
        _person("Anak A2").birth_place = "Bontang"
    on(district.app, district_news)

    def laptop_news():
        pos = db.session.scalar(select(Posyandu).where(Posyandu.name == "Posyandu A2"))
        db.session.add(Person(posyandu_id=pos.id, name="Bayi Laptop USB", sex="P",
                              birth_date=date.today() - timedelta(days=20)))
        _person("Anak A2").phone = "0855-000"
    on(laptop.app, laptop_news)

    def pull_bundle(name):
        cursor = on(laptop.app, lambda: laptop_sync.status()["cursor"])
        path = tmp_path / name
        out = district_cli(district, "sync", "export-pull", "--device", laptop.device, "--since", str(cursor),
                           str(path))
        assert out.returncode == 0 and "written to" in out.stdout, out.stdout + out.stderr
        assert path.stat().st_mode & 0o777 == 0o600
        return path

    def laptop_state():
        names = set(db.session.scalars(select(Person.name)))
        child = _person("Anak A2")
        states = dict(db.session.execute(select(SyncState.state, func.count()).group_by(SyncState.state)).all())
        return "Bayi Kabar Kabupaten" in names, child.phone, child.birth_place, states.get("pending", 0)

    down = pull_bundle("pull-1.gz")
    first = cli(laptop.app, "sync", "import", str(down))
    assert first.exit_code == 0 and "records taken" in first.output, first.output
    assert "2 waiting" in first.output, first.output
    # the district's new baby arrived; the child changed here is kept as it is (pending), not overwritten
    assert on(laptop.app, laptop_state) == (True, "0855-000", None, 2)
    again = cli(laptop.app, "sync", "import", str(down))
    assert again.exit_code == 0 and "nothing new" in again.output, again.output
    assert on(laptop.app, laptop_state) == (True, "0855-000", None, 2)

    up = tmp_path / "push.gz"
    assert cli(laptop.app, "sync", "export", str(up)).exit_code == 0
    imported = district_cli(district, "sync", "import", str(up))
    assert imported.returncode == 0 and "2 applied" in imported.stdout, imported.stdout + imported.stderr
    assert on(district.app, lambda: (_person("Anak A2").phone, _person("Anak A2").birth_place,
                                     _person("Bayi Laptop USB") is not None)) == ("0855-000", "Bontang", True)

    # the district's answers come back in the next pull bundle: nothing waits on the laptop any more
    down2 = pull_bundle("pull-2.gz")
    second = cli(laptop.app, "sync", "import", str(down2))
    assert second.exit_code == 0 and "0 waiting" in second.output and "2 duplicate" in second.output, second.output
    assert on(laptop.app, laptop_state)[3] == 0
    assert "nothing new" in cli(laptop.app, "sync", "import", str(down2)).output

    # a bundle made for another laptop, or changed on the way, is refused
    other = laptops("A2", "Laptop A2 lain")
    refused = cli(other.app, "sync", "import", str(down2))
    assert refused.exit_code != 0 and "bad_signature" in refused.output, refused.output
