"""Record who looked at or took away signatories' personal data (owners read it on the audit page)."""
from .. import audit
from ..appeals.models import Appeal

VIEWED = "personal_data.viewed"
EXPORTED = "personal_data.exported"
PERSONAL_DATA_ACTIONS = (VIEWED, EXPORTED, "signature.corrected_by_signer", "signature.erased_by_signer")


def viewed(appeal: Appeal, what: str, **detail) -> None:
    """Note that the current organizer saw signatories' data (e.g. the list with addressee-only names)."""
    audit.record(VIEWED, appeal, what=what, **detail)


def exported(appeal: Appeal, what: str, **detail) -> None:
    """Note that the current organizer downloaded signatories' data (PDF for addressees, CSV, ...)."""
    audit.record(EXPORTED, appeal, what=what, **detail)
