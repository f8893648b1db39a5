"""Operator commands: `flask --app petitions purge` and `flask --app petitions keys rotate`."""
import click
from flask import Flask
from sqlalchemy import select

from petitions import crypto
from petitions.extensions import db
from petitions.privacy import retention, rotation
from petitions.signing.models import Signature


def register(app: Flask) -> None:
    """Attach the commands."""
    app.cli.add_command(purge)
    app.cli.add_command(keys)


@click.command()
def purge():
    """Apply the retention rules once (run it daily from cron or a systemd timer)."""
    report = retention.purge()
    db.session.commit()
    click.echo(f"Purged: {report}.")


@click.group()
def keys():
    """Manage the keys that protect signatories' e-mail addresses."""


@keys.command()
@click.option("--batch", default=500, show_default=True, help="Rows re-encrypted per transaction.")
def rotate(batch: int):
    """Re-encrypt every stored e-mail address, and the outbox's held mail, with the first key in DATA_KEYS."""
    fernet = crypto._fernet()
    done = unreadable = 0
    last_id = 0
    while True:
        rows = list(db.session.scalars(
            select(Signature).where(Signature.id > last_id, Signature.email_encrypted.is_not(None))
            .order_by(Signature.id).limit(batch)))
        if not rows:
            db.session.commit()  # end the last read: in a command it holds SQLite's write lock (BEGIN IMMEDIATE)
            break
        for signature in rows:
            try:
                signature.email_encrypted = fernet.rotate(signature.email_encrypted.encode()).decode()
                done += 1
            except Exception:  # an address under a key that is no longer configured cannot be recovered here
                unreadable += 1
        last_id = rows[-1].id
        db.session.commit()
    click.echo(f"Re-encrypted {done} e-mail addresses with the newest key.")
    mails, unreadable_mails = rotation.rotate_outbox(batch)
    click.echo(f"Re-encrypted {mails} messages waiting in the outbox.")
    unreadable += unreadable_mails
    if unreadable:
        raise click.ClickException(f"{unreadable} addresses or messages could not be decrypted with any "
                                   "configured key; keep the old key in DATA_KEYS until they are rotated.")
