"""Organizer accounts."""
import hmac
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from petitions.extensions import db, utcnow


def new_session_token() -> str:
    """Return a fresh random session token."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """An organizer who drafts appeals and reviews signatures."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session and remember cookie: replacing it ends all of them on the server side.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password and end every session that used the old one."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches."""
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        """Invalidate every session and remember cookie issued so far."""
        self.session_token = new_session_token()

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in cookies: the user id and the current session token."""
        if self.session_token is None:
            self.rotate_session_token()
        return f"{self.id}:{self.session_token}"

    def has_session_token(self, token: str) -> bool:
        """Tell whether a cookie's token is the current one."""
        return bool(self.session_token) and hmac.compare_digest(self.session_token.encode(), token.encode())
