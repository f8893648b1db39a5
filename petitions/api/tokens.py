"""Personal access tokens of organizers: named, scoped, optionally bound to one appeal, stored as a keyed hash."""
import enum
import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions import audit
from petitions.appeals.models import Appeal
from petitions.auth.models import User
from petitions.extensions import db, utcnow
from petitions.members.access import can

TOKEN_PREFIX = "pt_"
NAME_MAX_LENGTH = 100


class Scope(enum.Enum):
    READ_APPEAL = "appeal:read"
    READ_SIGNATORIES = "signatories:read"
    EXPORT = "signatories:export"
    SIGN_IMPORT = "signatures:import"


SCOPE_LABELS = {
    Scope.READ_APPEAL: _l("Read appeals, drafts included"),
    Scope.READ_SIGNATORIES: _l("Read signatories (no e-mail addresses)"),
    Scope.EXPORT: _l("Export signatories (audited)"),
    Scope.SIGN_IMPORT: _l("Submit signatures on behalf of an import"),
}
# The role permission (members/access.py) each scope needs: a token never exceeds its user's role.
SCOPE_ACTION = {Scope.READ_APPEAL: "view", Scope.READ_SIGNATORIES: "moderate", Scope.EXPORT: "export",
                Scope.SIGN_IMPORT: "moderate"}


class TokenStateError(Exception):
    """A move a token cannot make (revoking it twice)."""


class ApiToken(db.Model):
    """One organizer's personal access token; only a keyed hash of its secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so the owner can tell tokens apart
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    appeal: Mapped[Appeal | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: Scope) -> bool:
        return scope.value in (self.scopes or [])

    def revoke(self) -> None:
        """Revoke the token for good."""
        if self.revoked_at is not None:
            raise TokenStateError(_l("This token is already revoked."))
        self.revoked_at = utcnow()

    def allows(self, appeal: Appeal, scope: Scope) -> bool:
        """Tell whether this token may act with this scope on this appeal (its user's role decides too)."""
        if not self.has_scope(scope) or (self.appeal_id is not None and self.appeal_id != appeal.id):
            return False
        return can(appeal, self.user, SCOPE_ACTION[scope])


def secret_hash(secret: str) -> str:
    """Return the keyed hash under which a token's secret is stored and found."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"api-token:" + secret.encode(), hashlib.sha256).hexdigest()


def create(user: User, name: str, scopes: list[str], appeal: Appeal | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and shown only now."""
    wanted = [s.value for s in Scope if s.value in scopes]
    if not wanted:
        raise TokenStateError(_l("Choose at least one scope."))
    if appeal is not None and not can(appeal, user, "view"):
        raise TokenStateError(_l("You do not organize this appeal."))
    visible = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{visible}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user_id=user.id, user=user, name=name.strip()[:NAME_MAX_LENGTH], scopes=wanted,
                     appeal_id=appeal.id if appeal is not None else None, prefix=f"{TOKEN_PREFIX}{visible}",
                     secret_hash=secret_hash(secret))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", appeal, actor=user, token=token.id, name=token.name, scopes=wanted,
                 prefix=token.prefix)
    return token, secret


def revoke(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens (LookupError: they have no such token)."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise LookupError(token_id)
    token.revoke()
    audit.record("api_token.revoked", token.appeal, actor=user, token=token.id, name=token.name,
                 prefix=token.prefix)
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """Return the user's tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def find(secret: str) -> ApiToken | None:
    """Return the active token with this secret, or None (unknown, malformed or revoked)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == secret_hash(secret)))
    if token is None or not token.active or not token.user.is_active:
        return None
    return token
