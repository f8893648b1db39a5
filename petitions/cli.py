"""Command line for operators and `make run`: `flask --app petitions demo|pdf ...`."""
import click
from flask import Flask, current_app

from petitions.appeals.services import close_due as close
from petitions.demo import ORGANIZER_EMAIL, ORGANIZER_PASSWORD, load_demo
from petitions.extensions import db
from petitions.jobs.cli import jobs_group
from petitions.mail.cli import mail_group
from petitions.pdf.cli import pdf
from petitions.privacy import cli as privacy_cli
from petitions.signatories.cli import signatories
from petitions.urls import external_url


def register(app: Flask) -> None:
    """Attach the commands to the app."""
    app.cli.add_command(demo)
    app.cli.add_command(pdf)
    app.cli.add_command(appeals_group)
    privacy_cli.register(app)  # purge, keys rotate
    app.cli.add_command(signatories)
    app.cli.add_command(mail_group)
    app.cli.add_command(jobs_group)


@click.command()
def demo():
    """Load the demo appeals and print where to find them."""
    loaded = load_demo()
    click.echo("Demo data is ready.")
    for appeal in loaded["appeals"]:
        if appeal.is_open:
            click.echo(f"  Public page:      {external_url('public.appeal', slug=appeal.slug)}")
        else:
            click.echo(f"  Draft (organizer): {external_url('organizer.show', slug=appeal.slug)}")
    click.echo(f"  Organizer login:  {external_url('auth.login')}")
    click.echo(f"    e-mail {ORGANIZER_EMAIL}  password {ORGANIZER_PASSWORD}")
    if current_app.config["DEV_OUTBOX"]:
        click.echo(f"  Dev outbox:       {external_url('outbox.index')}")
    else:
        click.echo("  Dev outbox:       off (DEV_OUTBOX = False); mail goes to "
                   f"{current_app.config['MAIL_SERVER']}:{current_app.config['MAIL_PORT']}")


@click.group("appeals")
def appeals_group():
    """Manage appeals."""


@appeals_group.command("close-due")
def close_due():
    """Close every open appeal whose deadline has passed (run it from a scheduler)."""
    closed = close()
    db.session.commit()
    for appeal in closed:
        click.echo(f"Closed {appeal.slug} (deadline {appeal.deadline:%Y-%m-%d %H:%M} UTC)")
    click.echo(f"{len(closed)} appeal(s) closed.")
