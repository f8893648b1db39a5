"""Dev outbox: list mail stored by the "outbox" transport so a newcomer can click its links."""
import email
import email.policy
import email.utils
import hashlib
import ipaddress
import os
import re

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import delete, select

from petitions import crypto
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.mail.sending import outbox_dir

bp = Blueprint("outbox", __name__, url_prefix="/dev/outbox")
_NAME = re.compile(r"^[0-9T]+-[0-9a-f]{8}\.eml$")
_URL = re.compile(r"https?://[^\s<>\"]+")
# A request relayed by a proxy on this machine comes from loopback too, on behalf of anyone.
_FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Forwarded")


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


def _read(name: str) -> dict:
    with open(os.path.join(outbox_dir(), name), "rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body else ""
    return {
        "name": name,
        "subject": msg["subject"],
        "to": msg["to"],
        "date": msg["date"],
        "text": text,
        "links": _URL.findall(text),
    }


@bp.get("/")
def index():
    """List stored messages, newest first."""
    folder = outbox_dir()
    names = sorted((n for n in os.listdir(folder) if _NAME.match(n)), reverse=True) if os.path.isdir(folder) else []
    return render_template("outbox/index.html", messages=[_read(n) for n in names[:200]])


@bp.get("/<name>")
def show(name: str):
    """Show one stored message."""
    if not _NAME.match(name) or not os.path.exists(os.path.join(outbox_dir(), name)):
        abort(404)
    return render_template("outbox/show.html", message=_read(name))


def forget(address: str | None, names: list[str], attachments: set[str] = frozenset()) -> int:
    """Delete stored messages to this address, mentioning one of these names or carrying a file with one of
    these SHA-256 digests (a removed PDF); return how many."""
    _forget_rows(address)
    folder = outbox_dir()
    if not os.path.isdir(folder):
        return 0
    wanted_address = (address or "").strip().casefold()
    wanted_names = [" ".join(n.split()).casefold() for n in names if n and n.strip()]
    removed = 0
    for name in os.listdir(folder):
        if not name.endswith(".eml"):
            continue  # also half-written ".name.eml" files, which end the same way
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
        except OSError:
            continue
        if _mentions(msg, wanted_address, wanted_names) or _carries(msg, attachments):
            try:
                os.remove(path)
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def _forget_rows(address: str | None) -> None:
    # Mail not yet handed over (waiting, retrying, failed) still holds the address: it goes with the signer.
    wanted = (address or "").strip().casefold()
    if not wanted:
        return
    held = db.session.execute(select(OutboxMessage.id, OutboxMessage.recipients_encrypted).where(
        OutboxMessage.recipients_encrypted.is_not(None))).all()
    ids = [i for i, token in held if wanted in (crypto.decrypt(token) or "").casefold().split("\n")]
    if ids:
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))


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
