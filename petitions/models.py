"""Import every model so that Alembic's autogenerate sees the whole schema."""
from petitions.appeals.models import (  # noqa: F401
    Appeal, AppealInvitation, AppealMember, AppealRevision, AppealStatus, AppealTemplate, AppealTranslation,
    AuditEvent, Role,
)
from petitions.auth.models import User  # noqa: F401
from petitions.registry.models import Organization, OrganizationDomain  # noqa: F401
from petitions.signing.models import Level, Review, Signature, SignatureStatus, Visibility  # noqa: F401
from petitions.pdf.models import PdfDocument, PdfJob, PdfSettings  # noqa: F401
from petitions.signatories.models import DuplicatePair  # noqa: F401
