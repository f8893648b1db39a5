"""Response headers: a strict Content-Security-Policy with per-request nonces, no referrer, no framing."""
import secrets
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, request

_EMBEDDABLE = "petitions_embeddable"
_NONCE = "petitions.csp_nonce"


def csp_nonce() -> str:
    """Return this request's nonce for an inline <script nonce="…"> (the policy allows no other inline code)."""
    # Kept on the request itself: g lives as long as the app context, which may span requests.
    return request.environ.setdefault(_NONCE, secrets.token_urlsafe(18))


def safe_next(target: str | None, fallback: str) -> str:
    """Return target if it is a path on this site, else fallback; the one rule for user-supplied redirects."""
    if not target:
        return fallback
    text = target
    # Decode until stable: a browser or proxy may decode again, so every layer must be harmless.
    for _ in range(5):
        if not _is_local_path(text):
            return fallback
        decoded = unquote(text)
        if decoded == text:
            return target
        text = decoded
    return fallback


def _is_local_path(text: str) -> bool:
    # Printable ASCII only: browsers drop tabs and newlines and fold look-alikes, turning "/\t/x" into "//x".
    if not text.startswith("/") or not all("!" <= ch <= "~" for ch in text):
        return False
    if text.startswith("//") or "\\" in text:
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def embeddable(view):
    """Mark a view as one that other sites may show in a frame (the embed widget)."""
    setattr(view, _EMBEDDABLE, True)

    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, **kwargs)

    setattr(wrapper, _EMBEDDABLE, True)
    return wrapper


def _is_embeddable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(view is not None and getattr(view, _EMBEDDABLE, False))


def content_security_policy(nonce: str | None, frame_ancestors: str) -> str:
    """Build the policy: everything from our own origin only; inline scripts only with the nonce."""
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join([
        "default-src 'self'",
        f"script-src {script}",
        "style-src 'self'",
        "img-src 'self' data:",  # data: only for the empty favicon that stops the browser asking for one
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


# Every response carries these; built once instead of per response (their values never change).
_FIXED_HEADERS = (
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                           "interest-cohort=(), browsing-topics=()"),
)


def set_headers(response):
    """Add the security headers to every response."""
    framing_allowed = _is_embeddable()
    ancestors = current_app.config["EMBED_FRAME_ANCESTORS"] if framing_allowed else "'none'"
    headers = response.headers
    # A view may bring its own policy (the share page). Scanned rather than looked up by key: a miss
    # of Headers' lookup raises and catches a KeyError, the costliest step of this hook on every response.
    if not any(key.lower() == "content-security-policy" for key, _ in headers):
        headers.add("Content-Security-Policy", content_security_policy(request.environ.get(_NONCE), ancestors))
    for key, value in _FIXED_HEADERS:
        headers[key] = value
    if not framing_allowed:
        headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        headers["Strict-Transport-Security"] = f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    """Install the headers, expose csp_nonce() to templates and pick cookie flags."""
    https = str(app.config.get("PUBLIC_URL", "")).startswith("https://")
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = https
    app.after_request(set_headers)
    app.add_template_global(csp_nonce, "csp_nonce")
