"""Dev outbox: the outbox table as a page (status, attempts, last error, the stored copy) for `make run`."""
import email
import email.policy
import email.utils
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import delete, or_, select

from petitions import crypto
from petitions.extensions import db
from petitions.mail.models import OutboxMessage

bp = Blueprint("outbox", __name__, url_prefix="/dev/outbox")
_URL = re.compile(r"https?://[^\s<>\"]+")
_SHOWN = 200  # the page lists the newest messages only
# A request relayed by a proxy on this machine comes from loopback too, on behalf of anyone.
_FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")


@dataclass(frozen=True)
class StoredMail:
    """One outbox row with its decrypted copy (None once the server has it and the copy was dropped)."""

    row: OutboxMessage
    message: EmailMessage | None

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",)) if self.message is not None else None
        return body.get_content() if body is not None else ""

    @property
    def links(self) -> list[str]:
        return _URL.findall(self.text)


def from_this_machine() -> bool:
    """Tell whether the request comes straight from loopback: the peer's address, never a forwarded one."""
    if any(request.headers.get(name) for name in _FORWARDING_HEADERS):
        return False
    # ProxyFix rewrites REMOTE_ADDR from X-Forwarded-For and keeps the peer's address here.
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or request.environ.get("REMOTE_ADDR")
    try:
        address = ipaddress.ip_address((peer or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


@bp.before_request
def _only_here_or_for_organizers():
    # Signers' confirmation links are in these messages: nobody else on the network may read them.
    if not (from_this_machine() or current_user.is_authenticated):
        abort(404)


def _copy(token: bytes | None) -> EmailMessage | None:
    raw = crypto.decrypt_bytes(token) if token else None
    return email.message_from_bytes(raw, policy=email.policy.default) if raw else None


def stored(limit: int | None = None) -> list[StoredMail]:
    """Return the messages of the outbox, newest first, with their decrypted copies where still held."""
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    return [StoredMail(row, _copy(row.body_encrypted)) for row in rows]


@bp.get("/")
def index():
    """List the newest messages of the outbox with their status."""
    return render_template("outbox/index.html", messages=stored(_SHOWN))


@bp.get("/<int:message>")
def show(message: int):
    """Show one message of the outbox."""
    row = db.session.get(OutboxMessage, message)
    if row is None:
        abort(404)
    return render_template("outbox/show.html", message=StoredMail(row, _copy(row.body_encrypted)))


def forget(address: str | None, names: list[str], attachments: set[str] = frozenset()) -> int:
    """Delete held messages (waiting, failed, or kept by the dev outbox) to this address, mentioning one of
    these names or carrying a file with one of these SHA-256 digests (a removed PDF); return how many."""
    wanted_address = (address or "").strip().casefold()
    wanted_names = [" ".join(n.split()).casefold() for n in names if n and n.strip()]
    held = db.session.execute(select(OutboxMessage.id, OutboxMessage.recipients_encrypted,
                                     OutboxMessage.body_encrypted).where(or_(
        OutboxMessage.recipients_encrypted.is_not(None), OutboxMessage.body_encrypted.is_not(None)))).all()
    ids = []
    for row_id, recipients, body in held:
        if wanted_address and wanted_address in (crypto.decrypt(recipients or "") or "").casefold().split("\n"):
            ids.append(row_id)
        elif wanted_names or attachments:
            msg = _copy(body)
            if msg is not None and (_mentions(msg, wanted_address, wanted_names) or _carries(msg, attachments)):
                ids.append(row_id)
    if ids:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)


def _carries(msg, digests: set[str]) -> bool:
    if not digests:
        return False
    for part in msg.walk():
        if part.get_content_maintype() != "text" and not part.is_multipart():
            data = part.get_payload(decode=True) or b""
            if hashlib.sha256(data).hexdigest() in digests:
                return True
    return False


def _mentions(msg, address: str, names: list[str]) -> bool:
    # Decoded headers and text parts: a name in another script is quoted-printable or base64 on disk.
    recipients = {a.casefold() for _, a in email.utils.getaddresses(
        [str(v) for key in ("To", "Cc", "Bcc", "Reply-To") for v in msg.get_all(key, [])])}
    if address and address in recipients:
        return True
    if not names:
        return False
    texts = [str(v) for _, v in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                texts.append(part.get_payload(decode=True).decode("utf-8", "replace"))
    text = " ".join(" ".join(texts).split()).casefold()
    return any(n in text for n in names)
