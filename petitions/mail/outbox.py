"""Dev outbox: list mail stored by the "outbox" transport so a newcomer can click its links."""
import email
import email.policy
import os
import re

from flask import Blueprint, abort, render_template

from .sending import outbox_dir

bp = Blueprint("outbox", __name__, url_prefix="/dev/outbox")
_NAME = re.compile(r"^[0-9T]+-[0-9a-f]{8}\.eml$")
_URL = re.compile(r"https?://[^\s<>\"]+")


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
