"""Public pages: the list of open appeals and each appeal's page with its sign form."""
from flask import Blueprint, abort, render_template
from sqlalchemy import select

from ..extensions import db
from ..signatures.forms import SignForm
from .models import Appeal, AppealStatus
from ..privacy.visibility import counted_total, counted_totals, listed_signatures

bp = Blueprint("public", __name__)


def public_appeal_or_404(slug: str) -> Appeal:
    """Return an appeal that the public may see (drafts stay private)."""
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None or appeal.status is AppealStatus.DRAFT:
        abort(404)
    # Deadlines are enforced on access too, so a missed scheduler run never keeps signing open.
    from .services import close_if_due

    if close_if_due(appeal):
        db.session.commit()
    return appeal


@bp.get("/")
def index():
    """List the appeals open for signatures."""
    appeals = list(db.session.scalars(
        select(Appeal).where(Appeal.status == AppealStatus.OPEN).order_by(Appeal.published_at.desc())
    ))
    counts = counted_totals([a.id for a in appeals])
    return render_template("public/index.html", appeals=appeals, counts=counts)


def render_appeal_page(appeal: Appeal, form: SignForm | None = None, status: int = 200):
    """Render an appeal's public page, with a sign form that may carry errors."""
    # Signers see the published revision, never an unpublished amendment.
    content = appeal.published_revision.content if appeal.published_revision else appeal.content()
    page = render_template("public/appeal.html", appeal=appeal, content=content,
                           form=form or SignForm(appeal=appeal), confirmed=counted_total(appeal),
                           signatories=listed_signatures(appeal, "public_page"))
    return page, status


@bp.get("/a/<slug>")
def appeal(slug: str):
    """Show an appeal with its sign form."""
    return render_appeal_page(public_appeal_or_404(slug))
