"""What organizers see of an appeal's mail: counts per state and kind, and the signers whose confirmation failed."""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.sending import counts_by_kind, failed_signature_ids
from petitions.signing.models import Signature
from petitions.signing.rules import OrganizerView, for_organizers

# The outbox's kinds that belong to an appeal, as organizers read them, in this order; another shows as it is.
KIND_LABELS = {
    "confirm": _l("Confirmation links"),
    "already_signed": _l("“Already signed” notes"),
    "reminder": _l("Reminders"),
    "import_invitation": _l("Invitations of imported signers"),
    "reconfirm": _l("Re-confirmations after an amendment"),
    "update_delivered": _l("Updates: delivered"),
    "update_replied": _l("Updates: reply received"),
    "invitation": _l("Co-organizer invitations"),
    "cover": _l("Cover mails to addressees"),
}


@dataclass(frozen=True)
class KindCounts:
    label: str
    queued: int
    sent: int
    failed: int


@dataclass(frozen=True)
class MailPanel:
    queued: int
    sent: int
    failed: int
    unconfirmed_bounces: list[OrganizerView]  # signers whose confirmation mail failed for good
    by_kind: list[KindCounts]


def mail_panel(appeal) -> MailPanel:
    """Return the appeal's mail counts and, through `for_organizers` (never an address), the bounced signers."""
    kinds = counts_by_kind(appeal.id)
    order = list(KIND_LABELS) + sorted(set(kinds) - set(KIND_LABELS))
    by_kind = [KindCounts(str(KIND_LABELS.get(kind, kind)), **kinds[kind]) for kind in order if kind in kinds]
    ids = failed_signature_ids(appeal.id, "confirm")
    signers = db.session.scalars(select(Signature).where(Signature.id.in_(ids)).order_by(Signature.id)) if ids else []
    return MailPanel(sum(k.queued for k in by_kind), sum(k.sent for k in by_kind), sum(k.failed for k in by_kind),
                     [for_organizers(s) for s in signers], by_kind)
