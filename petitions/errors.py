"""Error pages: every failure gets a clear page and the right status, never a bare 500."""
import logging
import math

from flask import Flask, Response, has_request_context, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from petitions.extensions import db
from petitions.ratelimit import retry_after

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please log in."),
    403: _l("You are not allowed to do this."),
    404: _l("There is nothing here. The link may be wrong, or the page was removed."),
    405: _l("This page does not accept that kind of request."),
    409: _l("This conflicts with the current state."),
    410: _l("This link has expired."),
    413: _l("What you sent is too large."),
    422: _l("Some fields need attention."),
    429: _l("Too many requests. Please wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you entered was lost; please try again."),
}


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return page(_l("Form expired"), _l("The form was missing its security token or it expired. "
                                             "Go back, reload the page and submit again."), 400)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        if code == 429 and exc.response is not None:
            return exc.response  # the view's own over-the-limit page (the sign form again, filled in)
        headers = dict(exc.get_headers()) | (dict(exc.response.headers) if exc.response is not None else {})
        # A description of our own says what to fix; werkzeug's stock one says less than our generic line.
        own = exc.description != type(exc).description
        message = exc.description if own else MESSAGES.get(code, exc.description)
        if code == 429:
            # X-RateLimit headers are off (RATELIMIT_HEADERS_ENABLED: two storage reads per request), so the
            # wait is said here.
            headers.setdefault("Retry-After", str(retry_after() or 60))
            message = too_many(headers["Retry-After"])
        response = page(f"{code} {exc.name}", message, code)
        # Keep what the client needs to act on the error (the methods allowed, when to retry).
        for key in ("Allow", "Retry-After"):
            if key in headers:
                response.headers[key] = headers[key]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        try:
            db.session.rollback()
        except Exception:  # a broken connection must not hide the error page
            log.exception("rollback failed")
        return page(_l("Error"), MESSAGES[500], 500)


def too_many(retry_after) -> str:
    """Say when to try again after a rate limit, and that going back keeps what was typed."""
    try:
        minutes = max(1, math.ceil(int(retry_after) / 60))
    except (TypeError, ValueError):
        return str(MESSAGES[429])
    return ngettext("Too many requests. Please try again in %(num)d minute. Going back in your browser keeps "
                    "what you typed.", "Too many requests. Please try again in %(num)d minutes. Going back in "
                    "your browser keeps what you typed.", minutes)


def page(title, message, code: int) -> Response:
    """Render the error page without reading the request body; if even that fails, answer in plain text."""
    _forget_body()
    try:
        return make_response(render_template("public/message.html", title=title, message=message), code)
    except Exception:
        log.exception("the error page for %s failed", code)
    try:
        text = f"{title}\n\n{message}\n"
    except Exception:  # a broken translation catalog
        text = f"{code}\n"
    return Response(text, status=code, mimetype="text/plain")


def _forget_body() -> None:
    """Let the page's own forms (the logout button) see an empty body instead of parsing this one again."""
    if not has_request_context():
        return
    # Parsing a too-large, truncated or malformed body fails again each time it is tried.
    if "form" not in request.__dict__ or "files" not in request.__dict__:
        request.form = ImmutableMultiDict()
        request.files = ImmutableMultiDict()
    request._cached_json = (None, None)
