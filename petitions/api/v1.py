"""API v1: appeals and their public signatory lists (exactly what the public page shows).

Every answer costs the same however long the list is: counts come from the appeal's row and the list is read
a page at a time by keyset. GET answers carry an ETag, Last-Modified and a short public max-age, and answer
304 to a client that revalidates its copy.
"""
from flask import Blueprint, current_app, request
from sqlalchemy import select

from petitions.cache import appeal_state, etag_of, last_changed, public_response, recent_copy
from petitions.extensions import db
from petitions.ratelimit import limiter
from petitions.http import MAX_ID, parse_int
from petitions.appeals.models import Appeal, AppealStatus
from petitions.signing.rules import BadCursor, listed_page, parse_cursor
from petitions.urls import external_url
from petitions.api import errors
from petitions.api.errors import ApiError, as_json

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
errors.register(bp)
MAX_LIMIT = 500


def _api_limit():
    return current_app.config["API_RATE_LIMIT"]


limiter.limit(_api_limit)(bp)


def _public_appeal(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None or appeal.status is AppealStatus.DRAFT:
        raise ApiError(404, f"No public appeal with the slug {slug!r}.")
    return appeal


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw, low=-MAX_ID)
    if value is None:
        raise ApiError(400, f"{name} must be a whole number.")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}.")
    return value


@bp.get("/appeals/<slug>")
@recent_copy
def appeal(slug: str):
    """Return an appeal's state and counts: total (every signature that counts), listed (named publicly)."""
    appeal = _public_appeal(slug)
    total, listed = appeal.signature_count, appeal.public_count
    return public_response(etag_of(appeal_state(appeal), appeal.slug, appeal.title), last_changed(appeal),
                           lambda: as_json({
                               "slug": appeal.slug,
                               "title": appeal.title,
                               "status": appeal.status.value,
                               "url": external_url("public.appeal", slug=appeal.slug),
                               "published_at": _iso(appeal.published_at),
                               "closed_at": _iso(appeal.closed_at),
                               "signatures": {"total": total, "listed": listed, "not_listed": total - listed,
                                              "organizations": appeal.organization_count},
                               "links": {"signatures": external_url("api_v1.signatures", slug=appeal.slug)},
                           }))


@bp.get("/appeals/<slug>/signatures")
@recent_copy
def signatures(slug: str):
    """Return the public signatory list in confirmation order, a page at a time.

    Query: `limit` (1-500, default 100) entries per page; `after`, the cursor of the page before. Follow the
    answer's `next` link (absent on the last page) rather than building cursors: they are opaque.
    """
    appeal = _public_appeal(slug)
    limit = _int_arg("limit", 100, 1, MAX_LIMIT)
    if request.args.get("offset") is not None:
        raise ApiError(400, "offset is not supported: follow the next link, which carries an after cursor.")
    after = request.args.get("after") or None
    try:
        if after is not None:
            parse_cursor(after)
    except BadCursor:
        raise ApiError(400, "after must be a cursor from a next link of this list.") from None

    def render():
        page = listed_page(appeal, "api", after, limit)
        body = {"appeal": appeal.slug, "total": appeal.signature_count, "listed": appeal.public_count,
                "limit": limit, "after": after, "signatures": [e.as_json() for e in page.entries]}
        if page.after is not None:
            body["next"] = external_url("api_v1.signatures", slug=appeal.slug, after=page.after, limit=limit)
        return as_json(body)

    return public_response(etag_of(appeal_state(appeal), appeal.slug), last_changed(appeal), render)


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    """Answer unknown API paths, and writes to this read-only API, in JSON."""
    adapter = current_app.url_map.bind("")
    try:
        endpoint, _ = adapter.match(request.path, method="GET")
    except Exception:
        endpoint = None
    if endpoint and endpoint != "api_v1.not_found" and request.method != "GET":
        return errors.error_response(405, "This API is read-only: use GET.", headers={"Allow": "GET, HEAD"})
    raise ApiError(404, "There is no such API resource.")
