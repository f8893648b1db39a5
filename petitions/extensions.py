"""Create the extensions once; create_app binds them with init_app."""
import hashlib
import hmac

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Name constraints predictably so that Alembic can alter them on SQLite too."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def hashed_client_key() -> str:
    """Key rate limits by a keyed hash of the client address that changes monthly, never the raw IP."""
    # remote_addr is what ProxyFix derived from the trusted hops (PROXY_FIX_X_FOR), else the connection's.
    from petitions.privacy.minimize import period_key

    addr = (request.remote_addr or "unknown").encode()
    return hmac.new(period_key(), b"ratelimit:" + addr, hashlib.sha256).hexdigest()[:32]


def account_key(prefix: str):
    """Return a limit key by the logged-in account (stable across logins, unlike its session id), else the client."""

    def key() -> str:
        account = getattr(current_user, "id", None)
        return f"{prefix}:account:{account}" if account is not None else f"{prefix}:client:{hashed_client_key()}"

    return key


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
limiter = Limiter(key_func=hashed_client_key)


def utcnow():
    """Return naive UTC, the form stored in every timestamp column (SQLite keeps no zone)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)
