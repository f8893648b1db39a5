"""`flask mail work`: the outbox's sender as a process of its own."""
import click
from flask import current_app
from flask.cli import AppGroup

from petitions.mail import sending

mail_group = AppGroup("mail", help="Send the mail waiting in the outbox.")


@mail_group.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for cron).")
def work(once: bool) -> None:
    """Send due messages, retrying temporary failures, until stopped."""
    app = current_app._get_current_object()
    if once:
        click.echo(f"{sending.work_once(app)} message(s) attempted.")
        return
    sending.work_forever(app)
