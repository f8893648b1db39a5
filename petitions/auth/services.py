"""Organizer account actions: registration confirmed by e-mail, authentication, session tokens."""
from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from petitions.crypto import normalize_email
from petitions.extensions import db
from petitions.mail import sending
from petitions.security import safe_next
from petitions import links as tokens
from petitions.links import REGISTER
from petitions.urls import external_url
from petitions.auth.models import User
from petitions.auth.passwords import password_problem



class EmailTaken(Exception):
    """An account with this e-mail exists."""


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why."""


def register_user(name: str, email: str, password: str) -> User:
    """Create an organizer account; raise EmailTaken or WeakPassword."""
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem is not None:
        raise WeakPassword(str(problem))
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(email)
    user = User(name=name.strip(), email=email)
    user.set_password(password)
    try:
        # A savepoint: a concurrent request that created the same address first loses only this insert.
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken(email) from None
    return user


def request_registration(email: str, next_path: str | None = None) -> None:
    """Mail a link that finishes registration, or tell an existing account's owner; the caller learns neither.

    next_path (a local path, e.g. the invitation that sent the person here) is where the new account lands.
    """
    email = normalize_email(email)
    next_path = safe_next(next_path, "") or None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        payload = {"e": email} | ({"n": next_path} if next_path else {})
        link = external_url("auth.finish_registration", token=tokens.make_token(REGISTER, payload))
        subject, body = _l("Finish creating your organizer account"), render_template(
            "auth/register_mail.txt", link=link, hours=current_app.config["REGISTER_TOKEN_MAX_AGE"] // 3600)
    else:
        login = external_url("auth.login", **({"next": next_path} if next_path else {}))
        subject, body = _l("Someone tried to register with your address"), render_template(
            "auth/register_existing_mail.txt", user=user, login=login)
    sending.queue(Message(subject=str(subject), recipients=[email], body=body), kind="registration")


def registration_email(token: str) -> str:
    """Return the address a registration link was sent to, or raise TokenError."""
    return registration_link(token)[0]


def registration_link(token: str) -> tuple[str, str | None]:
    """Return the address a registration link was sent to and the local path to land on, or raise TokenError."""
    payload = tokens.read_token(REGISTER, token, current_app.config["REGISTER_TOKEN_MAX_AGE"])
    email = payload.get("e")
    if not isinstance(email, str) or not email:
        raise tokens.TokenError(_l("This link is not valid."))
    next_path = payload.get("n")
    return email, (safe_next(next_path, "") or None) if isinstance(next_path, str) else None


def authenticate(email: str, password: str) -> User | None:
    """Return the account if the password matches; unknown addresses cost the same hash check."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    # Verify against a dummy hash when there is no account, so the answer takes as long either way.
    stored = user.password_hash if user is not None else _dummy_hash()
    matches = check_password_hash(stored, password)
    return user if user is not None and matches else None


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    cache = current_app.extensions.setdefault("petitions.dummy_hash", {})
    if method not in cache:
        cache[method] = generate_password_hash("not the password of any account", method=method)
    return cache[method]
