"""Dev outbox: list mail stored by the "outbox" transport so a newcomer can click its links."""
import email
import email.policy
import ipaddress
import os
import re

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from .sending import outbox_dir

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
