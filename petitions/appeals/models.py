"""Appeals, their revisions, templates and lifecycle."""
import enum
import hashlib
import json
from datetime import date, datetime, time

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, object_session, relationship

from petitions.appeals.starters import content_placeholders
from petitions.auth.models import User
from petitions.extensions import db, utcnow


class IllegalTransition(Exception):
    """A state change that the appeal's lifecycle does not allow."""


def _values(enum_cls):
    return [m.value for m in enum_cls]


def enum_column(enum_cls, **kw):
    """Store an enum by its value as a short string (portable across SQLite and PostgreSQL)."""
    return mapped_column(Enum(enum_cls, native_enum=False, length=20, values_callable=_values), **kw)


class AppealStatus(enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DELIVERED = "delivered"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        """Return the state's name for people, in the interface language (the badge's words)."""
        return STATUS_LABELS[self]


STATUS_LABELS = {AppealStatus.DRAFT: _l("draft"), AppealStatus.OPEN: _l("open"), AppealStatus.CLOSED: _l("closed"),
                 AppealStatus.DELIVERED: _l("delivered"), AppealStatus.ARCHIVED: _l("archived")}


# The parts of a letter; a revision stores exactly these keys.
CONTENT_FIELDS = ("title", "subject", "addressees", "body", "demands", "closing", "place", "letter_date", "senders")

_TRANSITIONS = {
    AppealStatus.DRAFT: {AppealStatus.OPEN},
    AppealStatus.OPEN: {AppealStatus.CLOSED},
    AppealStatus.CLOSED: {AppealStatus.OPEN, AppealStatus.DELIVERED, AppealStatus.ARCHIVED},
    AppealStatus.DELIVERED: {AppealStatus.ARCHIVED},
    AppealStatus.ARCHIVED: set(),
}


def content_hash(content: dict) -> str:
    """Hash letter content canonically, so equal texts get equal hashes."""
    canonical = json.dumps({k: content.get(k) for k in CONTENT_FIELDS}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Appeal(db.Model):
    """A letter with addressees, a body and demands that people sign."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Working copy of the text in the original language; revisions keep every saved state.
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300), default="")
    addressees: Mapped[list] = mapped_column(JSON, default=list)  # [{name, title, institution, postal_address, email, salutation}]
    body: Mapped[str] = mapped_column(Text, default="")
    demands: Mapped[list] = mapped_column(JSON, default=list)  # [str]
    closing: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    letter_date: Mapped[date | None]
    senders: Mapped[str] = mapped_column(Text, default="")  # sending organizations, one per line
    original_language: Mapped[str] = mapped_column(String(16), default="en")

    status: Mapped[AppealStatus] = enum_column(AppealStatus, default=AppealStatus.DRAFT, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signature_goal: Mapped[int | None]
    deadline: Mapped[datetime | None]
    # Highest revision number saved; an editor's save must name it (optimistic concurrency).
    revision_count: Mapped[int] = mapped_column(Integer, default=0)
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal_revisions.id", use_alter=True, name="fk_appeals_published_revision"))

    # Signatory safety (visibility offered on the sign form and how anonymous signers appear).
    visibility_default: Mapped[str] = mapped_column(String(20), default="public")
    visibility_choices: Mapped[list] = mapped_column(JSON, default=lambda: ["public", "addressees", "anonymous"])
    anonymous_display: Mapped[str] = mapped_column(String(20), default="withheld")  # or "count"

    # Kept by signing/rules.py on every flush that changes who is listed, counted or how a line reads, so
    # pages, the API and the PDF's freshness check never read the list to know its size or whether it changed.
    signature_count: Mapped[int] = mapped_column(Integer, default=0)  # always counted_total(appeal)
    public_count: Mapped[int] = mapped_column(Integer, default=0)  # of them listed on the public page
    organization_count: Mapped[int] = mapped_column(Integer, default=0)  # of them for an organization
    list_version: Mapped[int] = mapped_column(Integer, default=0)
    # The list_version of the last change other than a new confirmation: between two, the list only grew.
    list_rewrite_version: Mapped[int] = mapped_column(Integer, default=0)
    # Once organizers made or asked for the public PDF, every change to the list schedules a fresh one
    # (pdf.jobs.public_pdf_changed); kept here so that a confirmation needs no query to know it.
    public_pdf_wanted: Mapped[bool] = mapped_column(default=False)
    list_changed_at: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]

    owner: Mapped[User] = relationship()
    published_revision: Mapped["AppealRevision | None"] = relationship(foreign_keys=[published_revision_id],
                                                                      post_update=True)

    def __init__(self, **kwargs):
        # Column defaults only apply at INSERT; state methods need the state before that.
        kwargs.setdefault("status", AppealStatus.DRAFT)
        kwargs.setdefault("revision_count", 0)
        for key, empty in (("addressees", []), ("demands", []), ("body", ""), ("subject", ""),
                           ("closing", ""), ("place", ""), ("senders", "")):
            kwargs.setdefault(key, empty)
        super().__init__(**kwargs)

    @property
    def is_open(self) -> bool:
        return self.status is AppealStatus.OPEN

    def content(self) -> dict:
        """Return the working copy of the text as a plain dict."""
        data = {k: getattr(self, k) for k in CONTENT_FIELDS}
        data["letter_date"] = self.letter_date.isoformat() if self.letter_date else None
        return data

    def apply_content(self, content: dict) -> None:
        """Replace the working copy of the text."""
        for key in CONTENT_FIELDS:
            if key in content:
                value = content[key]
                if key == "letter_date" and isinstance(value, str):
                    value = date.fromisoformat(value) if value else None
                setattr(self, key, value)

    @property
    def content_hash(self) -> str:
        """Hash of the text signers see: the published revision once there is one."""
        if "published_revision" not in self.__dict__ and self.published_revision_id is not None \
                and self.published_hash is not None:
            return self.published_hash  # read with the appeal (a sign request needs no revision row)
        if self.published_revision is not None:
            return self.published_revision.content_hash
        return content_hash(self.content())

    def add_revision(self, content: dict, author: User | None) -> "AppealRevision":
        """Keep `content` as the next numbered revision (the caller adds it to the session)."""
        self.ensure_editable()
        self.revision_count = (self.revision_count or 0) + 1
        return AppealRevision(appeal=self, number=self.revision_count, content=content,
                              content_hash=content_hash(content), author=author)

    def set_goal_and_deadline(self, goal: int | None, deadline_day: date | None) -> None:
        """Set the signature goal and the last day of signing (closing at the end of that day, UTC)."""
        self.signature_goal = goal
        self.deadline = datetime.combine(deadline_day, time(23, 59, 59)) if deadline_day else None

    def ensure_editable(self) -> None:
        """Refuse text changes once the appeal is closed (open appeals change through revisions)."""
        if self.status not in (AppealStatus.DRAFT, AppealStatus.OPEN):
            raise IllegalTransition(_l("This appeal is %(state)s and can no longer be edited.", state=self.status.label))

    def _move(self, target: AppealStatus) -> None:
        if target not in _TRANSITIONS[self.status]:
            raise IllegalTransition(_l("An appeal that is %(state)s cannot become %(target)s.", state=self.status.label, target=target.label))
        self.status = target

    def publish(self) -> None:
        """Open the appeal for signatures."""
        if self.status is not AppealStatus.DRAFT:
            raise IllegalTransition(_l("Only a draft can be published; this appeal is %(state)s.", state=self.status.label))
        if not (self.title or "").strip() or not (self.body or "").strip():
            raise IllegalTransition(_l("An appeal needs a title and a body before it can be published."))
        # Signers sign the newest saved revision; later edits wait until published explicitly.
        session = object_session(self)
        newest = None
        if session is not None and self.revision_count:
            newest = session.scalar(select(AppealRevision).where(
                AppealRevision.appeal_id == self.id, AppealRevision.number == self.revision_count))
        self.ensure_publishable(newest.content if newest is not None else self.content())
        self._move(AppealStatus.OPEN)
        self.published_at = utcnow()
        if newest is not None:
            self.published_revision = newest

    def publish_amendment(self, revision: "AppealRevision") -> None:
        """Make a newer saved revision the text that new signers sign."""
        if self.status is not AppealStatus.OPEN:
            raise IllegalTransition(_l("Amendments can only be published while the appeal is open."))
        if revision is None or revision.appeal_id != self.id or (
                self.published_revision is not None and revision.number <= self.published_revision.number):
            raise IllegalTransition(_l("There is no new revision to publish."))
        self.ensure_publishable(revision.content)
        self.published_revision = revision

    def ensure_publishable(self, content: dict) -> None:
        """Refuse to put a text before signers while the deadline has passed or template placeholders remain."""
        if self.is_past_deadline():
            raise IllegalTransition(_l("The deadline (%(day)s) has passed: move it to a later day or remove it "
                                       "in the editor, then publish.", day=format_date(self.deadline.date(), "long")))
        found = content_placeholders(content)
        if found:
            by_part: dict[str, list[str]] = {}
            for part, text in found:
                if text not in by_part.setdefault(part, []):
                    by_part[part].append(text)
            parts = list(by_part.items())
            listed = "; ".join(f"{part}: " + ", ".join(texts) for part, texts in parts[:5])
            if len(parts) > 5:
                raise IllegalTransition(_l("Replace the template placeholders before publishing (%(n)d left). "
                                           "%(listed)s; and in %(more)d more parts of the letter.",
                                           n=len(found), listed=listed, more=len(parts) - 5))
            raise IllegalTransition(_l("Replace the template placeholders before publishing (%(n)d left). "
                                       "%(listed)s.", n=len(found), listed=listed))

    def close(self) -> None:
        """Stop accepting signatures."""
        if self.status is not AppealStatus.OPEN:
            raise IllegalTransition(_l("Only an open appeal can be closed; this appeal is %(state)s.", state=self.status.label))
        self._move(AppealStatus.CLOSED)
        self.closed_at = utcnow()

    def reopen(self) -> None:
        """Accept signatures again after closing (e.g. a deadline was extended)."""
        if self.status is not AppealStatus.CLOSED:
            raise IllegalTransition(_l("Only a closed appeal can be reopened; this appeal is %(state)s.", state=self.status.label))
        if self.deadline is not None and self.deadline <= utcnow():
            raise IllegalTransition(_l("The deadline has passed; move it before reopening."))
        self._move(AppealStatus.OPEN)
        self.closed_at = None

    def mark_delivered(self) -> None:
        """Record that the final letter reached its addressees."""
        self._move(AppealStatus.DELIVERED)
        self.delivered_at = utcnow()

    def archive(self) -> None:
        """Retire the appeal from every active list."""
        self._move(AppealStatus.ARCHIVED)
        self.archived_at = utcnow()

    def is_past_deadline(self, now: datetime | None = None) -> bool:
        return self.deadline is not None and self.deadline <= (now or utcnow())


class AppealRevision(db.Model):
    """One saved state of an appeal's text; signatures point to the revision they signed."""

    __tablename__ = "appeal_revisions"
    __table_args__ = (UniqueConstraint("appeal_id", "number", name="uq_appeal_revisions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    appeal: Mapped[Appeal] = relationship(foreign_keys=[appeal_id])
    author: Mapped[User | None] = relationship()


# The published revision's hash, read in the appeal's own SELECT. Valid while the relationship is not loaded:
# whatever publishes sets `published_revision`, which content_hash then prefers.
Appeal.published_hash = column_property(
    select(AppealRevision.content_hash).where(AppealRevision.id == Appeal.published_revision_id)
    .correlate_except(AppealRevision).scalar_subquery())


class AppealTemplate(db.Model):
    """An organizer's own starting point for new appeals."""

    __tablename__ = "appeal_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
