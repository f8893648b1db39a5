"""The audit log: who changed what, and who looked at or exported personal data."""
from sqlalchemy import select

from petitions.appeals.models import Appeal
from petitions.audit.models import AuditEvent
from petitions.extensions import db


def record(action: str, appeal: Appeal | None = None, *, actor, **detail) -> AuditEvent:
    """Add an audit event to the current transaction (it is kept only if the request commits).

    The caller names the actor: a user, or None for the system or a signer acting through a mailed link.
    """
    event = AuditEvent(appeal_id=appeal.id if appeal is not None else None,
                       actor_id=actor.id if actor is not None else None, action=action, detail=detail)
    db.session.add(event)
    return event


def events_for(appeal: Appeal, limit: int = 500) -> list[AuditEvent]:
    """Return the newest events of an appeal."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.appeal_id == appeal.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
    ))
