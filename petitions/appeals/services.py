"""Write actions on appeals, called by the views and the CLI."""
import re
import secrets
import unicodedata

from anyascii import anyascii
from sqlalchemy import func, select

from ..auth.models import User
from ..extensions import db
from ..signatures.models import Signature, SignatureStatus
from .models import Appeal


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


def create_appeal(owner: User, title: str, addressees: str, body: str, slug: str | None = None) -> Appeal:
    """Create a draft appeal owned by this organizer."""
    appeal = Appeal(
        owner=owner, title=title.strip(), addressees=addressees.strip(), body=body.strip(),
        slug=slug or _unique_slug(title),
    )
    db.session.add(appeal)
    db.session.flush()
    return appeal


def update_appeal(appeal: Appeal, title: str, addressees: str, body: str) -> Appeal:
    """Change the text of a draft."""
    appeal.ensure_editable()
    appeal.title, appeal.addressees, appeal.body = title.strip(), addressees.strip(), body.strip()
    return appeal


def publish_appeal(appeal: Appeal) -> None:
    """Open a draft for signatures."""
    appeal.publish()


def close_appeal(appeal: Appeal) -> None:
    """Stop collecting signatures."""
    appeal.close()


def confirmed_signatures(appeal: Appeal) -> list[Signature]:
    """Return the confirmed signatures in the order they confirmed."""
    return list(
        db.session.scalars(
            select(Signature)
            .where(Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.CONFIRMED)
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
        .where(Signature.appeal_id.in_(appeal_ids))
        .group_by(Signature.appeal_id, Signature.status)
    )
    for appeal_id, status, n in rows:
        counts[appeal_id][status.value] = n
    return counts
