"""The outbox: mail is stored in the transaction that causes it and sent by a worker once that has committed."""
import functools
import logging
import random
import re
import secrets
import smtplib
import threading
import time
from datetime import timedelta
from email.charset import Charset
from email.header import decode_header, make_header
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from flask_mail import Message, sanitize_address
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from petitions import crypto, jobs
from petitions.extensions import db, utcnow
from petitions.jobs import runner
from petitions.mail import addresses
from petitions.mail.models import FAILED, QUEUED, RETRYING, SENDING, SENT, WAITING, OutboxMessage

log = logging.getLogger(__name__)
_PENDING = "petitions.pending_mail"
_WORKER = "petitions.mail_worker"
_UTF8 = Charset("utf-8")
# Base64 of 42 bytes in "=?utf-8?b?...?=" is 68 characters: with "Subject: " a line stays within 78.
_ENCODED_WORD_BYTES = 42
_OUTBOX = OutboxMessage.__table__
# Inline: nothing needs the new row's id, which PostgreSQL would otherwise return and SQLAlchemy read per insert.
_INSERT = insert(_OUTBOX).inline()

# What may never reach a header: line breaks and other controls become a space; direction overrides,
# isolates and invisible characters go (they reorder or hide what the reader sees).
_HEADER_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")
_HEADER_INVISIBLE = re.compile("[\u061c\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")


def init_app(app: Flask) -> None:
    """Hook the session so queued mail follows the fate of its transaction."""
    jobs.follow_transactions(_after_commit, _after_rollback)


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
    return text if addresses.is_plain(text) else None


def queue(message: Message, *, kind: str = "mail", appeal=None, signature=None) -> str | None:
    """Store this message in the outbox within the current transaction; return its Message-ID.

    It leaves once the transaction commits and is dropped with it on rollback. A recipient that is not one
    plain address refuses the message (logged; None is returned).
    """
    if not _prepare(message):
        return None
    return _store(message.msgId, kind, sanitize_address(message.sender), _plain(message.subject),
                  message.send_to, crypto.encrypt_bytes(message.as_bytes()), appeal, signature)


def queue_rendered_when_sent(kind: str, recipient: str, *, appeal, signature) -> str | None:
    """Store a mail to a signer that the worker renders when it sends it; return its Message-ID.

    The request that causes it stores only who gets which kind (building the message is a third of a
    sign request); the function registered with `renders(kind)` builds it from the signature as it then
    is, so a signature erased meanwhile gets no mail. Otherwise like `queue`.
    """
    address = safe_address(recipient)
    if address is None:
        log.error("mail not queued: a recipient is not a plain address (%s)", kind)
        return None
    return _store(new_message_id(), kind, _sender(current_app.config["MAIL_DEFAULT_SENDER"]), "",
                  [address], None, appeal, signature)


@functools.lru_cache(maxsize=8)
def _sender(configured: str) -> str:
    return sanitize_address(configured)


def renders(kind: str):
    """Register fn(signature_id, recipient) -> Message | None as the builder of this kind's deferred mail."""
    def register(fn):
        _RENDERERS[kind] = fn
        return fn
    return register


_RENDERERS: dict = {}


def _prepare(message: Message) -> bool:
    # Every mail passes here, so this is the one place that makes headers safe, whatever a caller typed in.
    message.subject = encoded_subject(header_text(message.subject))
    recipients = [safe_address(r) for r in message.recipients]
    if not recipients or None in recipients:
        log.error("mail not queued: a recipient is not a plain address (%r)", _plain(message.subject))
        return False
    message.recipients = recipients
    if not message.sender:
        message.sender = current_app.config["MAIL_DEFAULT_SENDER"]
    # Flask-Mail names every new Message after this machine (socket.getfqdn): keep only an id of ours.
    if not (message.msgId or "").endswith(f"@{_site_host()}>"):
        message.msgId = new_message_id()
    if message.date is None:
        message.date = time.time()
    return True


def _site_host() -> str:
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


def new_message_id() -> str:
    """Return a new Message-ID on the site's own host name (not the machine's, which it would reveal)."""
    return make_msgid(domain=_site_host())


def _store(message_id: str, kind: str, sender: str, subject: str, envelope: list[str], body: bytes | None,
           appeal, signature) -> str:
    session = db.session()
    # A plain INSERT in the caller's transaction: nothing reads the row back before it commits, and the ORM's
    # unit of work for it was a sixth of a sign request's CPU.
    session.connection().execute(_INSERT, dict(
        message_id=message_id, kind=kind[:32], sender=sender, subject=subject,
        recipients_encrypted=crypto.encrypt("\n".join(map(_envelope_address, envelope))), body_encrypted=body,
        appeal_id=getattr(appeal, "id", appeal), signature_id=getattr(signature, "id", signature),
        status=QUEUED, attempts=0, next_attempt_at=utcnow()))
    session.info[_PENDING] = True
    return message_id


def _envelope_address(address: str) -> str:
    # A plain ASCII mailbox is its own SMTP form; parsing it again (Flask-Mail) was a sixth of queueing a mail.
    return address if address.isascii() and addresses.is_plain(address) else sanitize_address(address)


def status_of(message_id: str) -> str | None:
    """Return "queued", "sent", "retrying" or "failed" for a queued Message-ID; None if unknown."""
    return statuses_of([message_id]).get(message_id)


def statuses_of(message_ids: list[str]) -> dict[str, str]:
    """Return the status of each known Message-ID, in one query (a message being sent counts as queued)."""
    if not message_ids:
        return {}
    rows = db.session.execute(select(OutboxMessage.message_id, OutboxMessage.status)
                              .where(OutboxMessage.message_id.in_(message_ids)))
    return {mid: QUEUED if status == SENDING else status for mid, status in rows}


def counts_for(appeal_id: int) -> dict[str, int]:
    """Return how many of an appeal's messages are queued (or being sent, or retrying), sent and failed."""
    total = dict.fromkeys(("queued", "sent", "failed"), 0)
    for counts in counts_by_kind(appeal_id).values():
        for bucket, n in counts.items():
            total[bucket] += n
    return total


def counts_by_kind(appeal_id: int) -> dict[str, dict[str, int]]:
    """Return, per kind of mail, how many of an appeal's messages are queued, sent and failed."""
    rows = db.session.execute(select(OutboxMessage.kind, OutboxMessage.status, func.count()).where(
        OutboxMessage.appeal_id == appeal_id).group_by(OutboxMessage.kind, OutboxMessage.status)).all()
    out: dict[str, dict[str, int]] = {}
    for kind, status, n in rows:
        bucket = "sent" if status == SENT else "failed" if status == FAILED else "queued"
        out.setdefault(kind, dict.fromkeys(("queued", "sent", "failed"), 0))[bucket] += n
    return out


def failed_signature_ids(appeal_id: int, kind: str = "confirm") -> list[int]:
    """Return the signatures of an appeal whose mail of this kind failed for good."""
    return list(db.session.scalars(select(OutboxMessage.signature_id).distinct().where(
        OutboxMessage.appeal_id == appeal_id, OutboxMessage.kind == kind, OutboxMessage.status == FAILED,
        OutboxMessage.signature_id.is_not(None)).order_by(OutboxMessage.signature_id)))


def _after_commit(session: Session) -> None:
    # Releasing a SAVEPOINT fires this too; the rows are only visible to a worker once the outer one commits.
    if session.in_nested_transaction() or not session.info.pop(_PENDING, False):
        return
    app = current_app._get_current_object()
    if app.config["JOBS_BACKEND"] != "database" and app.config["MAIL_TRANSPORT"] != "outbox":
        jobs.signal("mail.send")  # the RQ workers send it; the rows wait for the sweep if Redis is down
        return
    # The dev outbox writes files at once; a command (no request) hands its mail over before it exits;
    # a page request never waits for the mail server: it wakes the worker thread.
    if app.config["MAIL_TRANSPORT"] == "outbox" or not has_request_context():
        if app.config["MAIL_WORKER"] == "thread" or app.config["MAIL_TRANSPORT"] == "outbox":
            work_once(app)
    elif app.config["MAIL_WORKER"] == "thread":
        _worker(app).wake()


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.nested:  # a failed SAVEPOINT does not undo the request's other work
        return
    session.info.pop(_PENDING, None)


# --- the worker: claim, send, mark -------------------------------------------------------------------


class _Unreachable(Exception):
    """The mail server cannot be reached: the rest of the pass waits for the next one."""


def _reply_of(exc: Exception) -> tuple[int | None, str]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return code, f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return exc.smtp_code, f"{exc.smtp_code} {text}"
    return None, f"{type(exc).__name__}: {exc}"


class _Transport:
    """One SMTP connection (opened on first use) or the dev outbox folder, for one worker pass."""

    def __init__(self, app: Flask):
        self.app = app
        self.host: smtplib.SMTP | None = None
        self.unreachable = False  # the last connection attempt failed

    def send(self, sender: str, recipients: list[str], body: bytes) -> None:
        if self.app.config["MAIL_TRANSPORT"] == "outbox":
            return  # the dev outbox page shows the row, which keeps its copy (see _send_one)
        if self.app.extensions["mail"].suppress:
            return
        if self.host is None:
            self.unreachable = True
            self.host = self._connect()
            self.unreachable = False
        try:
            refused = self.host.sendmail(sender, recipients, body)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise
        except smtplib.SMTPResponseException:
            self._reset()
            raise
        if refused:  # some recipients refused: a message to one address is all this outbox sends
            raise smtplib.SMTPRecipientsRefused(refused)

    def _connect(self) -> smtplib.SMTP:
        config = self.app.config
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        host = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
        if config["MAIL_USE_TLS"]:
            host.starttls()
        if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
            host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return host

    def _reset(self) -> None:
        try:
            self.host.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()
            self.host = None


def _retry_delay(app: Flask, attempts: int) -> float:
    """Return the wait before the next attempt: exponential, capped, with jitter so retries do not bunch."""
    delay = min(app.config["MAIL_RETRY_SECONDS"] * 2 ** (attempts - 1), app.config["MAIL_RETRY_MAX_SECONDS"])
    return delay * random.uniform(0.5, 1.0)


def _requeue_stale(conn) -> None:
    limit = utcnow() - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT"])
    conn.execute(update(_OUTBOX).where(_OUTBOX.c.status == SENDING, _OUTBOX.c.claimed_at < limit)
                 .values(status=QUEUED, claim=None))


def _postpone_due(reply: str, delay: float) -> None:
    """Move every message due now to the next try: while the server cannot be reached, none can be sent."""
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(update(_OUTBOX).where(_OUTBOX.c.status.in_(WAITING), _OUTBOX.c.next_attempt_at <= now)
                     .values(status=RETRYING, last_error=f"not tried: the server is unreachable ({reply})"[:2000],
                             next_attempt_at=now + timedelta(seconds=delay)))


def _claim_next(token: str):
    """Claim the oldest due message for this worker, or return None; one UPDATE, so no two workers share one."""
    while True:
        with db.engine.begin() as conn:
            _requeue_stale(conn)
            now = utcnow()
            due = select(_OUTBOX.c.id).where(_OUTBOX.c.status.in_(WAITING), _OUTBOX.c.next_attempt_at <= now)
            first = conn.execute(due.order_by(_OUTBOX.c.id).limit(1)).scalar()
            if first is None:
                return None
            claimed = conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == first, _OUTBOX.c.status.in_(WAITING))
                                   .values(status=SENDING, claim=token, claimed_at=now))
            if claimed.rowcount == 1:
                return conn.execute(select(_OUTBOX).where(_OUTBOX.c.id == first)).first()
        # Another worker claimed that one between our read and our update: look for the next.


def _mark(row, token: str, **values) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.id, _OUTBOX.c.claim == token)
                     .values(claim=None, **values))


def _render(row, recipients: list[str], token: str) -> tuple[bytes | None, str, str | None]:
    """Build a deferred message and keep its copy on the row; return its bytes, subject and why not."""
    render = _RENDERERS.get(row.kind)
    if render is None or row.signature_id is None:
        return None, row.subject, "nothing to send: the signature it was for is gone"
    try:
        message = render(row.signature_id, recipients[0])
        if message is None:
            return None, row.subject, "nothing to send: the signature it was for is gone"
        message.msgId, message.sender, message.recipients = row.message_id, row.sender, recipients
        if not _prepare(message):
            return None, row.subject, "the recipient is not a plain address"
        body, subject = message.as_bytes(), _plain(message.subject)
    except Exception:  # a builder's bug must not stop the worker nor leave the message claimed forever
        log.exception("mail failed: the %s message %s could not be built", row.kind, row.message_id)
        return None, row.subject, "the message could not be built (see the worker's log)"
    finally:
        db.session.remove()  # the next row is read afresh; a command's own session is another one
    # Kept from now on like any queued copy, so a retry sends the very same bytes.
    with db.engine.begin() as conn:
        conn.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.id, _OUTBOX.c.claim == token)
                     .values(body_encrypted=crypto.encrypt_bytes(body), subject=subject))
    return body, subject, None


def _send_one(app: Flask, transport: _Transport, row, token: str) -> None:
    recipients = (crypto.decrypt(row.recipients_encrypted or "") or "").split("\n")
    subject = row.subject
    if not any(recipients):
        body, why = None, "the stored message cannot be read (data key removed?)"
    elif row.body_encrypted is None:
        body, subject, why = _render(row, recipients, token)
    else:
        body = crypto.decrypt_bytes(row.body_encrypted)
        why = "the stored message cannot be read (data key removed?)"
    if body is None:
        _mark(row, token, status=FAILED, last_error=why)
        log.error("mail failed: %r (%s) not sent: %s", subject, row.kind, why)
        return
    attempts = row.attempts + 1
    try:
        transport.send(row.sender, recipients, body)
    except (smtplib.SMTPException, OSError) as exc:
        # No connection at all (refused, timed out): the server is down, so the pass ends with this message.
        unreachable = transport.unreachable
        code, reply = _reply_of(exc)
        delay = _retry_delay(app, attempts)
        if (code is not None and code >= 500) or attempts >= app.config["MAIL_MAX_ATTEMPTS"]:
            _mark(row, token, status=FAILED, attempts=attempts, last_error=reply[:2000])
            log.error("mail failed: %r not sent: %s", subject, reply)
        else:
            _mark(row, token, status=RETRYING, attempts=attempts, last_error=reply[:2000],
                  next_attempt_at=utcnow() + timedelta(seconds=delay))
            log.error("mail failed: %r not sent: %s; retrying in %d s", subject, reply, delay)
        if unreachable:
            raise _Unreachable(reply, delay) from exc
        return
    # Marked in the same cycle as the server's acceptance; only a crash in between resends (same Message-ID).
    kept = app.config["MAIL_TRANSPORT"] == "outbox"
    _mark(row, token, status=SENT, attempts=attempts, sent_at=utcnow(), last_error=None,
          **({} if kept else {"recipients_encrypted": None, "body_encrypted": None}))


def work_once(app: Flask) -> int:
    """Send every message that is due now; return how many were attempted."""
    return _work_pass(app)[0]


def _work_pass(app: Flask) -> tuple[int, float | None]:
    """Send what is due; return how many were attempted and, if the server was unreachable, the pause."""
    token = secrets.token_hex(16)
    transport = _Transport(app)
    done = 0
    with app.app_context():
        try:
            while (row := _claim_next(token)) is not None:
                done += 1
                _send_one(app, transport, row, token)
        except _Unreachable as exc:
            reply, delay = exc.args
            _postpone_due(reply, delay)
            return done, delay
        finally:
            transport.close()
    return done, None


def next_due_in(app: Flask) -> float | None:
    """Return the seconds until the next waiting message is due (0 if now), or None if none waits."""
    with app.app_context(), db.engine.connect() as conn:
        waiting = conn.execute(select(func.min(_OUTBOX.c.next_attempt_at)).where(
            _OUTBOX.c.status.in_(WAITING))).scalar()
        claimed = conn.execute(select(func.min(_OUTBOX.c.claimed_at)).where(_OUTBOX.c.status == SENDING)).scalar()
    if claimed is not None:  # another worker's claim: due again only once it has gone stale
        claimed += timedelta(seconds=app.config["MAIL_CLAIM_TIMEOUT"])
    return runner.seconds_until(waiting, claimed)


def work_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Send due messages until stopped, looking again every MAIL_POLL_SECONDS (for `flask mail work`)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        work_once(app)
        due = next_due_in(app)
        stop.wait(min(app.config["MAIL_POLL_SECONDS"], due if due is not None else runner.MAX_SLEEP))


def _worker(app: Flask) -> runner.Runner:
    return runner.runner_for(app, _WORKER, _work_pass, next_due_in)


def start_worker() -> None:
    """Start this web process's sender thread once (at its first request), so mail left waiting leaves too."""
    app = current_app._get_current_object()
    if runner.started(app, _WORKER) or app.config["JOBS_BACKEND"] != "database":
        return
    if app.config["MAIL_WORKER"] == "thread" and app.config["MAIL_TRANSPORT"] != "outbox":
        _worker(app).wake()


def wait_idle(app: Flask | None = None, timeout: float = 30.0) -> bool:
    """Wait until the worker thread has attempted every message due now; for tests and shutdown.

    Jobs that mail (reminders, updates) are waited for first: their mail is due once they have run.
    """
    app = app or current_app._get_current_object()
    return jobs.wait_idle(app, timeout) and runner.wait_idle(app, _WORKER, timeout)


def _mail_due(app: Flask) -> bool:
    return next_due_in(app) == 0


@jobs.task("mail.send", due=_mail_due)
def send_due() -> None:
    """Send every message due now (the job that RQ runs when mail was committed)."""
    work_once(current_app._get_current_object())
