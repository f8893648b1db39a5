"""Write actions on appeals, called by the views and the CLI."""
import re
import secrets
import unicodedata

from anyascii import anyascii
from sqlalchemy import func, select

from ..auth.models import User
from ..extensions import db
from ..signatures.models import Review, Signature, SignatureStatus
from .models import CONTENT_FIELDS, Appeal, AppealRevision, AppealStatus, IllegalTransition, content_hash


class EditConflict(Exception):
    """Someone saved the appeal since this editor loaded it."""

    def __init__(self, current: AppealRevision):
        super().__init__(f"Revision {current.number} was saved in the meantime.")
        self.current = current


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
    appeal = Appeal(owner=owner, title=content["title"], slug=slug or _unique_slug(content["title"]),
                    original_language=language)
    appeal.apply_content(content)
    db.session.add(appeal)
    db.session.flush()
    _new_revision(appeal, owner, content)
    return appeal


def _new_revision(appeal: Appeal, author: User | None, content: dict) -> AppealRevision:
    appeal.revision_count = (appeal.revision_count or 0) + 1
    revision = AppealRevision(appeal=appeal, number=appeal.revision_count, content=content,
                              content_hash=content_hash(content), author=author)
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
    appeal.published_revision = latest_revision(appeal)


def close_appeal(appeal: Appeal) -> None:
    """Stop collecting signatures."""
    appeal.close()


def confirmed_signatures(appeal: Appeal) -> list[Signature]:
    """Return the confirmed signatures in the order they confirmed."""
    return list(
        db.session.scalars(
            select(Signature)
            .where(Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.CONFIRMED,
                   Signature.review != Review.REJECTED, Signature.merged_into_id.is_(None))
            .order_by(Signature.confirmed_at, Signature.id)
        )
    )


def signature_counts(appeal_ids: list[int]) -> dict[int, dict[str, int]]:
    """Count signatures per appeal and status in one query."""
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in SignatureStatus} for i in appeal_ids}
    if not appeal_ids:
        return counts
    rows = db.session.execute(
        select(Signature.appeal_id, Signature.status, func.count())
        .where(Signature.appeal_id.in_(appeal_ids), Signature.review != Review.REJECTED,
               Signature.merged_into_id.is_(None))
        .group_by(Signature.appeal_id, Signature.status)
    )
    for appeal_id, status, n in rows:
        counts[appeal_id][status.value] = n
    return counts


__all__ = ["IllegalTransition", "AppealStatus", "EditConflict"]
