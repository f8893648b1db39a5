"""Queue mail during a transaction and send it only once the transaction has committed."""
import logging
import os
import secrets
from datetime import datetime, timezone

from flask import Flask, current_app
from flask_mail import Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db, mail

log = logging.getLogger(__name__)
_PENDING = "petitions.pending_mail"


def init_app(app: Flask) -> None:
    """Hook the session so queued mail follows the fate of its transaction."""
    if getattr(init_app, "_hooked", False):
        return
    # Listening on the Session class covers every session Flask-SQLAlchemy creates.
    event.listen(Session, "after_commit", _after_commit)
    # The "soft" event fires on every rollback() call, even when no SQL ran since the last commit.
    event.listen(Session, "after_soft_rollback", _after_rollback)
    init_app._hooked = True


def queue(message: Message) -> None:
    """Send this message after the current transaction commits; drop it if it rolls back."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback fires its event even if no SQL ran yet
    session.info.setdefault(_PENDING, []).append(message)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for message in pending:
        try:
            deliver(message)
        except Exception:  # a mail server outage must not turn a stored signature into a 500
            log.exception("could not send mail %r", message.subject)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a failed SAVEPOINT does not undo the request's other work
        return
    session.info.pop(_PENDING, None)


def deliver(message: Message) -> None:
    """Hand one message to the configured transport."""
    if current_app.config["MAIL_TRANSPORT"] == "outbox":
        write_to_outbox(message)
    else:
        mail.send(message)


def outbox_dir() -> str:
    """Return the folder where the dev outbox keeps messages."""
    return os.path.join(current_app.instance_path, "outbox")


def write_to_outbox(message: Message) -> None:
    """Store the message as an .eml file for the dev outbox page."""
    if not message.sender:
        message.sender = current_app.config["MAIL_DEFAULT_SENDER"]
    folder = outbox_dir()
    os.makedirs(folder, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{secrets.token_hex(4)}.eml"
    tmp = os.path.join(folder, "." + name)
    with open(tmp, "wb") as fh:
        fh.write(message.as_bytes())
    os.replace(tmp, os.path.join(folder, name))
