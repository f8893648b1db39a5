"""API errors as RFC 9457 problem documents: application/problem+json with type, title, status, detail, code."""
import json
import logging

from flask import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from petitions.extensions import db
from petitions.ratelimit import retry_after

PROBLEM_TYPE = "application/problem+json"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
         422: "invalid_body", 429: "too_many_requests", 500: "internal_error"}


class ApiError(Exception):
    """An error a client can act on."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None,
                 errors: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.code = code or CODES.get(status, "error")
        self.headers = headers or {}
        self.errors = errors


def as_json(body: dict, status: int = 200, mimetype: str = "application/json") -> Response:
    """Return UTF-8 JSON (names in any script stay readable)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status, mimetype=mimetype)


def error_response(status: int, message: str, code: str | None = None, headers: dict | None = None,
                   errors: dict | None = None) -> Response:
    """Return the problem document of an error with its status."""
    code = code or CODES.get(status, "error")
    body = {"type": f"about:blank#{code}" if status in CODES else "about:blank",
            "title": HTTP_STATUS_CODES.get(status, "Error"), "status": status, "detail": str(message), "code": code}
    if errors:
        body["errors"] = errors
    response = as_json(body, status, PROBLEM_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register(bp) -> None:
    """Make the blueprint answer every failure with a problem document."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.code, exc.headers, exc.errors)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        headers = {key: exc.response.headers[key] for key in ("Retry-After", "Allow")
                   if exc.response is not None and key in exc.response.headers}
        if exc.code == 429:
            headers.setdefault("Retry-After", str(retry_after() or 60))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(exc.code or 500, exc.description or exc.name, headers=headers)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        logging.getLogger(__name__).exception("unhandled API error")
        db.session.rollback()
        return error_response(500, "Something went wrong on our side.")
