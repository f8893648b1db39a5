"""Built-in defaults; instance/config.py and FLASK_* environment variables override them."""
from datetime import timedelta


class Defaults:
    """Hold settings that are safe in every deployment."""

    # No SECRET_KEY here on purpose: create_app refuses to start without one.
    SQLALCHEMY_DATABASE_URI = None  # filled in as instance/petitions.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Public URL used in links when there is no request (CLI, background jobs).
    PUBLIC_URL = "http://127.0.0.1:5000"

    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Petitions <petitions@localhost>"
    # "smtp" sends through Flask-Mail; "outbox" stores messages as files for the dev outbox page.
    MAIL_TRANSPORT = "smtp"
    DEV_OUTBOX = False

    CONFIRM_TOKEN_MAX_AGE = int(timedelta(days=7).total_seconds())
    # Signatory verification (issue 4): withdrawal links, re-sent confirmations, reminders.
    WITHDRAW_TOKEN_MAX_AGE = int(timedelta(days=5 * 365).total_seconds())
    RESEND_RATE_LIMIT = "5 per hour"
    RESEND_MIN_INTERVAL = int(timedelta(minutes=10).total_seconds())
    REMIND_INTERVAL_DAYS = 7

    # Signatories' e-mails are encrypted at rest (first key encrypts, all decrypt: rotation)
    # and hashed with a separate key for uniqueness; both come from instance/config.py.
    DATA_KEYS: list[str] = []
    EMAIL_HASH_KEY = None

    BODY_MAX_CHARS = 50_000
    TITLE_MAX_CHARS = 300
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    REGISTRATION_OPEN = True
    LANGUAGES = ["en"]
    BABEL_DEFAULT_LOCALE = "en"

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_RATE_LIMIT = "20 per hour"
    LOGIN_RATE_LIMIT = "10 per minute"

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
