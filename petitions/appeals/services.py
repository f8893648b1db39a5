"""Write actions on appeals, called by the views and the CLI."""
import re
import secrets
import unicodedata

from anyascii import anyascii
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from petitions.appeals.models import (CONTENT_FIELDS, Appeal, AppealRevision, AppealStatus, AppealTemplate,
                                      IllegalTransition, content_hash)
from petitions.appeals.starters import BUILTIN, NAMES
from petitions.audit import record
from petitions.audit.models import AuditEvent
from petitions.auth.models import User
from petitions.extensions import db, utcnow
from petitions.http import parse_int
from petitions.members.models import AppealInvitation, AppealMember
from petitions.signing.models import Signature, SignatureStatus
from petitions.signing.names import LETTER_ALLOWED, refused_character
from petitions.signing.rules import counted_signatures, standing_clause
from petitions.translations.models import AppealTranslation


class EditConflict(Exception):
    """Someone saved the appeal since this editor loaded it."""

    def __init__(self, current: AppealRevision):
        super().__init__(f"Revision {current.number} was saved in the meantime.")
        self.current = current


class InvalidContent(ValueError):
    """A letter part holds a character that could break a mail header or hide what the text says."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# Parts that are one line wherever they go (mail subjects, PDF headings, addressee blocks).
SINGLE_LINE_PARTS = ("title", "subject", "place")
SINGLE_LINE_ADDRESSEE_PARTS = ("name", "title", "institution", "email", "salutation")


def letter_text_problem(value: str, single_line: bool) -> str | None:
    """Return why a letter part cannot be stored (the signer-name rule, letter variant), or None if it can."""
    bad = refused_character(value or "", single_line=single_line, allow=LETTER_ALLOWED)
    if bad is None:
        return None
    position, code, _what = bad
    if code == "line_break":
        return _("This field must be one line: remove the line break or tab at position %(n)d.", n=position)
    return _("This field contains an invisible or control character at position %(n)d, often left by copying "
             "and pasting. Please type it again.", n=position)


def check_content(content: dict) -> None:
    """Raise InvalidContent for the first letter part holding a refused character."""
    parts = [(key, content.get(key), key in SINGLE_LINE_PARTS)
             for key in ("title", "subject", "body", "closing", "place", "senders")]
    parts += [(f"demands-{i}", d, False) for i, d in enumerate(content.get("demands") or [])]
    for i, addressee in enumerate(content.get("addressees") or []):
        parts += [(f"addressees-{i}-{k}", v, k in SINGLE_LINE_ADDRESSEE_PARTS) for k, v in addressee.items()]
    for field, value, single_line in parts:
        problem = letter_text_problem(value if isinstance(value, str) else "", single_line)
        if problem:
            raise InvalidContent(field, problem)


def slugify(title: str) -> str:
    """Make a URL slug from a title in any script."""
    # English usage writes Azerbaijani ə as "a" (Məmmədov → Mammadov); anyascii would give "e".
    title = unicodedata.normalize("NFC", title).replace("ə", "a").replace("Ə", "A")
    ascii_title = anyascii(title).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60].strip("-")
    return slug or "appeal"


def _unique_slug(title: str) -> str:
    base = slugify(title)
    slug = base
    while db.session.scalar(select(Appeal.id).where(Appeal.slug == slug)) is not None:
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def addressees_from_lines(text: str) -> list[dict]:
    """Turn one addressee per line into the structured list."""
    return [{"name": line.strip()} for line in (text or "").splitlines() if line.strip()]


def normalize_content(content: dict) -> dict:
    """Trim the text parts and fill in missing ones, so equal letters hash equally."""
    out = {key: content.get(key) for key in CONTENT_FIELDS}
    for key in ("title", "subject", "body", "closing", "place", "senders"):
        out[key] = (out[key] or "").strip()
    out["addressees"] = [
        {k: (v or "").strip() for k, v in a.items() if (v or "").strip()} for a in (out["addressees"] or [])
    ]
    out["addressees"] = [a for a in out["addressees"] if a]
    out["demands"] = [d.strip() for d in (out["demands"] or []) if d and d.strip()]
    out["letter_date"] = str(out["letter_date"]) if out["letter_date"] else None
    return out


def create_appeal(owner: User, content: dict, slug: str | None = None, language: str = "en") -> Appeal:
    """Create a draft appeal owned by this organizer, with its first revision."""
    content = normalize_content(content)
    check_content(content)
    appeal = Appeal(owner=owner, title=content["title"], slug=slug or _unique_slug(content["title"]),
                    original_language=language)
    appeal.apply_content(content)
    db.session.add(appeal)
    db.session.flush()
    _new_revision(appeal, owner, content)
    return appeal


def start_appeal(owner: User, content: dict, goal: int | None = None, deadline_day=None) -> Appeal:
    """Create a draft from the organizer's editor, with its goal and deadline, and record it."""
    appeal = create_appeal(owner, content)
    appeal.set_goal_and_deadline(goal, deadline_day)
    record("created", appeal, actor=owner, revision=1)
    return appeal


def save_draft(appeal: Appeal, author: User, content: dict, *, base_revision: int | None, goal: int | None,
               deadline_day, automatic: bool = False) -> AppealRevision | None:
    """Save the editor's text (a revision if it changed), goal and deadline; record a new revision."""
    saved = save_text(appeal, author, content, base_revision=base_revision)
    appeal.set_goal_and_deadline(goal, deadline_day)
    if saved is not None:
        flag = {"automatic": True} if automatic else {}
        record("saved", appeal, actor=author, revision=saved.number, **flag)
    return saved


def _new_revision(appeal: Appeal, author: User | None, content: dict) -> AppealRevision:
    revision = appeal.add_revision(content, author)
    db.session.add(revision)
    db.session.flush()
    return revision


def latest_revision(appeal: Appeal) -> AppealRevision | None:
    """Return the newest saved revision."""
    return db.session.scalar(
        select(AppealRevision).where(AppealRevision.appeal_id == appeal.id, AppealRevision.number == appeal.revision_count)
    )


def save_text(appeal: Appeal, author: User, content: dict, base_revision: int | None = None) -> AppealRevision | None:
    """Save a new text as a revision; refuse if someone saved since `base_revision`. None if unchanged."""
    appeal.ensure_editable()
    if base_revision is not None and base_revision != appeal.revision_count:
        raise EditConflict(latest_revision(appeal))
    content = normalize_content(content)
    check_content(content)
    current = latest_revision(appeal)
    if current is not None and current.content_hash == content_hash(content):
        return None
    appeal.apply_content(content)
    return _new_revision(appeal, author, content)


def update_appeal(appeal: Appeal, title: str, addressees: str, body: str, author: User | None = None) -> Appeal:
    """Change title, addressees (one per line) and body, keeping the other parts."""
    content = appeal.content() | {"title": title, "addressees": addressees_from_lines(addressees), "body": body}
    save_text(appeal, author or appeal.owner, content)
    return appeal


def publish_appeal(appeal: Appeal) -> None:
    """Open a draft for signatures; signers sign its newest revision."""
    appeal.publish()


def close_appeal(appeal: Appeal) -> None:
    """Stop collecting signatures."""
    appeal.close()


def signature_counts(appeal_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count signatures per appeal and status in two queries that read no confirmed signature."""
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in SignatureStatus} for i in appeal_ids}
    if not appeal_ids:
        return counts
    # The confirmed ones that stand are what counts, kept on the appeal (signing/rules.py); the others are few.
    for appeal_id, confirmed in db.session.execute(
            select(Appeal.id, Appeal.signature_count).where(Appeal.id.in_(appeal_ids))):
        counts[appeal_id][SignatureStatus.CONFIRMED.value] = confirmed
    rows = db.session.execute(
        select(Signature.appeal_id, Signature.status, func.count())
        .where(Signature.appeal_id.in_(appeal_ids), standing_clause(),
               Signature.status.in_([SignatureStatus.PENDING, SignatureStatus.WITHDRAWN]))
        .group_by(Signature.appeal_id, Signature.status)
    )
    for appeal_id, status, n in rows:
        counts[appeal_id][status.value] = n
    return counts


# --- lifecycle -------------------------------------------------------------------------------------

def set_goal_and_deadline(appeal: Appeal, goal: int | None, deadline_day) -> None:
    """Set the signature goal and the last day of signing (closing at the end of that day, UTC)."""
    appeal.set_goal_and_deadline(goal, deadline_day)


def close_if_due(appeal: Appeal, now=None) -> bool:
    """Close an open appeal whose deadline has passed; return whether it was closed."""
    if appeal.status is AppealStatus.OPEN and appeal.is_past_deadline(now):
        appeal.close()
        record("closed_by_deadline", appeal, actor=None, deadline=str(appeal.deadline))
        return True
    return False


def close_due(now=None) -> list[Appeal]:
    """Close every open appeal past its deadline (for a scheduler)."""
    now = now or utcnow()
    due = list(db.session.scalars(
        select(Appeal).where(Appeal.status == AppealStatus.OPEN, Appeal.deadline.is_not(None), Appeal.deadline <= now)
    ))
    return [a for a in due if close_if_due(a, now)]


def transition(appeal: Appeal, action: str, actor: User) -> None:
    """Apply a lifecycle action by name and record it."""
    moves = {"publish": publish_appeal, "close": close_appeal, "reopen": Appeal.reopen, "archive": Appeal.archive}
    if action not in moves:
        raise IllegalTransition(f"Unknown action {action!r}.")
    moves[action](appeal)
    record(action, appeal, actor=actor, status=appeal.status.value)


def delete_draft(appeal: Appeal, actor: User) -> None:
    """Delete a draft and everything that hangs on it; signed appeals are archived, never deleted."""
    if appeal.status is not AppealStatus.DRAFT:
        raise IllegalTransition(_("Only drafts can be deleted; archive an appeal that people signed."))
    # Explicit deletes: SQLite does not enforce ON DELETE CASCADE unless told to, and batch
    # migrations must not run with foreign keys on.
    db.session.execute(update(Appeal).where(Appeal.id == appeal.id).values(published_revision_id=None))
    for model in (AuditEvent, AppealInvitation, AppealMember, AppealTranslation, Signature, AppealRevision):
        db.session.execute(delete(model).where(model.appeal_id == appeal.id))
    db.session.delete(appeal)


# --- revisions -------------------------------------------------------------------------------------

def revisions(appeal: Appeal) -> list[AppealRevision]:
    """Return all revisions, newest first."""
    return list(db.session.scalars(
        select(AppealRevision).where(AppealRevision.appeal_id == appeal.id).order_by(AppealRevision.number.desc())
    ))


def revision(appeal: Appeal, number: int) -> AppealRevision | None:
    """Return one revision by its number."""
    return db.session.scalar(
        select(AppealRevision).where(AppealRevision.appeal_id == appeal.id, AppealRevision.number == number)
    )


def restore_revision(appeal: Appeal, number: int, actor: User) -> AppealRevision | None:
    """Make an old revision's text the newest revision (history is never rewritten)."""
    old = revision(appeal, number)
    if old is None:
        raise LookupError(f"There is no revision {number}.")
    new = save_text(appeal, actor, dict(old.content))
    record("restored", appeal, actor=actor, revision=number)
    return new


def has_unpublished_changes(appeal: Appeal) -> bool:
    """Tell whether an open appeal has a saved amendment that signers do not see yet."""
    return appeal.published_revision_id is not None and appeal.revision_count > appeal.published_revision.number


def publish_revision(appeal: Appeal, actor: User) -> AppealRevision:
    """Make the newest revision the text that new signers sign."""
    appeal.publish_amendment(latest_revision(appeal))
    record("published_revision", appeal, actor=actor, revision=appeal.revision_count)
    return appeal.published_revision


def signatures_by_revision(appeal: Appeal) -> list[tuple[AppealRevision | None, list[Signature]]]:
    """Group the signatures that count by the revision they signed, newest revision first."""
    return group_by_revision(appeal, counted_signatures(appeal))


def group_by_revision(appeal: Appeal, entries: list) -> list[tuple[AppealRevision | None, list]]:
    """Group signatures or listed entries (anything with revision_id) by revision, newest first."""
    groups: dict[int | None, list] = {}
    for entry in entries:
        groups.setdefault(entry.revision_id, []).append(entry)
    revs = {r.id: r for r in revisions(appeal)}
    ordered = sorted(groups, key=lambda rid: -(revs[rid].number if rid in revs else 0))
    return [(revs.get(rid), groups[rid]) for rid in ordered]


# --- templates -------------------------------------------------------------------------------------

def save_as_template(appeal: Appeal, owner: User, name: str):
    """Keep the appeal's text as a starting point for the organizer's next appeals."""
    template = AppealTemplate(owner_id=owner.id, name=name.strip(), content=normalize_content(appeal.content()))
    db.session.add(template)
    return template


def starting_points(user: User) -> list[tuple[str, str]]:
    """Return (key, name) of the built-in templates and the user's own."""
    own = db.session.scalars(select(AppealTemplate).where(AppealTemplate.owner_id == user.id)
                             .order_by(AppealTemplate.created_at.desc()))
    return [(key, NAMES.get(key, t["name"])) for key, t in BUILTIN.items()] + [(f"own-{t.id}", t.name) for t in own]


def starting_content(key: str, user: User) -> dict | None:
    """Return the content of a starting point the user may use, or None."""
    if key in BUILTIN:
        return dict(BUILTIN[key]["content"])
    template_id = parse_int(key[4:]) if key.startswith("own-") else None
    if template_id is not None:
        template = db.session.get(AppealTemplate, template_id)
        if template is not None and template.owner_id == user.id:
            return dict(template.content)
    return None

