"""Public pages: the list of open appeals, each appeal's page and its list of signatories, a page at a time.

Their cost does not grow with the list: counts come from the appeal's row, the appeal page shows the newest
signatories only, and the list is read by keyset. Readers who are not logged in get shared, revalidated copies
(petitions/cache.py); the sign form, with its CSRF token, is a page of its own (signing/views.py).
"""
from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.appeals.models import Appeal, AppealStatus
from petitions.appeals.services import close_if_due
from petitions.cache import appeal_state, etag_of, last_changed, public_response, recent_copy
from petitions.delivery.operations import public_lines
from petitions.extensions import db
from petitions.i18n import looks_like_language
from petitions.pdf import jobs
from petitions.signing.rules import BadCursor, latest_listed, listed_page, parse_cursor
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
@recent_copy
def index():
    """List the appeals open for signatures."""
    appeals = list(db.session.scalars(
        select(Appeal).where(Appeal.status == AppealStatus.OPEN).order_by(Appeal.published_at.desc())
    ))
    changed = max((last_changed(a) for a in appeals), default=None)
    return public_response(etag_of([(a.slug, a.title, *appeal_state(a)) for a in appeals]), changed,
                           lambda: render_template("public/index.html", appeals=appeals))


def page_context(appeal: Appeal, lang: str | None) -> dict:
    """Return what the appeal page shows besides its row and its list: the version read, deliveries, the PDF."""
    version = version_context(appeal, lang if lang is not None else request.args.get("lang"))
    return {**version, "delivered": public_lines(appeal),
            # The organizers make the first public PDF; until then a link would lead nowhere.
            "public_pdf": jobs.public_pdf_in_use(appeal)}


def render_appeal_page(appeal: Appeal, context: dict):
    """Render an appeal's public page: the letter, the counts, the newest signatories and the way to sign."""
    latest = latest_listed(appeal, "public_page", int(current_app.config["PUBLIC_LATEST_SIGNATORIES"]))
    page = render_template("public/appeal.html", appeal=appeal, signatories=latest, **context)
    return page, 200, {"Content-Language": context["html_lang"]}


@bp.get("/a/<slug>")
@recent_copy
def appeal(slug: str):
    """Show an appeal with its counts, newest signatories and a link to sign."""
    return _show(slug)


@bp.get("/a/<slug>/<lang>")
@recent_copy
def appeal_in(slug: str, lang: str):
    """Show one language version of an appeal (a stable link per language)."""
    if not looks_like_language(lang):
        abort(404)
    return _show(slug, lang)


def _show(slug: str, lang: str | None = None):
    appeal = public_appeal_or_404(slug)
    context = page_context(appeal, lang)
    page = public_response(etag_of(appeal_state(appeal), context), last_changed(appeal),
                           lambda: render_appeal_page(appeal, context))
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    return page


@bp.get("/a/<slug>/signatories")
@recent_copy
def signatories(slug: str):
    """Show the appeal's public list of signatories in confirmation order, a page at a time (?after=)."""
    appeal = public_appeal_or_404(slug)
    after = request.args.get("after") or None
    try:
        if after is not None:
            parse_cursor(after)
    except BadCursor:
        return render_template("public/message.html", appeal=appeal, title=_("This page of the list does not exist"),
                               message=_("The link to this page of signatories is broken. "
                                         "Start again from the first page.")), 400
    version = version_context(appeal, request.args.get("lang"))

    def render():
        page = listed_page(appeal, "public_page", after, int(current_app.config["SIGNATORIES_PAGE_SIZE"]))
        return (render_template("public/signatories.html", appeal=appeal, page=page, first=after is None, **version),
                200, {"Content-Language": version["html_lang"]})

    answer = public_response(etag_of(appeal_state(appeal), version["version_language"], version["content"]),
                             last_changed(appeal), render)
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    return answer
