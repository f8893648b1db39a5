"""Appeals and their lifecycle."""
import enum
import hashlib
import json
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db, utcnow


class IllegalTransition(Exception):
    """A state change that the appeal's lifecycle does not allow."""


class AppealStatus(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


def _values(enum_cls):
    return [m.value for m in enum_cls]


class Appeal(db.Model):
    """A letter with addressees and a body that people sign."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    addressees: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[AppealStatus] = mapped_column(
        Enum(AppealStatus, native_enum=False, length=20, values_callable=_values),
        default=AppealStatus.DRAFT,
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    owner: Mapped[User] = relationship()

    def __init__(self, **kwargs):
        # Column defaults only apply at INSERT; state methods need the state before that.
        kwargs.setdefault("status", AppealStatus.DRAFT)
        super().__init__(**kwargs)

    @property
    def is_open(self) -> bool:
        return self.status is AppealStatus.OPEN

    def ensure_editable(self) -> None:
        """Refuse edits once people may have signed the text."""
        if self.status is not AppealStatus.DRAFT:
            raise IllegalTransition("Only a draft can be edited; this appeal is %s." % self.status.value)

    def publish(self) -> None:
        """Open the appeal for signatures."""
        if self.status is not AppealStatus.DRAFT:
            raise IllegalTransition("Only a draft can be published; this appeal is %s." % self.status.value)
        if not self.title.strip() or not self.body.strip():
            raise IllegalTransition("An appeal needs a title and a body before it can be published.")
        self.status = AppealStatus.OPEN
        self.published_at = utcnow()

    def close(self) -> None:
        """Stop accepting signatures."""
        if self.status is not AppealStatus.OPEN:
            raise IllegalTransition("Only an open appeal can be closed; this appeal is %s." % self.status.value)
        self.status = AppealStatus.CLOSED
        self.closed_at = utcnow()

    @property
    def content_hash(self) -> str:
        """Hash the signed text, so every signature can say which text it endorsed."""
        canonical = json.dumps(
            {"title": self.title, "addressees": self.addressees, "body": self.body},
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
