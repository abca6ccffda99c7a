"""Command-line tools: `flask --app app <command>`."""
import getpass
import shutil
import subprocess
import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from .database import analyze, private_file, unit_of_work, writing
from .extensions import db


def register_cli(app: Flask) -> None:
    from .sync.cli import device, sync

    for command in (create_admin, seed_demo_command, serve, jobs_worker, backup, restore, growth, month, device, sync):
        app.cli.add_command(command)


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--name", "display_name", prompt="Full name")
@click.option("--district", help="District (kabupaten/kota) name; asked for unless --installation.")
@click.option("--kind", type=click.Choice(["kota", "kabupaten"]), default="kabupaten", show_default=True)
@click.option("--installation", is_flag=True,
              help="An installation admin (a province or the hosting office): creates districts and their first "
                   "admins in the browser, sees no one's health data.")
def create_admin(username, display_name, district, kind, installation):
    """Create a district admin for a real deployment (the district is created if new), or an installation admin."""
    if not installation and not district:
        district = click.prompt("District (kabupaten/kota) name")
    password = getpass.getpass("Password (at least 10 characters): ")
    if len(password) < 10 or password != getpass.getpass("Repeat password: "):
        raise click.ClickException("Passwords differ or are shorter than 10 characters.")
    with writing(), unit_of_work():  # the district and its admin: both or neither
        if installation:
            _create_installation_admin(username, display_name, password)
        else:
            _create_admin(username, display_name, district, kind, password)


def _create_installation_admin(username, display_name, password):
    from .models import User
    from .services.accounts import save_user

    if db.session.scalar(select(User.id).where(User.username == username.lower())):
        raise click.ClickException(f"User {username} exists.")
    save_user(None, User(district_id=None), {"username": username.lower(), "display_name": display_name,
                                             "role": "installation_admin", "active": True}, password)
    click.echo(f"Installation admin {username} created.")


def _create_admin(username, display_name, district, kind, password):
    from .models import District, User
    from .services.accounts import save_user

    if db.session.scalar(select(User.id).where(User.username == username.lower())):
        raise click.ClickException(f"User {username} exists.")
    d = db.session.scalar(select(District).where(District.name == district))
    if d is None:
        d = District(name=district, kind=kind)
        db.session.add(d)
        db.session.flush()
    save_user(None, User(district_id=d.id), {"username": username.lower(), "display_name": display_name,
                                             "role": "district_admin", "active": True}, password)
    click.echo(f"Admin {username} created for {district}.")


@click.command("seed-demo")
@click.option("--children", default=4000, show_default=True, help="Children under five across the district.")
@click.option("--months", default=12, show_default=True, help="Months of monthly weighings to generate.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds the district.")
@click.option("--district", "which", type=click.Choice(["bontang", "kukar"]), default="bontang", show_default=True,
              help="bontang: the full demo on an empty database; kukar: a small second district (Kabupaten Kutai "
                   "Kartanegara, desa, Rp250.000 from APBDes) added beside whatever is there.")
def seed_demo_command(children, months, if_empty, which):
    """Build the demo district shaped like Kota Bontang, with demo accounts (password posyandu-demo)."""
    from .seed import DEMO_PASSWORD, is_empty, seed_demo

    if which == "kukar":
        _seed_kukar(if_empty)
        return
    if not is_empty():
        if if_empty:
            return
        raise click.ClickException("The database already has data; seed-demo only fills an empty database.")
    start = time.perf_counter()
    with writing():
        made = seed_demo(children=children, months=months, echo=click.echo)
    analyze(db.engine)
    click.echo(f"Demo district seeded in {time.perf_counter() - start:.1f}s: {made['posyandu']} Posyandu, "
               f"{made['people']} people, {made['children']} children, {made['measurements']} measurements.")
    click.echo(f"Demo accounts (password {DEMO_PASSWORD}): {', '.join(made['accounts'])}")


def _seed_kukar(if_empty: bool) -> None:
    from .models import User
    from .seed import DEMO_PASSWORD
    from .seed_kukar import seed_kukar
    from .services.accounts import hash_password

    pw = hash_password(DEMO_PASSWORD)
    with writing():
        try:
            made = seed_kukar(pw)
        except ValueError:
            if if_empty:
                return
            raise click.ClickException("Kabupaten Kutai Kartanegara is already there.") from None
        if db.session.scalar(select(User.id).where(User.role == "installation_admin")) is None:
            db.session.add(User(username="provinsi", display_name="Admin Instalasi Provinsi Kalimantan Timur",
                                role="installation_admin", password_hash=pw, district_id=None))
            db.session.commit()
            made["accounts"].append("provinsi")
    click.echo(f"Kabupaten Kutai Kartanegara seeded: {made['posyandu']} Posyandu, {made['kader']} kader.")
    click.echo(f"Demo accounts (password {DEMO_PASSWORD}): {', '.join(made['accounts'])}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 serves the Posyandu Wi-Fi.")
@click.option("--port", default=5000, show_default=True)
@click.option("--threads", default=8, show_default=True)
@click.option("--no-jobs", is_flag=True, help="Do not run background jobs here (a `jobs-worker` runs them).")
def serve(host, port, threads, no_jobs):
    """Serve the app with waitress (no debugger, ever), and run background jobs (exports, bulk PDFs) in worker
    threads of the same process."""
    from waitress import serve as waitress_serve

    from .jobs import start_consumer

    from .models import User
    from .seed import DEMO_PASSWORD

    demo = db.session.scalars(select(User.username).where(
        User.username.in_(["admin", "kelurahan", "bidan", "ketua", "kader"]))).all()
    db.session.remove()
    click.echo(f"Posyandu at http://{'127.0.0.1' if host == '127.0.0.1' else host}:{port}")
    if demo:
        click.echo(f"Demo accounts: {', '.join(demo)} — password {DEMO_PASSWORD}")
    if not no_jobs:
        start_consumer(current_app._get_current_object())
    # ident="": no "Server: waitress" header on every response (every queue poll of every phone carries it)
    waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads, ident="")


@click.command("jobs-worker")
@click.option("--workers", default=None, type=int, help="Worker threads (default JOBS_WORKERS).")
def jobs_worker(workers):
    """Run background jobs (exports, bulk PDFs) until stopped: beside gunicorn on a district server, with the
    queue in Redis or PostgreSQL (JOBS_URL). `flask serve` runs them itself."""
    import logging

    from huey.consumer import Consumer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    db.session.remove()
    Consumer(app.extensions["huey"], workers=workers or app.config["JOBS_WORKERS"], worker_type="thread").run()


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup(target: Path):
    """Online backup: SQLite through its backup API, PostgreSQL through pg_dump (custom format)."""
    engine = db.engine
    private_file(target)  # health data: readable by this user only
    if engine.dialect.name == "sqlite":
        import sqlite3

        src = sqlite3.connect(engine.url.database)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(target), url], check=True)
    click.echo(f"Backup written to {target}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the current data.")
def restore(source: Path, yes: bool):
    """Replace the database with a backup made by `backup`."""
    if not yes:
        click.confirm("Replace ALL current data with the backup?", abort=True)
    engine = db.engine
    db.session.remove()
    engine.dispose()
    if engine.dialect.name == "sqlite":
        import sqlite3

        src = sqlite3.connect(source)
        dst = sqlite3.connect(engine.url.database)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        if shutil.which("pg_restore") is None:
            raise click.ClickException("pg_restore is not installed.")
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", url, str(source)], check=True)
    analyze(engine)
    click.echo("Restored.")


@click.group("growth")
def growth():
    """WHO growth tools for data managers."""


@growth.command("score")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def growth_score(source: Path, target: Path):
    """Add WHO z-scores and flags (waz, lhaz, whz, baz, hcz, acz) to a CSV of measurements.

    Columns: sex (1 male, 2 female), age_days or age_months, weight_kg, length_cm, measure (l lying,
    h standing), optional head_cm, muac_cm, oedema (y/n). Under 60 months the WHO 2006 standards, from 60 months
    to 19 years the WHO 2007 reference; blank where an indicator does not apply.
    """
    from .domain.growth_csv import score_csv

    start = time.perf_counter()
    rows = score_csv(source, target)
    click.echo(f"{rows} rows scored in {time.perf_counter() - start:.1f}s → {target}")


@click.group("month")
def month():
    """Closing the month: the state of each Posyandu's monthly report."""


@month.command("status")
@click.option("--month", "month_text", required=True, metavar="YYYY-MM", help="The report month.")
@click.option("--district", "district_id", type=int, default=None, help="Only this district (id).")
def month_status(month_text: str, district_id: int | None):
    """One line per active Posyandu, tab-separated: id, name, state, submitted at (ISO, district time; empty if
    never), on time yes/no (by the first submission; empty if never submitted)."""
    import re
    from datetime import date, timezone
    from zoneinfo import ZoneInfo

    from .domain.reports import parse_month
    from .services import month_views

    first = parse_month(month_text, date.min) if re.fullmatch(r"\d{4}-\d{2}", month_text) else date.min
    if first == date.min:
        raise click.BadParameter("expected YYYY-MM", param_hint="--month")
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Makassar"))
    for pid, name, state, submitted_at, on_time in month_views.status_lines(first, district_id):
        at = submitted_at.replace(tzinfo=timezone.utc).astimezone(tz).isoformat(timespec="seconds") if submitted_at else ""
        timely = "" if on_time is None else ("yes" if on_time else "no")
        click.echo("\t".join([str(pid), " ".join(name.split()), state, at, timely]))
