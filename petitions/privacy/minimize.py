"""Data minimization: a rotating keyed hash of the client address instead of the IP."""
import functools
import hashlib
import hmac
from datetime import datetime

from flask import current_app, has_request_context, request

from petitions.extensions import utcnow


def period_key(when: datetime | None = None) -> bytes:
    """Derive this month's key from SECRET_KEY; old months' hashes can no longer be linked to new ones."""
    when = when or utcnow()
    return _month_key(current_app.config["SECRET_KEY"], f"{when:%Y-%m}")


@functools.lru_cache(maxsize=16)  # three per sign request (its limits and its client hash), one month at a time
def _month_key(secret: str, month: str) -> bytes:
    return hmac.new(secret.encode(), f"client-hash:{month}".encode(), hashlib.sha256).digest()


def client_hash(address: str | None = None, when: datetime | None = None) -> str | None:
    """Return the keyed hash of the client address for abuse review; None outside a request."""
    if address is None:
        if not has_request_context():
            return None
        address = request.remote_addr or "unknown"
    return hmac.new(period_key(when), address.encode(), hashlib.sha256).hexdigest()[:32]
