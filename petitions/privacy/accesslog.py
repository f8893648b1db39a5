"""Record who looked at or took away signatories' personal data (owners read it on the audit page)."""
from petitions import audit
from petitions.appeals.models import Appeal

VIEWED = "personal_data.viewed"
EXPORTED = "personal_data.exported"
SIGNATORIES_EXPORTED = "signatories.exported"
PERSONAL_DATA_ACTIONS = (VIEWED, EXPORTED, SIGNATORIES_EXPORTED, "signature.corrected_by_signer", "signature.erased_by_signer")


def viewed(appeal: Appeal, what: str, *, actor, **detail) -> None:
    """Note that an organizer saw signatories' data (e.g. the list with addressee-only names)."""
    audit.record(VIEWED, appeal, actor=actor, what=what, **detail)


def exported(appeal: Appeal, what: str, *, actor, **detail) -> None:
    """Note that an organizer (None: the command line) took signatories' data away (PDF for addressees, CSV, ...)."""
    audit.record(EXPORTED, appeal, actor=actor, what=what, **detail)


def signatories_exported(appeal: Appeal, *, actor, rows: int, via: str, **detail) -> None:
    """Note that the signatory CSV left the app, from the web (an organizer) or the command line (None)."""
    audit.record(SIGNATORIES_EXPORTED, appeal, actor=actor, rows=rows, via=via, **detail)
