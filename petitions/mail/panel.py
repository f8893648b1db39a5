"""What organizers see of an appeal's mail: counts per state and the signers whose confirmation failed."""
from dataclasses import dataclass

from sqlalchemy import select

from petitions.extensions import db
from petitions.mail.sending import counts_for, failed_signature_ids
from petitions.signing.models import Signature
from petitions.signing.rules import OrganizerView, for_organizers


@dataclass(frozen=True)
class MailPanel:
    queued: int
    sent: int
    failed: int
    unconfirmed_bounces: list[OrganizerView]  # signers whose confirmation mail failed for good


def mail_panel(appeal) -> MailPanel:
    """Return the appeal's mail counts and, through `for_organizers` (never an address), the bounced signers."""
    counts = counts_for(appeal.id)
    ids = failed_signature_ids(appeal.id, "confirm")
    signers = db.session.scalars(select(Signature).where(Signature.id.in_(ids)).order_by(Signature.id)) if ids else []
    return MailPanel(counts["queued"], counts["sent"], counts["failed"], [for_organizers(s) for s in signers])
