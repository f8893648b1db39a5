"""Command line for operators and `make run`: `flask --app petitions demo|pdf`."""
import click
from flask import Flask, current_app
from sqlalchemy import select

from .appeals.models import Appeal
from .extensions import db
from .urls import external_url


def register(app: Flask) -> None:
    """Attach the commands to the app."""
    app.cli.add_command(demo)
    app.cli.add_command(pdf)
    from .signatures.cli import signatories

    app.cli.add_command(signatories)


@click.command()
def demo():
    """Load the demo appeals and print where to find them."""
    from .demo import ORGANIZER_EMAIL, ORGANIZER_PASSWORD, load_demo

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


@click.command()
@click.argument("slug")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
def pdf(slug: str, output: str):
    """Write the final PDF of an appeal."""
    from .pdf.render import render_appeal_pdf, write_atomically

    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None:
        raise click.ClickException(f"No appeal with the slug {slug!r}.")
    write_atomically(output, render_appeal_pdf(appeal))
    click.echo(f"Wrote {output}")
