"""CSRF: every state-changing route, enumerated from the URL map, refuses a POST without this session's token."""
import pytest
from flask import make_response
from flask_wtf.csrf import CSRFError

from petitions import create_app
from petitions.extensions import db

from ..conftest import base_config, csrf_token
from . import _seed
from .conftest import login

# Routes that may accept a write without the session's token, each with the reason. Keep it empty unless a
# route truly cannot carry a token; the JSON API is handled below (it must refuse every write instead).
EXEMPT: dict[str, str] = {}
API_PREFIX = "/api/"
REFUSED = "X-Test-CSRF-Refused"


_APP = create_app(base_config("/nonexistent/enumeration-only.sqlite"))
RULES = _seed.route_rules(_APP, _seed.WRITE_METHODS)
FORM_RULES = [(r.rule, m) for r, m in RULES if not r.rule.startswith(API_PREFIX) and r.endpoint not in EXEMPT]
# Every API rule, even a GET-only one, must answer every write method with 405.
API_RULES = [(r.rule, m) for r, _ in _seed.route_rules(_APP, {"GET"}) if r.rule.startswith(API_PREFIX)
             for m in sorted(_seed.WRITE_METHODS)]

# Plausible form fields per endpoint, so that without the CSRF check the view would act on them.
FORMS = {
    "organizer.transition": {},
    "organizer.delete": {"confirm": "y"},
    "organizer.edit": {"title": "Hijacked", "body": "Hijacked text.", "addressees-0-name": "Someone"},
    "organizer.autosave": {"title": "Hijacked", "body": "Hijacked text."},
    "organizer.new": {"title": "Planted appeal", "body": "Planted.", "start": "blank"},
    "members.members": {"email": "attacker@attacker.example", "role": "owner"},
    "members.change_member": {"role": "owner"},
    "organizer.save_template": {"name": "Stolen"},
    "members.accept_invitation": {},
    "signatories.bulk": {"action": "reject", "ids": "1", "text": "spam"},
    "registry.organizations": {"name": "Planted Org", "domains": "attacker.example"},
    "signatories.import_list": {"text": "Planted Person, Planted Org", "confirm": "y"},
    "pdfs.settings": {"coalition_name": "Hijacked", "place": "X", "page_size": "A4", "columns": "2",
                      "grouping": "none"},
    "pdfs.render": {"audience": "addressees", "variant": "standard"},
    "privacy_organizer.settings": {"default_visibility": "public"},
    "translations.edit": {"title": "Piraté", "body": "Texte piraté."},
    "translations.index": {"language": "de"},
    "translations.set_original": {"language": "de"},
    "signatures.sign": {"full_name": "Forged Signer", "affiliation": "X", "email": "forged@mail.example",
                        "consent": "y"},
    "signatures.resend": {"email": "tag-a-pending@mail.example"},
    "privacy.request_link": {"email": "a-late@mail.example"},
    "privacy.correct": {"full_name": "Renamed", "affiliation": "", "country": "", "visibility": "anonymous"},
    "api_tokens.index": {"name": "Planted token", "scopes": "signatories:export", "appeal": ""},
    "auth.login": {"email": "owner@coalition.example", "password": _seed.PASSWORD},
    "auth.register": {"name": "New", "email": "new@coalition.example", "password": "a long password",
                      "confirm": "a long password"},
}


@pytest.fixture(scope="module")
def crawl(tmp_path_factory, migrated_db):
    """One database for the module: every request here must leave it unchanged, which each test checks."""
    app = _seed.module_app(tmp_path_factory, migrated_db, "csrf")
    handler = app._find_error_handler(CSRFError("x"), [])
    assert handler is not None

    def recording(exc):
        response = make_response(handler(exc))
        response.headers[REFUSED] = "1"  # the refusal came from the CSRF check, not from the view's own 400
        return response

    app.register_error_handler(CSRFError, recording)
    with app.app_context():
        world = _seed.build_world()
        data = _seed.enrich(world.appeal, world.owner, world.editor, "a", render_pdf=True)
        yield app, world, data
        db.session.remove()
        db.engine.dispose()


def _owner_client(app, world):
    client = app.test_client()
    assert login(client, world.owner.email).status_code in (302, 303)
    return client


def _rule(path: str, method: str, app):
    return next(r for r, m in _seed.route_rules(app, {method, "GET"}) if r.rule == path)


@pytest.mark.parametrize("path, method", FORM_RULES, ids=[f"{m} {p}" for p, m in FORM_RULES])
@pytest.mark.parametrize("token", ["none", "foreign"])
def test_write_without_this_sessions_token_is_refused_and_changes_nothing(crawl, path, method, token):
    app, world, data = crawl
    rule = _rule(path, method, app)
    client = _owner_client(app, world)
    form = dict(FORMS.get(rule.endpoint, {}))
    if token == "foreign":
        # A valid token, but of another browser's session (what a forging site could obtain for itself).
        form["csrf_token"] = csrf_token(app.test_client(), "/auth/login")
    for url in _seed.fill(rule, data):
        before = _seed.snapshot()
        response = client.open(url, method=method, data=form)
        assert response.status_code == 400, (url, response.status_code)
        assert response.headers.get(REFUSED) == "1", f"{url} was not refused by the CSRF check"
        assert _seed.changed(before, _seed.snapshot()) == {}, url


def test_the_crawl_covers_the_organizer_public_and_signer_writes():
    """A guard against an enumeration that silently finds nothing."""
    endpoints = {r.endpoint for r, _ in RULES}
    assert {"organizer.transition", "signatures.sign", "privacy.erase", "signatories.decide", "auth.logout",
            "pdfs.settings", "verify.check"} <= endpoints
    assert set(EXEMPT) <= endpoints, "an exemption names a route that no longer exists"


@pytest.mark.parametrize("path, method", API_RULES, ids=[f"{m} {p}" for p, m in API_RULES])
def test_the_csrf_exempt_api_refuses_every_write_and_sets_no_cookie(crawl, path, method):
    app, world, data = crawl
    rule = _rule(path, method, app)
    client = _owner_client(app, world)
    for url in _seed.fill(rule, data):
        before = _seed.snapshot()
        response = client.open(url, method=method, json={"title": "Hijacked"})
        # A resource that takes no writes says so; the catch-all for unknown paths says there is nothing; the
        # public sign endpoint (no cookie counts there, anyone may sign) refuses a body that is no signature.
        expected = 404 if rule.endpoint == "api_v1.not_found" else 405
        assert response.status_code == (422 if (url.endswith("/signatures") and method == "POST"
                                                and "/organizer/" not in url) else expected), url
        assert "Set-Cookie" not in response.headers, url
        assert response.is_json
        assert _seed.changed(before, _seed.snapshot()) == {}, url


# Tables a GET may write, with the reason; anything else would be a state change that no CSRF token guards.
GET_MAY_WRITE = {
    "audit_events": "viewing or exporting signatories' data is itself logged (privacy/accesslog.py)",
    "pdf_jobs": "a download renders the current PDF once when none is stored",
    "pdf_documents": "the rendered PDF is stored, versioned and verifiable",
}
GET_RULES = [(r.rule, m) for r, m in _seed.route_rules(_APP, {"GET"}) if r.endpoint != "static"]


@pytest.mark.parametrize("path, method", GET_RULES, ids=[f"{m} {p}" for p, m in GET_RULES])
def test_a_get_changes_no_state(crawl, path, method):
    """Links and images can make a victim's browser send any GET: none may act."""
    app, world, data = crawl
    rule = _rule(path, method, app)
    client = _owner_client(app, world)
    for url in _seed.fill(rule, data):
        before = _seed.snapshot()
        response = client.get(url)
        assert response.status_code < 500, url
        changes = _seed.changed(before, _seed.snapshot())
        assert set(changes) <= set(GET_MAY_WRITE), (url, {k: v[1] for k, v in changes.items()})
