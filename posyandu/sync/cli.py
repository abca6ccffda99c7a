"""`flask --app app device …` on the district server and `flask --app app sync …` on a laptop."""
import socket

import click
from flask import current_app
from flask.cli import AppGroup

from ..database import unit_of_work, writing
from ..extensions import db
from .protocol import Refused


device = AppGroup("device", help="Posyandu laptops registered with this (district) server.")


@device.command("add")
@click.option("--posyandu", "posyandu_id", type=int, help="The Posyandu (id) the laptop holds.")
@click.option("--kelurahan", "kelurahan_id", type=int, help="Or a whole kelurahan/desa (id).")
@click.option("--name", required=True, help="A name the district recognises, e.g. 'Laptop Posyandu Mawar'.")
def device_add(posyandu_id, kelurahan_id, name):
    """Register a laptop for one Posyandu (or kelurahan); the one-time enrolment code is the last line."""
    from . import devices

    if (posyandu_id is None) == (kelurahan_id is None):
        raise click.UsageError("give exactly one of --posyandu and --kelurahan")
    try:
        with writing(), unit_of_work():
            dev, code = devices.register(None, name, posyandu_id, kelurahan_id)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Device {dev.uuid} '{dev.name}' registered; the code is valid for {devices.CODE_HOURS} hours:")
    click.echo(code)


sync = AppGroup("sync", help="This laptop as an offline node of its district server (docs/sync.md).")


@sync.command("enrol")
@click.argument("url")
@click.argument("code")
def sync_enrol(url, code):
    """Enrol this laptop with the district server at URL using the one-time CODE from the district admin."""
    from .client import enrol, save_credential

    try:
        answer = enrol(url, code, socket.gethostname())
    except Refused as e:
        raise click.ClickException(f"refused: {e.code} {e.message}") from None
    except OSError as e:
        raise click.ClickException(f"cannot reach {url}: {e}") from None
    path = save_credential(current_app.config["SYNC_CREDENTIAL_FILE"], {"url": url.rstrip("/"), "device": answer["device"],
                                                       "credential": answer["credential"], "name": answer["name"],
                                                       "scope": answer["scope"], "protocol": answer["protocol"]})
    current_app.config["SYNC_LAPTOP"] = True
    scope = answer["scope"]
    click.echo(f"Enrolled as '{answer['name']}' for {scope['kind']} {scope['name']} (id {scope['id']}); "
               f"credential in {path}")


def _transport():
    from .client import Transport, load_credential

    cred = load_credential(current_app.config["SYNC_CREDENTIAL_FILE"])
    if cred is None:
        raise click.ClickException("this laptop is not enrolled: run `flask --app app sync enrol URL CODE`")
    current_app.config["SYNC_LAPTOP"] = True
    return Transport(cred["url"], cred["credential"])


@sync.command("run")
def sync_run():
    """Push what changed here, then pull the district's records of this laptop's scope; say what happened."""
    from . import laptop, runs

    transport = _transport()
    try:
        try:  # kept as the laptop's last run, so its Sinkronkan page tells the same as this command
            report = runs.run_now(transport)
        except runs.SyncFailed as failed:
            raise (failed.__cause__ or failed) from None
    except Refused as e:
        if e.code == "protocol_outdated":
            raise click.ClickException("the district server needs a newer version of this app: update it") from None
        raise click.ClickException(f"refused by the server: {e.code} {e.message}") from None
    except OSError as e:
        raise click.ClickException(f"sync NOT finished (no connection: {e}); nothing is lost, run it again") from None
    finally:
        db.session.rollback()
    pushed = ", ".join(f"{n} {status}" for status, n in sorted(report.pushed.items())) or "nothing to send"
    click.echo(f"pushed: {pushed}")
    for entity, uuid, status, code, message in report.problems:
        click.echo(f"  {status} {code}: {entity} {uuid} {message or ''}".rstrip())
    for entity, uuid, code, server_uuid in report.flags:
        click.echo(f"  applied {code}: {entity} {uuid} is the district's {server_uuid} (flagged there for a look)")
    click.echo(f"pulled: {report.pulled} records" + (f", {report.skipped_pending} kept (changed here, not yet "
                                                       f"accepted)" if report.skipped_pending else ""))
    click.echo(f"bytes sent {transport.sent}, received {transport.received}, round trips {transport.round_trips}")
    st = laptop.status()
    click.echo(f"sync finished: {st['pending']} waiting, {st['conflict']} conflicts, {st['refused']} refused")


@sync.command("status")
def sync_status():
    """Changes waiting, conflicts, refusals and the last successful sync of this laptop."""
    from . import laptop

    st = laptop.status()
    click.echo(f"last success: {st['last_success'] or 'never'}; {st['pending']} waiting, {st['conflict']} "
               f"conflicts, {st['refused']} refused, {st['synced']} synced; cursor {st['cursor']}")


@sync.command("export")
@click.argument("target", type=click.Path(dir_okay=False))
def sync_export(target):
    """Write the changes waiting on this laptop to a signed bundle FILE (USB stick, WhatsApp) for the district."""
    from ..database import private_file
    from .bundle import export
    from .client import load_credential

    cred = load_credential(current_app.config["SYNC_CREDENTIAL_FILE"])
    if cred is None:
        raise click.ClickException("this laptop is not enrolled")
    raw, n = export(cred["credential"])
    db.session.rollback()
    private_file(target)
    with open(target, "wb") as f:
        f.write(raw)
    click.echo(f"{n} changes written to {target} ({len(raw)} bytes); they stay waiting here until a sync run "
               f"hears the district accepted them")


@sync.command("export-pull")
@click.option("--device", "device_uuid", required=True, help="The laptop's device UUID (the devices page shows it).")
@click.option("--since", type=int, default=0, show_default=True,
              help="The laptop's cursor (`sync status` on the laptop prints it); 0 sends its whole scope.")
@click.argument("target", type=click.Path(dir_okay=False))
def sync_export_pull(device_uuid, since, target):
    """On the district server: write what a pull would bring one laptop (its scope above --since, and the answers
    to the changes it sent) to a bundle FILE signed for that laptop; on the laptop, `sync import FILE` takes it."""
    from ..database import private_file
    from .bundle import export_pull

    try:
        raw, n, cursor = export_pull(device_uuid, since)
    except Refused as e:
        raise click.ClickException(f"refused: {e.code} {e.message}") from None
    finally:
        db.session.rollback()
    private_file(target)
    with open(target, "wb") as f:
        f.write(raw)
    click.echo(f"{n} records above {since} (up to {cursor}) written to {target} ({len(raw)} bytes)")


@sync.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
def sync_import(source):
    """Apply a bundle: on the district a laptop's changes (made by `sync export`) as if pushed; on an enrolled
    laptop the district's records (made by `sync export-pull`) as if pulled."""
    from collections import Counter

    from .bundle import import_, kind_of

    with open(source, "rb") as f:
        raw = f.read()
    try:
        kind = kind_of(raw)
    except Refused as e:
        raise click.ClickException(f"refused: {e.code} {e.message}") from None
    if kind == "pull":
        return _import_pull(raw)
    with writing():
        try:
            answers = import_(raw)
        except Refused as e:
            raise click.ClickException(f"refused: {e.code} {e.message}") from None
    counts = Counter(a["status"] for a in answers)
    click.echo("bundle: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no changes"))
    for a in answers:
        if a["status"] in ("conflict", "refused"):
            click.echo(f"  {a['status']} {a.get('code')}: {a['id']} {a.get('message') or ''}".rstrip())


def _import_pull(raw: bytes) -> None:
    from . import laptop
    from .bundle import import_pull
    from .client import load_credential

    cred = load_credential(current_app.config["SYNC_CREDENTIAL_FILE"])
    if cred is None:
        raise click.ClickException("a pull bundle is for an enrolled laptop; this one is not enrolled")
    current_app.config["SYNC_LAPTOP"] = True
    try:
        report = import_pull(raw, cred["credential"])
    except Refused as e:
        raise click.ClickException(f"refused: {e.code} {e.message}") from None
    finally:
        db.session.rollback()
    if report is None:
        click.echo("bundle: nothing new (this laptop already holds all of it)")
    else:
        answered = ", ".join(f"{n} {status}" for status, n in sorted(report.pushed.items()))
        click.echo(f"bundle: {report.pulled} records taken" + (f", {report.skipped_pending} kept (changed here, "
                   f"not yet accepted)" if report.skipped_pending else "") + (f"; answers: {answered}" if answered
                                                                              else ""))
    st = laptop.status()
    click.echo(f"{st['pending']} waiting, {st['conflict']} conflicts, {st['refused']} refused; cursor {st['cursor']}")
