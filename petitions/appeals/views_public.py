"""Public pages: the front page (search, filters, pages), each appeal's page, its share page and image, its list.

Their cost does not grow with the list: counts come from the appeal's row, the appeal page shows the newest
signatories only, and the list is read by keyset. Readers who are not logged in get shared, revalidated copies
(petitions/cache.py); the sign form, with its CSRF token, is a page of its own (signing/views.py).
"""
import math

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, or_, select

from petitions.appeals import share_image, sharing
from petitions.appeals.models import Appeal, AppealStatus
from petitions.appeals.services import close_if_due
from petitions.cache import appeal_state, etag_of, last_changed, public_response, recent_copy
from petitions.delivery.operations import public_lines
from petitions.extensions import db, utcnow
from petitions.http import arg_int
from petitions.i18n import VERSION_LANGUAGES, looks_like_language, native_name
from petitions.pdf import jobs
from petitions.security import content_security_policy
from petitions.signing.rules import BadCursor, latest_listed, listed_page, parse_cursor
from petitions.translations import services as translations
from petitions.translations.models import AppealTranslation
from petitions.translations.public import signing_language, version_context
from petitions.urls import external_url

bp = Blueprint("public", __name__)


# Built once: every sign, confirm-page and page request starts with it, and building it cost as much as running it.
_BY_SLUG = select(Appeal).where(Appeal.slug == bindparam("slug"))


def public_appeal_or_404(slug: str) -> Appeal:
    """Return an appeal that the public may see (drafts stay private), closed if its deadline has passed.

    Deadlines are enforced on access too, so a missed scheduler run never keeps signing open; the close is
    kept when the view commits (the public page does), else the next request closes it again.
    """
    appeal = db.session.scalar(_BY_SLUG, {"slug": slug})
    if appeal is None or appeal.status is AppealStatus.DRAFT:
        abort(404)
    close_if_due(appeal)
    return appeal


# What the front page may list, by the name its status filter uses.
BROWSE_STATUSES = {"open": AppealStatus.OPEN, "closed": AppealStatus.CLOSED, "delivered": AppealStatus.DELIVERED}


def browse_filters() -> dict:
    """Return the front page's search, language, status and page from the query string, each within bounds."""
    typed = request.args.get("q") or ""  # never NUL: petitions/http.py refuses it in any query string
    limit = int(current_app.config["BROWSE_QUERY_MAX_CHARS"])
    language = request.args.get("language") or ""
    status = request.args.get("status") or "open"
    return {"q": " ".join(typed[:limit].split()), "shortened": len(typed) > limit,
            "language": language if language in VERSION_LANGUAGES else "",
            "status": status if status in BROWSE_STATUSES else "open",
            "page": arg_int("page", 1, int(current_app.config["BROWSE_MAX_PAGE"])) or 1}


def browse(filters: dict, size: int) -> tuple[list[Appeal], bool]:
    """Return one page of appeals matching the filters, newest first, and whether another page follows."""
    query = select(Appeal).where(Appeal.status == BROWSE_STATUSES[filters["status"]])
    if filters["q"]:
        query = query.where(or_(*(column.icontains(filters["q"], autoescape=True)
                                  for column in (Appeal.title, Appeal.subject, Appeal.body))))
    if filters["language"]:
        published = exists().where(  # an approved translation of the text signers sign (never an outdated one)
            AppealTranslation.appeal_id == Appeal.id, AppealTranslation.language == filters["language"],
            AppealTranslation.approved_at.is_not(None),
            AppealTranslation.source_revision_id == Appeal.published_revision_id)
        query = query.where(or_(Appeal.original_language == filters["language"], published))
    rows = list(db.session.scalars(query.order_by(Appeal.published_at.desc(), Appeal.id.desc())
                                   .offset((filters["page"] - 1) * size).limit(size + 1)))
    return rows[:size], len(rows) > size


@bp.get("/")
@recent_copy
def index():
    """List the appeals open for signatures (or closed, delivered), searched and filtered, a page at a time."""
    filters = browse_filters()
    appeals, more = browse(filters, int(current_app.config["BROWSE_PAGE_SIZE"]))
    changed = max((last_changed(a) for a in appeals), default=None)
    languages = [(code, native_name(code)) for code in VERSION_LANGUAGES]
    return public_response(etag_of([(a.slug, a.title, *appeal_state(a)) for a in appeals], filters, more), changed,
                           lambda: render_template("public/index.html", appeals=appeals, filters=filters,
                                                   more=more, languages=languages,
                                                   statuses=list(BROWSE_STATUSES)))


def page_context(appeal: Appeal, lang: str | None) -> dict:
    """Return what the appeal page shows besides its row and its list: the version read, deliveries, the PDF."""
    version = version_context(appeal, lang if lang is not None else request.args.get("lang"))
    return {**version, "delivered": public_lines(appeal),
            # The organizers make the first public PDF; until then a link would lead nowhere.
            "public_pdf": jobs.public_pdf_in_use(appeal),
            **at_a_glance(appeal, version["content"]), **share_context(appeal, version)}


def at_a_glance(appeal: Appeal, content: dict) -> dict:
    """Return the deadline with the days left and the addressees' names, for the top of the page."""
    # Each name in the language it is written in: an untranslated one is the original's (as in the letter).
    untranslated, original = set(content.get("untranslated") or ()), content.get("original_language")
    glance = {"addressed_to": [
        [(a[key], original if f"addressees.{i}.{key}" in untranslated else None)
         for key in ("name", "institution") if a.get(key)]
        for i, a in enumerate(content.get("addressees") or []) if a.get("name") or a.get("institution")]}
    if appeal.deadline is not None:
        today = utcnow().date()
        # Days, not hours: the page (and its ETag, made of this) changes once a day.
        glance.update(deadline=appeal.deadline, today=today.isoformat(),
                      days_left=max((appeal.deadline.date() - today).days, 0))
    return glance


def share_context(appeal: Appeal, version: dict) -> dict:
    """Return the page's canonical address, its share links, its description and its share image."""
    language, title = version["version_language"], version["content"].get("title") or appeal.title
    canonical = external_url("public.appeal_in", slug=appeal.slug, lang=language)
    key = share_image.image_key(share_image.texts(appeal, title, language), language)
    return {"canonical": canonical, "share_title": title, "share_links": sharing.share_links(canonical, title),
            "description": sharing.description(version["content"]), "og_locale": sharing.og_locale(language),
            "og_alternates": [sharing.og_locale(v["code"]) for v in version["versions"] if not v["current"]],
            # The image's key in its address: a site that keeps previews fetches the new image when it changes.
            "share_image": external_url("public.share_image", slug=appeal.slug, lang=language, v=key),
            "share_image_size": (share_image.WIDTH, share_image.HEIGHT)}


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


@bp.get("/a/<slug>/share.png", endpoint="share_image")
def share_image_png(slug: str):
    """Send the appeal's share image (Open Graph, Twitter card) in a language version (?lang=)."""
    appeal = public_appeal_or_404(slug)
    language = signing_language(appeal)  # the version ?lang= names, else the original
    path, key = share_image.share_image(appeal, translations.localized_title(appeal, language), language)
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    if key in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        response = send_file(path, mimetype="image/png", conditional=False, etag=False)
    response.set_etag(key)
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['SHARE_IMAGE_MAX_AGE'])}"
    return response


@bp.route("/a/<slug>/share", methods=["GET", "POST"])
def share(slug: str):
    """Offer every way to share the appeal; the Mastodon form sends the reader to their own instance."""
    appeal = public_appeal_or_404(slug)
    version = version_context(appeal, request.args.get("lang"))
    context = share_context(appeal, version)
    form = sharing.MastodonForm()
    if form.validate_on_submit():
        db.session.commit()
        host = sharing.instance_host(form.instance.data)
        return redirect(sharing.mastodon_url(host, context["canonical"], context["share_title"]), 303)
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    page = render_template("public/share.html", appeal=appeal, form=form, **version, **context)
    # Its form carries a CSRF token: this page is the reader's own, never a shared copy. Browsers hold the
    # redirect after a POST to form-action too: this one form may lead to an https instance (the check above).
    policy = content_security_policy(None, "'none'").replace("form-action 'self'", "form-action 'self' https:")
    return page, 422 if form.errors else 200, {"Cache-Control": "no-store", "Content-Language": version["html_lang"],
                                               "Content-Security-Policy": policy}


@bp.app_template_global("embed_generator")
def embed_generator(appeal: Appeal) -> dict:
    """Return the organizer page's embed generator: the choices read from its query string and the snippet."""
    languages = translations.published_languages(appeal)
    options = sharing.embed_options(request.args, languages)
    return {"options": options, "languages": [(code, native_name(code)) for code in languages],
            "code": sharing.embed_code(appeal.slug, options)}


@bp.app_template_filter("number")
def number(value: int) -> str:
    """Write a number the interface language's way ("1,234", "1 234")."""
    return format_decimal(value)


@bp.app_template_filter("percent")
def percent(value: float) -> str:
    """Write a share as a whole percentage the interface language's way ("25%", "25 %")."""
    # Down, not to the nearest: 99.6% of the goal is not yet "100%".
    return format_percent(math.floor(min(value, 9.99) * 100) / 100, "#,##0%")
