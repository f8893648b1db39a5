"""Organizer account actions."""
from sqlalchemy import select

from ..extensions import db
from .models import User


class EmailTaken(Exception):
    """An account with this e-mail exists."""


def register_user(name: str, email: str, password: str) -> User:
    """Create an organizer account."""
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(name=name.strip(), email=email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user
