"""Data minimization: a rotating keyed hash of the client address instead of the IP."""
import hashlib
import hmac
from datetime import datetime

from flask import current_app, has_request_context, request

from petitions.extensions import utcnow


def period_key(when: datetime | None = None) -> bytes:
    """Derive this month's key from SECRET_KEY; old months' hashes can no longer be linked to new ones."""
    when = when or utcnow()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"client-hash:{when:%Y-%m}".encode(), hashlib.sha256).digest()


def client_hash(address: str | None = None, when: datetime | None = None) -> str | None:
    """Return the keyed hash of the client address for abuse review; None outside a request."""
    if address is None:
        if not has_request_context():
            return None
        address = request.remote_addr or "unknown"
    return hmac.new(period_key(when), address.encode(), hashlib.sha256).hexdigest()[:32]
