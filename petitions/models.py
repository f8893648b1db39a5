"""Import every model so that Alembic's autogenerate sees the whole schema."""
from .appeals.models import Appeal, AppealStatus  # noqa: F401
from .auth.models import User  # noqa: F401
from .signatures.models import Signature, SignatureStatus  # noqa: F401
from .pdf.models import PdfDocument, PdfJob, PdfSettings  # noqa: F401
