"""Import every model so that Alembic's autogenerate sees the whole schema."""
from .appeals.models import (  # noqa: F401
    Appeal, AppealInvitation, AppealMember, AppealRevision, AppealStatus, AppealTemplate, AppealTranslation,
    AuditEvent, Role,
)
from .auth.models import User  # noqa: F401
from .organizations.models import Organization, OrganizationDomain  # noqa: F401
from .signatures.models import Level, Review, Signature, SignatureStatus, Visibility  # noqa: F401
from .pdf.models import PdfDocument, PdfJob, PdfSettings  # noqa: F401
from .review.models import DuplicatePair  # noqa: F401
