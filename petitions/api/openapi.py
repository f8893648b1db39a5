"""The OpenAPI 3.1 document, made with apispec from the routes, their `operation` notes and the marshmallow schemas."""
import inspect
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from petitions.api import schemas

TITLE = "Petitions API"
VERSION = "1.0.0"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
ERROR_TEXT = {400: "Bad query or malformed JSON.", 401: "Missing, malformed, unknown or revoked token.",
              403: "The token lacks the scope, or its user the role.", 404: "No such (public) appeal.",
              405: "Method not allowed.", 409: "The appeal no longer collects signatures.",
              413: "The body is too large.", 415: "The body is not application/json.",
              422: "The body does not validate: unknown fields, wrong types, missing or refused values.",
              429: "Too many requests: wait for Retry-After seconds."}


def query(name: str, kind: str, description: str, **schema) -> dict:
    """Return a query parameter's description."""
    return {"in": "query", "name": name, "required": False, "description": description,
            "schema": {"type": kind, **schema}}


def operation(*, summary: str, tags: list[str], response, errors=(), status: int = 200, body=None, parameters=(),
              scope=None, optional_auth: bool = False, cached: bool = False, csv: bool = False):
    """Note how a view appears in the OpenAPI document (its docstring gives the description)."""

    def note(view):
        view._openapi = {"summary": summary, "tags": tags, "response": response, "errors": tuple(errors),
                         "status": status, "body": body, "parameters": list(parameters), "scope": scope,
                         "optional_auth": optional_auth, "cached": cached, "csv": csv}
        return view

    return note


def _note_of(view):
    while view is not None:
        if hasattr(view, "_openapi"):
            return view._openapi
        view = getattr(view, "__wrapped__", None)
    return None


def _operation(view, note: dict, arguments: list[str]) -> dict:
    problem = {"application/problem+json": {"schema": "Problem"}}
    ok = {"application/json": {"schema": note["response"]}}
    if note["csv"]:
        ok["text/csv"] = {"schema": {"type": "string"}}
    responses = {str(note["status"]): {"description": "OK" if note["status"] == 200 else "Accepted", "content": ok}}
    if note["cached"]:
        responses["304"] = {"description": "Not modified: the copy named in If-None-Match is current."}
    for code in sorted(set(note["errors"]) | {405, 429}):
        responses[str(code)] = {"description": ERROR_TEXT.get(code, "Error"), "content": problem}
    doc = inspect.cleandoc(view.__doc__ or "")
    result = {"summary": note["summary"], "description": doc, "tags": note["tags"], "responses": responses,
              "operationId": view.__name__,
              "parameters": [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
                             for name in arguments] + note["parameters"]}
    if note["body"] is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": note["body"]}}}
    if note["scope"] is not None:
        result["security"] = [{"bearerAuth": [note["scope"].value]}]
        result["description"] += f"\n\nNeeds a token with the scope `{note['scope'].value}`."
    elif note["optional_auth"]:
        result["security"] = [{}, {"bearerAuth": ["signatures:import"]}]
    else:
        result["security"] = [{}]
    return result


def build(app: Flask) -> dict:
    """Return the OpenAPI 3.1 document of the API's routes in this app."""
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.1.0", plugins=[MarshmallowPlugin()], info={
        "description": "Public appeals, their counts and signatory lists, signing, and organizer reads with a "
                       "personal access token (Authorization: Bearer). Errors are RFC 9457 problem documents."},
        servers=[{"url": "/"}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "A personal access token from /account/tokens."})
    spec.components.schema("Problem", schema=schemas.Problem)
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        note = _note_of(view) if rule.endpoint.startswith("api_v1.") else None
        if note is None:
            continue
        path = _ARGUMENT.sub(lambda m: "{" + m.group(1) + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, note, sorted(rule.arguments))
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def spec_for(app: Flask) -> dict:
    """Return the document, built once per app (routes do not change once it serves)."""
    if "api_openapi" not in app.extensions:
        app.extensions["api_openapi"] = build(app)
    return app.extensions["api_openapi"]
