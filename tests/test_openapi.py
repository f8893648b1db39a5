"""The OpenAPI 3.1 document is made from the code and true: schemathesis drives every operation in-process (WSGI)
with bounded, derandomized examples, without and with a valid token; no answer is a server error, and every
answer's status, content type and body conform to the document."""
import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from petitions.api import tokens
from petitions.api.tokens import Scope
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Signature, Visibility

from .conftest import new_appeal

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def seeded(smtp_app):
    """An open appeal with listed, addressee-only and anonymous signers, a draft, and an all-scope token."""
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Stop the trials", "UN", "Text.")
    appeal.publish()
    draft = new_appeal(owner, "Our draft", "UN", "Text.")
    for i, visibility in enumerate([Visibility.PUBLIC, Visibility.ADDRESSEES, Visibility.ANONYMOUS] * 2):
        sig = Signature(appeal=appeal, full_name=f"Signer {i}", affiliation="Lawyer", email_hash=f"{i:064d}",
                        text_hash=appeal.content_hash, consent_at=appeal.created_at, visibility=visibility,
                        language="fr" if i % 2 else "en")
        sig.confirm()
        db.session.add(sig)
    _, secret = tokens.create(owner, "Everything", [s.value for s in Scope])
    db.session.commit()
    return {"app": smtp_app, "slugs": [appeal.slug, draft.slug], "secret": secret}


OPERATIONS = [("GET", "/api/v1/appeals"), ("GET", "/api/v1/appeals/{slug}"), ("GET", "/api/v1/appeals/{slug}/counts"),
              ("GET", "/api/v1/appeals/{slug}/signatures"), ("POST", "/api/v1/appeals/{slug}/signatures"),
              ("GET", "/api/v1/organizer/appeals/{slug}"), ("GET", "/api/v1/organizer/appeals/{slug}/signatures"),
              ("GET", "/api/v1/organizer/appeals/{slug}/export")]


def _exercise(case, seeded, headers):
    case.call_and_validate(headers=headers, checks=CHECKS)
    if "slug" in (case.path_parameters or {}):  # a generated slug is almost never real: the real ones too
        for slug in seeded["slugs"]:
            case.path_parameters = {**case.path_parameters, "slug": slug}
            case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_conforms(seeded, method, path, with_token):
    # The schemathesis pytest plugin's lazy fixtures do not run on this pytest: the same loop, driven directly.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded["app"])
    headers = {"Authorization": f"Bearer {seeded['secret']}"} if with_token else None
    calls = []

    @given(case=schema[path][method].as_strategy())
    @EXAMPLES
    def run(case):
        if not with_token and case.headers:
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        _exercise(case, seeded, headers)
        calls.append(case)

    run()
    assert len(calls) >= 5  # the examples really ran


def test_the_mutations_of_a_broken_api_would_be_caught(seeded):
    """Guard against a check that cannot fail: an answer outside the document is reported."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", seeded["app"])
    case = schema["/api/v1/appeals/{slug}"]["GET"].Case(path_parameters={"slug": seeded["slugs"][0]})
    response = case.call()
    assert response.status_code == 200 and response.json()["slug"] == seeded["slugs"][0]
    case.call_and_validate(checks=CHECKS)
    wrong = copy.deepcopy(schema.raw_schema)
    wrong["components"]["schemas"]["AppealOut"]["properties"]["title"] = {"type": "integer"}
    broken = schemathesis.openapi.from_dict(wrong)
    broken_case = broken["/api/v1/appeals/{slug}"]["GET"].Case(path_parameters={"slug": seeded["slugs"][0]})
    with pytest.raises(FailureGroup, match="violates schema"):
        broken_case.validate_response(response, checks=CHECKS)


def test_the_document_is_openapi_3_1_and_made_from_the_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/appeals", "/api/v1/appeals/{slug}", "/api/v1/appeals/{slug}/counts",
            "/api/v1/appeals/{slug}/signatures", "/api/v1/organizer/appeals/{slug}",
            "/api/v1/organizer/appeals/{slug}/signatures", "/api/v1/organizer/appeals/{slug}/export"} \
        == set(spec["paths"])
    body = spec["components"]["schemas"]["SignatureIn"]
    assert body["additionalProperties"] is False and {"full_name", "email", "consent"} <= set(body["required"])
    assert spec["paths"]["/api/v1/appeals/{slug}/signatures"]["post"]["responses"]["422"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_page_is_served_here_from_the_document(client):
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "POST /api/v1/appeals/{slug}/signatures" in page and "signatures:import" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page  # nothing third-party
