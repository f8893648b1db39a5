"""API v1: public appeals, counts, signatory lists and signing; organizer reads and exports with a token.

Every answer costs the same however long the list is: counts come from the appeal's row and the list is read
a page at a time by keyset. Public GET answers carry an ETag, Last-Modified and a short public max-age, answer
304 to a client that revalidates its copy, and allow any origin (CORS); nothing else does.
"""
import json

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge

from petitions.api import errors, openapi, schemas
from petitions.api.errors import ApiError, as_json
from petitions.api.tokens import Scope, find
from petitions.appeals.models import Appeal, AppealStatus
from petitions.cache import appeal_state, etag_of, last_changed, public_response, recent_copy
from petitions.extensions import db, utcnow
from petitions.http import MAX_ID, parse_int
from petitions.mail.addresses import InvalidAddress, check_address
from petitions.members.access import can
from petitions.privacy import accesslog
from petitions.ratelimit import limiter
from petitions.signatories import export as exporting
from petitions.signing import abuse, names, operations
from petitions.signing.models import Signature, SignatureStateError
from petitions.signing.rules import BadCursor, counting_clause, listed_page, offered_choices, parse_cursor
from petitions.translations.services import published_languages
from petitions.urls import external_url

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
errors.register(bp)
MAX_LIMIT = 500
PUBLIC_STATUSES = (AppealStatus.OPEN, AppealStatus.CLOSED, AppealStatus.DELIVERED)
# Endpoints any web page may read (CORS): public data only, never with credentials.
PUBLIC_READS = {"api_v1.appeals", "api_v1.appeal", "api_v1.counts", "api_v1.signatures", "api_v1.openapi_json"}
USED_AGAIN_AFTER = 60  # seconds: a token's last use is written at most this often
LIST_ARGS = {"limit", "after", "q", "status", "language"}


def _api_limit():
    return current_app.config["API_RATE_LIMIT"]


def _sign_limit():
    return current_app.config["SIGN_RATE_LIMIT"]


def _import_limit():
    return current_app.config["API_IMPORT_RATE_LIMIT"]


def _with_token() -> bool:
    return "Authorization" in request.headers


limiter.limit(_api_limit)(bp)


@bp.before_request
def _bound_body():
    """Refuse bodies larger than API_MAX_BODY_BYTES (413), announced or streamed."""
    limit = current_app.config["API_MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(_("A request body may hold at most %(limit)s bytes.", limit=limit))
    request.max_content_length = limit


@bp.after_request
def _cors(response: Response) -> Response:
    """Let any origin read the public GET endpoints (and preflight them); no other endpoint."""
    wanted = request.headers.get("Access-Control-Request-Method", "GET") if request.method == "OPTIONS" \
        else request.method
    if wanted in ("GET", "HEAD") and _endpoint_for(request.path, "GET") in PUBLIC_READS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Retry-After"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since, Accept"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _endpoint_for(path: str, method: str) -> str | None:
    try:
        endpoint, _arguments = current_app.url_map.bind("").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        return None
    except Exception:  # a redirect or another routing answer: no endpoint of this API
        return None
    return endpoint


def _public_appeal(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    if appeal is None or appeal.status not in PUBLIC_STATUSES:
        raise ApiError(404, _("No public appeal has the slug %(slug)s.", slug=slug))
    return appeal


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw, low=-MAX_ID)
    if value is None:
        raise ApiError(400, _("%(name)s must be a whole number.", name=name))
    if not low <= value <= high:
        raise ApiError(400, _("%(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high))
    return value


def _after_arg() -> str | None:
    after = request.args.get("after") or None
    if after is not None:
        try:
            parse_cursor(after)
        except BadCursor:
            raise ApiError(400, _("after must be a cursor from a next link of this list.")) from None
    return after


def _appeal_json(appeal: Appeal) -> dict:
    total, listed = appeal.signature_count, appeal.public_count
    return {
        "slug": appeal.slug, "title": appeal.title, "status": appeal.status.value,
        "language": appeal.original_language,
        "url": external_url("public.appeal", slug=appeal.slug),
        "published_at": _iso(appeal.published_at), "closed_at": _iso(appeal.closed_at),
        "visibility_choices": offered_choices(appeal),
        "signatures": {"total": total, "listed": listed, "not_listed": total - listed,
                       "organizations": appeal.organization_count},
        "links": {"signatures": external_url("api_v1.signatures", slug=appeal.slug),
                  "counts": external_url("api_v1.counts", slug=appeal.slug)},
    }


def _private(body: dict, status: int = 200) -> Response:
    response = as_json(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- tokens ---------------------------------------------------------------------------------------------------

def _token():
    """Return the request's active token, or None without an Authorization header (401: a bad one)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, secret = header.partition(" ")
    token = find(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApiError(401, _("The bearer token is malformed, unknown or revoked."), "invalid_token",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > USED_AGAIN_AFTER:
        token.last_used_at = now
    return token


def _authorized(slug: str, scope: Scope):
    """Return (token, appeal) if the request's token may act with `scope` on this appeal, else a problem."""
    token = _token()
    if token is None:
        raise ApiError(401, _("This endpoint needs an Authorization: Bearer token."), "missing_token",
                       headers={"WWW-Authenticate": "Bearer"})
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    # An appeal the token's user does not organize stays hidden while it is a draft, as on the organizer pages.
    if appeal is None or (appeal.status not in PUBLIC_STATUSES and not can(appeal, token.user, "view")):
        raise ApiError(404, _("This token finds no appeal with the slug %(slug)s.", slug=slug))
    if not token.has_scope(scope):
        raise ApiError(403, _("This token lacks the scope %(scope)s.", scope=scope.value), "insufficient_scope",
                       headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope.value}"'})
    if not token.allows(appeal, scope):
        raise ApiError(403, _("The token's user may not do this on this appeal."), "forbidden")
    return token, appeal


# --- public reads ---------------------------------------------------------------------------------------------

@bp.get("/appeals")
@openapi.operation(summary="List public appeals", tags=["public"], response=schemas.AppealList, errors=(400,),
                   parameters=[openapi.query("limit", "integer", "Appeals per page (1-100, default 20).",
                                             minimum=1, maximum=100),
                               openapi.query("after", "string", "The cursor of the page before (from next)."),
                               openapi.query("q", "string", "Words in the title.", maxLength=200),
                               openapi.query("status", "string", "Only appeals in this state.",
                                             enum=[s.value for s in PUBLIC_STATUSES]),
                               openapi.query("language", "string", "Only appeals written in this language.",
                                             maxLength=16)])
def appeals():
    """Return the public appeals (open, closed, delivered), newest first, a page at a time."""
    limit = _int_arg("limit", 20, 1, 100)
    query = select(Appeal).where(Appeal.status.in_(PUBLIC_STATUSES))
    after = request.args.get("after") or None
    if after is not None:
        last = parse_int(after)
        if last is None:
            raise ApiError(400, _("after must be a cursor from a next link of this list."))
        query = query.where(Appeal.id < last)
    status = request.args.get("status")
    if status:
        if status not in {s.value for s in PUBLIC_STATUSES}:
            raise ApiError(400, _("status must be open, closed or delivered."))
        query = query.where(Appeal.status == AppealStatus(status))
    language = request.args.get("language")
    if language:
        query = query.where(Appeal.original_language == language[:16])
    words = (request.args.get("q") or "").strip()
    if len(words) > 200:
        raise ApiError(400, _("q may hold at most 200 characters."))
    if words:
        query = query.where(func.lower(Appeal.title).contains(words.lower(), autoescape=True))
    found = list(db.session.scalars(query.order_by(Appeal.id.desc()).limit(limit + 1)))
    body = {"appeals": [_appeal_json(a) for a in found[:limit]], "limit": limit, "after": after}
    if len(found) > limit:
        args = {k: v for k, v in request.args.items() if k in LIST_ARGS and k != "after"}
        body["next"] = external_url("api_v1.appeals", **args, after=str(found[limit - 1].id))
    response = as_json(body)
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_MAX_AGE'])}"
    return response


@bp.get("/appeals/<slug>")
@recent_copy
@openapi.operation(summary="Read a public appeal", tags=["public"], response=schemas.AppealOut, errors=(404,),
                   cached=True)
def appeal(slug: str):
    """Return an appeal's state and counts: total (every signature that counts), listed (named publicly)."""
    appeal = _public_appeal(slug)
    return public_response(etag_of(appeal_state(appeal), appeal.slug, appeal.title), last_changed(appeal),
                           lambda: as_json(_appeal_json(appeal)))


def language_counts(appeal: Appeal) -> dict[str, int]:
    """Return the counted signatures per language version read (one row per language of the appeal)."""
    rows = db.session.execute(select(Signature.language, func.count()).where(
        Signature.appeal_id == appeal.id, counting_clause()).group_by(Signature.language))
    return {language: count for language, count in rows}


@bp.get("/appeals/<slug>/counts")
@recent_copy
@openapi.operation(summary="Counts of an appeal, per language too", tags=["public"], response=schemas.CountsOut,
                   errors=(404,), cached=True)
def counts(slug: str):
    """Return the totals from the appeal's row and the counted signatures per language version read.

    The per-language GROUP BY runs only when the list changed: the answer is kept under an ETag made of the
    appeal's list version, so readers in between get the kept copy or a 304.
    """
    appeal = _public_appeal(slug)

    def render():
        total, listed = appeal.signature_count, appeal.public_count
        return as_json({"appeal": appeal.slug, "total": total, "listed": listed, "not_listed": total - listed,
                        "organizations": appeal.organization_count, "by_language": language_counts(appeal)})

    return public_response(etag_of(appeal_state(appeal), appeal.slug, "counts"), last_changed(appeal), render)


@bp.get("/appeals/<slug>/signatures")
@recent_copy
@openapi.operation(summary="The public signatory list", tags=["public"], response=schemas.SignaturePage,
                   errors=(400, 404), cached=True, parameters=[
                       openapi.query("limit", "integer", "Entries per page (1-500, default 100).", minimum=1,
                                     maximum=MAX_LIMIT),
                       openapi.query("after", "string", "The cursor of the page before: follow next.")])
def signatures(slug: str):
    """Return the public signatory list in confirmation order, a page at a time.

    Query: `limit` (1-500, default 100) entries per page; `after`, the cursor of the page before. Follow the
    answer's `next` link (absent on the last page) rather than building cursors: they are opaque.
    """
    appeal = _public_appeal(slug)
    limit = _int_arg("limit", 100, 1, MAX_LIMIT)
    if request.args.get("offset") is not None:
        raise ApiError(400, _("offset is not supported: follow the next link, which carries an after cursor."))
    after = _after_arg()

    def render():
        page = listed_page(appeal, "api", after, limit)
        body = {"appeal": appeal.slug, "total": appeal.signature_count, "listed": appeal.public_count,
                "limit": limit, "after": after, "signatures": [e.as_json() for e in page.entries]}
        if page.after is not None:
            body["next"] = external_url("api_v1.signatures", slug=appeal.slug, after=page.after, limit=limit)
        return as_json(body)

    return public_response(etag_of(appeal_state(appeal), appeal.slug), last_changed(appeal), render)


# --- signing --------------------------------------------------------------------------------------------------

def _json_body() -> object:
    """Return the parsed JSON body (415 if it is not JSON, 400 if it is malformed)."""
    if not request.is_json:
        raise ApiError(415, _("Send the body as application/json."))
    try:
        # Not request.get_json: the site-wide Request takes JSON as form fields (text only), this body has booleans.
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        raise ApiError(400, _("The body is not valid JSON.")) from None


def _invalid(errors_by_field: dict) -> ApiError:
    return ApiError(422, _("The body does not describe a valid signature."), errors={
        field: [str(m) for m in (messages if isinstance(messages, list) else [messages])]
        for field, messages in errors_by_field.items()})


@bp.post("/appeals/<slug>/signatures")
@limiter.shared_limit(_sign_limit, scope="sign", exempt_when=_with_token)
@limiter.limit(_import_limit, exempt_when=lambda: not _with_token())
@openapi.operation(summary="Submit a signature", tags=["public", "organizer"], body=schemas.SignatureIn,
                   response=schemas.Accepted, status=202, errors=(400, 401, 403, 404, 409, 413, 415, 422, 429),
                   optional_auth=True)
def submit_signature(slug: str):
    """Take a signature as the sign form does and mail its confirmation link; it counts once confirmed.

    Without a token anyone may sign (the sign form's rate limit, one budget with the form). With a token of
    scope signatures:import, an organizer's system submits signers of an appeal its user may moderate.
    """
    token = _token()
    data = _json_body()
    try:
        signer = schemas.SignatureIn().load(data)
    except ValidationError as exc:
        raise _invalid(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}) from None
    if token is not None:
        token, appeal = _authorized(slug, Scope.SIGN_IMPORT)
    else:
        appeal = _public_appeal(slug)
    if not appeal.is_open:
        raise ApiError(409, _("This appeal no longer collects signatures."), "signing_closed")
    try:
        email = check_address(signer.pop("email"))
    except InvalidAddress as exc:
        raise _invalid({"email": [str(exc)]}) from None
    signer.pop("consent")
    visibility = signer.get("visibility")
    if visibility is not None and visibility not in offered_choices(appeal):
        raise _invalid({"visibility": [_("Choose one of: %(choices)s.", choices=", ".join(offered_choices(appeal)))]})
    language = signer.pop("language") or appeal.original_language
    if language not in published_languages(appeal):
        raise _invalid({"language": [_("Choose one of: %(choices)s.", choices=", ".join(published_languages(appeal)))]})
    if token is None:  # the form's per-domain limit; an organizer's import is reviewed instead
        try:
            abuse.check_signer(appeal, email)
        except abuse.SignLimitExceeded as exc:
            raise ApiError(429, _("Too many signatures from this e-mail domain for now: try again later."),
                           headers={"Retry-After": str(exc.retry_after)}) from None
    try:
        outcome = operations.sign(appeal, email=email, language=language, **signer)
    except names.InvalidName as exc:
        raise _invalid({"full_name": [str(exc)]}) from None
    except SignatureStateError as exc:
        raise _invalid({"_schema": [str(exc)]}) from None
    except operations.SigningClosed as exc:
        raise ApiError(409, str(exc), "signing_closed") from None
    if token is not None and outcome.created:
        outcome.signature.source = "api"  # the organizer's system: an import channel, reviewed like one
    db.session.commit()
    return _private({"status": "pending", "message": _("Check your e-mail: the signature counts once the link "
                                                       "in it is followed.")}, 202)


# --- organizer endpoints --------------------------------------------------------------------------------------

@bp.get("/organizer/appeals/<slug>")
@openapi.operation(summary="Read an appeal you organize (drafts too)", tags=["organizer"],
                   response=schemas.AppealOut, errors=(401, 403, 404), scope=Scope.READ_APPEAL)
def organizer_appeal(slug: str):
    """Return an appeal the token's user organizes, whatever its state."""
    _token_used, appeal = _authorized(slug, Scope.READ_APPEAL)
    body = _appeal_json(appeal)
    db.session.commit()  # the token's last use
    return _private(body)


@bp.get("/organizer/appeals/<slug>/signatures")
@openapi.operation(summary="Signatories as organizers see them", tags=["organizer"],
                   response=schemas.OrganizerSignaturePage, errors=(400, 401, 403, 404),
                   scope=Scope.READ_SIGNATORIES, parameters=[
                       openapi.query("limit", "integer", "Entries per page (1-500, default 100).", minimum=1,
                                     maximum=MAX_LIMIT),
                       openapi.query("after", "string", "The cursor of the page before: follow next.")])
def organizer_signatures(slug: str):
    """Return every counted signatory organizers may see (addressee-only names too), never an e-mail address."""
    _token_used, appeal = _authorized(slug, Scope.READ_SIGNATORIES)
    limit = _int_arg("limit", 100, 1, MAX_LIMIT)
    after = _after_arg()
    page = listed_page(appeal, "export", after, limit)
    body = {"appeal": appeal.slug, "total": appeal.signature_count, "listed": appeal.public_count, "limit": limit,
            "after": after, "signatures": [entry.as_json() | {
                "id": entry.signature_id, "visibility": entry.visibility, "level": entry.level,
                "confirmed_at": _iso(entry.confirmed_at)} for entry in page.entries]}
    if page.after is not None:
        body["next"] = external_url("api_v1.organizer_signatures", slug=appeal.slug, after=page.after, limit=limit)
    db.session.commit()  # the token's last use
    return _private(body)


@bp.get("/organizer/appeals/<slug>/export")
@openapi.operation(summary="Export the signatories (audited)", tags=["organizer"], response=schemas.ExportOut,
                   errors=(400, 401, 403, 404), scope=Scope.EXPORT, csv=True, parameters=[
                       openapi.query("format", "string", "json (default) or csv: the organizer page's CSV.",
                                     enum=["json", "csv"])])
def export(slug: str):
    """Return the signatory export the organizer pages offer, as JSON or CSV; the export is audited."""
    token, appeal = _authorized(slug, Scope.EXPORT)
    wanted = request.args.get("format") or "json"
    if wanted not in ("json", "csv"):
        raise ApiError(400, _("format must be json or csv."))
    accesslog.signatories_exported(appeal, actor=token.user, rows=exporting.row_count(appeal), via="api",
                                   token=token.prefix)
    db.session.commit()
    if wanted == "csv":
        return Response(stream_with_context(exporting.csv_chunks(appeal)), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{appeal.slug}-signatories.csv"',
            "Cache-Control": "no-store"})
    header, *rows = exporting.rows(appeal)
    return _private({"appeal": appeal.slug, "columns": header, "rows": rows})


# --- the description ------------------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_json():
    """Return the OpenAPI 3.1 description of this API, made from the code."""
    response = as_json(openapi.spec_for(current_app))
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_MAX_AGE'])}"
    return response


@bp.get("/docs")
def docs():
    """Show the API's documentation, rendered on the server from the OpenAPI document."""
    return render_template("api/docs.html", spec=openapi.spec_for(current_app))


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    """Answer unknown API paths, and methods a resource does not take, with a problem document."""
    allowed = [m for m in ("GET", "POST") if _endpoint_for(request.path, m) not in (None, "api_v1.not_found")]
    if allowed:
        allowed += ["HEAD", "OPTIONS"] if "GET" in allowed else ["OPTIONS"]
        return errors.error_response(405, _("This resource takes %(methods)s.", methods=", ".join(allowed)),
                                     headers={"Allow": ", ".join(allowed)})
    raise ApiError(404, _("There is no such API resource."))
