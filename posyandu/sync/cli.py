"""`flask --app app device …` on the district server and `flask --app app sync …` on a laptop."""
import socket

import click
from flask import current_app

from ..database import writing
from ..extensions import db
from .protocol import Refused


@click.group("device")
def device():
    """Posyandu laptops registered with this (district) server."""


@device.command("add")
@click.option("--posyandu", "posyandu_id", type=int, help="The Posyandu (id) the laptop holds.")
@click.option("--kelurahan", "kelurahan_id", type=int, help="Or a whole kelurahan/desa (id).")
@click.option("--name", required=True, help="A name the district recognises, e.g. 'Laptop Posyandu Mawar'.")
def device_add(posyandu_id, kelurahan_id, name):
    """Register a laptop for one Posyandu (or kelurahan); the one-time enrolment code is the last line."""
    from . import devices

    if (posyandu_id is None) == (kelurahan_id is None):
        raise click.UsageError("give exactly one of --posyandu and --kelurahan")
    with writing():
        try:
            dev, code = devices.register(None, name, posyandu_id, kelurahan_id)
        except ValueError as e:
            raise click.ClickException(str(e)) from None
        db.session.commit()
    click.echo(f"Device {dev.uuid} '{dev.name}' registered; the code is valid for {devices.CODE_HOURS} hours:")
    click.echo(code)


@click.group("sync")
def sync():
    """This laptop as an offline node of its district server (docs/sync.md)."""


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
    path = save_credential(current_app.instance_path, {"url": url.rstrip("/"), "device": answer["device"],
                                                       "credential": answer["credential"], "name": answer["name"],
                                                       "scope": answer["scope"], "protocol": answer["protocol"]})
    current_app.config["SYNC_LAPTOP"] = True
    scope = answer["scope"]
    click.echo(f"Enrolled as '{answer['name']}' for {scope['kind']} {scope['name']} (id {scope['id']}); "
               f"credential in {path}")
