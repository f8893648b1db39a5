"""Queue mail during a transaction and send it only once the transaction has committed."""
import atexit
import logging
import os
import queue as queues
import re
import secrets
import smtplib
import threading
import weakref
from datetime import datetime, timezone
from email.charset import Charset
from email.header import decode_header, make_header

from flask import Flask, current_app, has_request_context
from flask_mail import Connection, Message
from sqlalchemy import event
from sqlalchemy.orm import Session

from petitions.extensions import db

log = logging.getLogger(__name__)
_PENDING = "petitions.pending_mail"
_SENDER = "petitions.mail_sender"
_UTF8 = Charset("utf-8")
# Base64 of 42 bytes in "=?utf-8?b?...?=" is 68 characters: with "Subject: " a line stays within 78.
_ENCODED_WORD_BYTES = 42
_SENDER_IDLE_SECONDS = 5  # an idle sender thread ends; the next message starts a new one

# What may never reach a header: line breaks and other controls become a space; direction overrides,
# isolates and invisible characters go (they reorder or hide what the reader sees).
_HEADER_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_HEADER_INVISIBLE = re.compile("[\u061c\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")
# A bare address as the forms and the importer produce it; anything else would be parsed by mail software.
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")


def init_app(app: Flask) -> None:
    """Hook the session so queued mail follows the fate of its transaction."""
    if getattr(init_app, "_hooked", False):
        return
    # Listening on the Session class covers every session Flask-SQLAlchemy creates.
    event.listen(Session, "after_commit", _after_commit)
    # The "soft" event fires on every rollback() call, even when no SQL ran since the last commit.
    event.listen(Session, "after_soft_rollback", _after_rollback)
    init_app._hooked = True


def header_text(value: object) -> str:
    """Return text that fits on one header line and shows what it says: no line breaks, controls or overrides."""
    text = _HEADER_INVISIBLE.sub("", str(value or ""))
    return _HEADER_BREAKING.sub(" ", text).strip()


def encoded_subject(text: str) -> str:
    """Return the subject as RFC 2047 encoded words that keep every space, or as is if plain ASCII."""
    if text.isascii() and "=?" not in text:
        return text
    # Flask-Mail serializes with email.policy.SMTP, whose folder moves a space that ends an encoded word
    # out of it, where decoders drop it ("Sevinc Vaqifqızı" arrives as "SevincVaqifqızı"). So encode
    # whole-character chunks with their spaces inside, pre-folded into lines the policy leaves alone.
    chunks, chunk, size = [], "", 0
    for ch in text:
        width = len(ch.encode())
        if size + width > _ENCODED_WORD_BYTES:
            chunks.append(chunk)
            chunk, size = "", 0
        chunk, size = chunk + ch, size + width
    chunks.append(chunk)
    return "\r\n ".join(_UTF8.header_encode(c) for c in chunks)


def _plain(subject: str) -> str:
    return str(make_header(decode_header(subject)))


def safe_address(value: object) -> str | None:
    """Return the address if it is one plain mailbox that cannot add headers or recipients, else None."""
    text = str(value or "").strip()
    return text if _ADDRESS.fullmatch(text) and text.isprintable() else None


def queue(message: Message) -> None:
    """Send this message after the current transaction commits; drop it if it rolls back."""
    # Every mail passes here, so this is the one place that makes headers safe, whatever a caller typed in.
    message.subject = encoded_subject(header_text(message.subject))
    recipients = [safe_address(r) for r in message.recipients]
    if not recipients or None in recipients:
        log.error("mail not queued: a recipient is not a plain address (%r)", _plain(message.subject))
        return
    message.recipients = recipients
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback fires its event even if no SQL ran yet
    session.info.setdefault(_PENDING, []).append(message)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    app = current_app._get_current_object()
    # A page request never waits for the mail server; a command or job (no request) sends before it exits.
    background = has_request_context() and app.config["MAIL_TRANSPORT"] != "outbox"
    for message in pending:
        if background:
            _sender(app).submit(message)
        else:
            _deliver_logged(message)


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a failed SAVEPOINT does not undo the request's other work
        return
    session.info.pop(_PENDING, None)


def _deliver_logged(message: Message) -> None:
    try:
        deliver(message)
    except Exception as exc:  # a mail server outage must not turn a stored signature into a 500
        log.error("mail failed: %r not sent: %s: %s", _plain(message.subject), type(exc).__name__, exc)


def deliver(message: Message) -> None:
    """Hand one message to the configured transport."""
    if current_app.config["MAIL_TRANSPORT"] == "outbox":
        write_to_outbox(message)
    else:
        with _TimedConnection(current_app.extensions["mail"]) as connection:
            connection.send(message)


class _TimedConnection(Connection):
    """Flask-Mail's connection with a timeout, so a server that stops answering cannot hold a thread."""

    def configure_host(self) -> smtplib.SMTP:
        timeout = current_app.config["MAIL_TIMEOUT"]
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _Sender:
    """One background thread per process and app that sends queued messages in order, from a bounded queue."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        self.queue: queues.Queue = queues.Queue(maxsize=app.config["MAIL_QUEUE_SIZE"])
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def submit(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except queues.Full:  # the server has stalled for a while: drop rather than hold the request
            log.error("mail failed: %r not sent: the mail queue is full", _plain(message.subject))
            return
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="petitions-mail", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                message = self.queue.get(timeout=_SENDER_IDLE_SECONDS)
            except queues.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            try:
                with self.app.app_context():
                    _deliver_logged(message)
            finally:
                self.queue.task_done()

    def wait_idle(self, timeout: float) -> bool:
        with self.queue.all_tasks_done:
            return self.queue.all_tasks_done.wait_for(lambda: not self.queue.unfinished_tasks, timeout)


_SENDERS_LOCK = threading.Lock()
_LIVE_SENDERS: "weakref.WeakSet[_Sender]" = weakref.WeakSet()


def _sender(app: Flask) -> _Sender:
    with _SENDERS_LOCK:
        sender = app.extensions.get(_SENDER)
        if sender is None or sender.pid != os.getpid():  # a forked worker starts its own thread
            sender = app.extensions[_SENDER] = _Sender(app)
            _LIVE_SENDERS.add(sender)
        return sender


@atexit.register
def _drain_on_exit() -> None:
    # A worker that is recycled or stopped hands over what it queued, within one MAIL_TIMEOUT.
    for sender in list(_LIVE_SENDERS):
        if sender.pid == os.getpid():
            sender.wait_idle(sender.app.config["MAIL_TIMEOUT"])


def wait_idle(app: Flask | None = None, timeout: float = 30.0) -> bool:
    """Wait until the background sender has handed over (or given up on) every message; for tests and shutdown."""
    app = app or current_app._get_current_object()
    sender = app.extensions.get(_SENDER)
    return sender is None or sender.wait_idle(timeout)


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
