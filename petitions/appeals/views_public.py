"""Public pages: the list of open appeals and each appeal's page with its sign form."""
from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

from petitions.appeals.models import Appeal, AppealStatus
from petitions.appeals.services import close_if_due
from petitions.extensions import db
from petitions.i18n import looks_like_language
from petitions.pdf import jobs
from petitions.signing.forms import SignForm
from petitions.signing.rules import counted_organizations, counted_total, counted_totals, listed_signatures
from petitions.translations.public import version_context

bp = Blueprint("public", __name__)


def public_appeal_or_404(slug: str) -> Appeal:
    """Return an appeal that the public may see (drafts stay private), closed if its deadline has passed.

    Deadlines are enforced on access too, so a missed scheduler run never keeps signing open; the close is
    kept when the view commits (the public page does), else the next request closes it again.
    """
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None or appeal.status is AppealStatus.DRAFT:
        abort(404)
    close_if_due(appeal)
    return appeal


@bp.get("/")
def index():
    """List the appeals open for signatures."""
    appeals = list(db.session.scalars(
        select(Appeal).where(Appeal.status == AppealStatus.OPEN).order_by(Appeal.published_at.desc())
    ))
    counts = counted_totals([a.id for a in appeals])
    return render_template("public/index.html", appeals=appeals, counts=counts)


def render_appeal_page(appeal: Appeal, form: SignForm | None = None, status: int = 200, lang: str | None = None):
    """Render an appeal's public page, with a sign form that may carry errors."""
    # Signers see the published revision (never an unpublished amendment), in the version the URL names.
    version = version_context(appeal, lang if lang is not None else request.args.get("lang"))
    page = render_template("public/appeal.html", appeal=appeal, form=form or SignForm(appeal=appeal),
                           confirmed=counted_total(appeal), signatories=listed_signatures(appeal, "public_page"),
                           organizations=counted_organizations(appeal),
                           # The organizers make the first public PDF; until then a link would lead nowhere.
                           public_pdf=jobs.public_pdf_in_use(appeal), **version)
    return page, status, {"Vary": "Accept-Language", "Content-Language": version["html_lang"]}


@bp.get("/a/<slug>")
def appeal(slug: str):
    """Show an appeal with its sign form."""
    return _show(slug)


@bp.get("/a/<slug>/<lang>")
def appeal_in(slug: str, lang: str):
    """Show one language version of an appeal (a stable link per language)."""
    if not looks_like_language(lang):
        abort(404)
    return _show(slug, lang)


def _show(slug: str, lang: str | None = None):
    page = render_appeal_page(public_appeal_or_404(slug), lang=lang)
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    return page
