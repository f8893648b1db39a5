"""JSON errors for the API: {"error": {"status", "code", "message"}} with the matching HTTP status."""
import json
import logging

from flask import Response
from werkzeug.exceptions import HTTPException

from petitions.extensions import db

CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 429: "too_many_requests",
         500: "internal_error"}


class ApiError(Exception):
    """An error a client can act on."""

    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")


def as_json(body: dict, status: int = 200) -> Response:
    """Return UTF-8 JSON (names in any script stay readable)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), status=status,
                    mimetype="application/json")


def error_response(status: int, message: str, code: str | None = None, headers: dict | None = None):
    """Return the JSON body and status of an error."""
    response = as_json({"error": {"status": status, "code": code or CODES.get(status, "error"), "message": message}},
                       status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register(bp) -> None:
    """Make the blueprint answer every failure in JSON."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.code)

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        headers = {"Retry-After": exc.response.headers["Retry-After"]} \
            if exc.response is not None and "Retry-After" in exc.response.headers else None
        return error_response(exc.code or 500, exc.description or exc.name, headers=headers)

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception):
        logging.getLogger(__name__).exception("unhandled API error")
        db.session.rollback()
        return error_response(500, "Something went wrong on our side.")
