"""Import every model so that Alembic's autogenerate sees the whole schema."""
from petitions.appeals.models import Appeal, AppealRevision, AppealStatus, AppealTemplate  # noqa: F401
from petitions.audit.models import AuditEvent  # noqa: F401
from petitions.auth.models import User  # noqa: F401
from petitions.members.models import AppealInvitation, AppealMember, Role  # noqa: F401
from petitions.registry.models import Organization, OrganizationDomain  # noqa: F401
from petitions.signing.models import Level, Review, Signature, SignatureStatus, Visibility  # noqa: F401
from petitions.pdf.models import PdfDocument, PdfJob, PdfSettings  # noqa: F401
from petitions.signatories.models import DuplicatePair  # noqa: F401
from petitions.translations.models import AppealTranslation  # noqa: F401
from petitions.updates.models import Announcement  # noqa: F401
from petitions.delivery.models import Delivery, DeliveryReply  # noqa: F401
from petitions.mail.models import OutboxMessage  # noqa: F401
from petitions.jobs.models import Job  # noqa: F401
from petitions.signing.abuse import DomainAllowance  # noqa: F401
from petitions.api.tokens import ApiToken  # noqa: F401
