"""The rate limiter and its keys: a monthly keyed hash of the client address, or the logged-in account."""
import hashlib
import hmac
import math
import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_login import current_user

from petitions.privacy.minimize import period_key


def hashed_client_key() -> str:
    """Key rate limits by a keyed hash of the client address that changes monthly, never the raw IP."""
    # remote_addr is what ProxyFix derived from the trusted hops (PROXY_FIX_X_FOR), else the connection's.
    addr = (request.remote_addr or "unknown").encode()
    return hmac.new(period_key(), b"ratelimit:" + addr, hashlib.sha256).hexdigest()[:32]


def account_key(prefix: str):
    """Return a limit key by the logged-in account (stable across logins, unlike its session id), else the client."""

    def key() -> str:
        account = getattr(current_user, "id", None)
        return f"{prefix}:account:{account}" if account is not None else f"{prefix}:client:{hashed_client_key()}"

    return key


limiter = Limiter(key_func=hashed_client_key)


def retry_after() -> int | None:
    """Return the seconds until the limit this request broke resets, for its 429's Retry-After (None: none broke)."""
    current = limiter.current_limit
    return max(1, math.ceil(current.reset_at - time.time())) if current is not None else None


def init_app(app: Flask) -> None:
    """Bind the limiter to this app, counting in its RATELIMIT_STORAGE_URI (Redis: one budget for every worker)."""
    limiter.init_app(app)
    # One Limiter serves every app a process builds (the tests build hundreds): an outage of an earlier app's
    # storage must not keep this one counting in memory. Flask-Limiter logs when it falls back and recovers.
    limiter._storage_dead = False
