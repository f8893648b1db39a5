"""Access: every organizer route, for every smaller role, another coalition and a visitor, judged by the matrix."""
import sys

import pytest
from flask import Flask

from petitions import create_app
from sqlalchemy import select

from petitions.members import access
from petitions.auth.models import User
from petitions.registry.models import Organization
from petitions.extensions import db

from ..conftest import base_config, drop_database
from . import _seed
from .conftest import login

ORGANIZER_PREFIXES = ("/organizer",)
# Writes that a read-only role may make, with the reason; every other write must ask for more than "view".
VIEW_WRITES = {"organizer.save_template": "copies text the user may read into a template of their own account"}


def _organizer_blueprints(app: Flask) -> set[str]:
    return {r.endpoint.split(".")[0] for r in app.url_map.iter_rules() if r.rule.startswith(ORGANIZER_PREFIXES)}


def _organizer_rules():
    app = create_app(base_config("/nonexistent/enumeration-only.sqlite"))
    blueprints = _organizer_blueprints(app)
    # Every rule of a blueprint that serves organizer pages, wherever it is mounted, is an organizer route.
    rules = [(r, m) for r, m in _seed.route_rules(app, {"GET", "POST", "PUT", "PATCH", "DELETE"})
             if r.rule.startswith(ORGANIZER_PREFIXES) or r.endpoint.split(".")[0] in blueprints]
    # One case per <any()> choice: an allowed request may change what the next choice would find.
    return [(r.rule, m, r.endpoint, i) for r, m in rules for i in range(_seed.choice_count(r))]


RULES = _organizer_rules()
SLUG_RULES = [(p, m, e) for p, m, e, i in RULES if "<slug>" in p and i == 0]
IDS = [f"{m} {p} #{i}" for p, m, _, i in RULES]


class _Asking(frozenset):
    """The actions of a role; records each action a view asks `appeal_for` about."""

    def __new__(cls, actions, asked):
        self = super().__new__(cls, actions)
        self.asked = asked
        return self

    def __contains__(self, action):
        self.asked.append(action)
        return super().__contains__(action)


class Recorder(dict):
    """PERMISSIONS as `appeal_for` sees it: the same matrix, but the actions asked are written down."""

    def __init__(self, real):
        super().__init__(real)
        self.asked: list[str] = []

    def __getitem__(self, role):
        actions = super().__getitem__(role)
        if sys._getframe(1).f_code is access.appeal_for.__code__:
            return _Asking(actions, self.asked)
        return actions


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, migrated_db):
    return _seed.seed_template(tmp_path_factory, migrated_db, "access")


@pytest.fixture
def fresh(seeded, tmp_path, monkeypatch):
    """A fresh copy of the seeded database per test: allowed requests may change it."""
    app = _seed.open_copy(seeded, tmp_path / "db.sqlite")
    recorder = Recorder(access.PERMISSIONS)
    monkeypatch.setattr(access, "PERMISSIONS", recorder)
    with app.app_context():
        yield app, recorder
        db.session.remove()
        db.engine.dispose()
    drop_database(app.config["SQLALCHEMY_DATABASE_URI"])


def _client(app, email):
    client = app.test_client()
    if email:
        assert login(client, email).status_code in (302, 303)
    return client


def _with_token(client, method):
    """Posts carry this session's CSRF token, so only the access rules can refuse them."""
    if method == "GET":
        return {}
    from ..conftest import csrf_token

    return {"csrf_token": csrf_token(client, "/auth/login")}


def _role(actor):
    return {"editor": access.Role.EDITOR, "reviewer": access.Role.REVIEWER}.get(actor)


@pytest.mark.parametrize("actor", ["other_owner", "outsider", "editor", "reviewer", "anonymous"])
@pytest.mark.parametrize("path, method, endpoint, choice", RULES, ids=IDS)
def test_organizer_route_obeys_the_role_matrix(fresh, seeded, actor, path, method, endpoint, choice):
    app, recorder = fresh
    rule = next(r for r, m in _seed.route_rules(app, {method}) if r.rule == path and r.endpoint == endpoint)
    client = _client(app, seeded.emails.get(actor))
    form = _with_token(client, method)
    for url in _seed.fill(rule, seeded.a)[choice:choice + 1]:
        recorder.asked.clear()
        before = _seed.snapshot()
        response = client.open(url, method=method, data=form)
        status = response.status_code
        assert status < 500, (url, status)
        if actor == "anonymous":
            assert status in (401, 404) or (status in (302, 303) and "/auth/login" in response.location), (url, status)
            assert _seed.changed(before, _seed.snapshot()) == {}, url
            continue
        if "<slug>" not in path:
            continue  # no appeal: every organizer may use it (their own dashboard, a new appeal, an invitation)
        if actor in ("other_owner", "outsider"):
            # No role on this appeal: its existence is not even confirmed.
            assert status == 404, (url, status)
            assert _seed.changed(before, _seed.snapshot()) == {}, url
            continue
        asked = list(recorder.asked)
        assert asked, f"{url}: the view never asked appeal_for about an action"
        if method != "GET" and endpoint not in VIEW_WRITES:
            assert set(asked) - {"view"}, f"{url}: a write allowed to every role that may merely view"
        allowed = all(action in access.PERMISSIONS[_role(actor)] for action in asked)
        if allowed and endpoint in ENTRY_EDITS:
            # The second gate: a registry entry is changed only by the organizer who registered it.
            entry = db.session.get(Organization, seeded.a.org_id)
            user = db.session.scalar(select(User).where(User.email == seeded.emails[actor]))
            allowed = entry.may_edit(user)
        if allowed:
            assert status not in (401, 403, 404), (url, status, asked)
        else:
            assert status == 403, (url, status, asked)
            assert _seed.changed(before, _seed.snapshot()) == {}, url


# Routes that change one registry entry; the others under organizations/ (a dispute) serve everyone else.
ENTRY_EDITS = {"registry.request_proof", "registry.change_contact", "registry.remove_domain",
               "registry.remove_organization"}


def test_the_crawl_reaches_every_organizer_blueprint():
    endpoints = {e for _, _, e, _ in RULES}
    assert {"organizer.transition", "signatories.decide", "pdfs.settings", "translations.act",
            "privacy_organizer.settings", "members.change_member"} <= endpoints
    assert len(SLUG_RULES) >= 30


# Cross-appeal id confusion: objects of the first appeal addressed through the second appeal's slug, by the
# second appeal's owner (who may do everything there).
# Revision numbers and languages count within each appeal, so they are no confusion; ids and file names are.
CROSS = [(p, m, e) for p, m, e, i in RULES if i == 0 and "<slug>" in p
         and any(k in p for k in ("_id>", "<filename>"))] + [
    ("/organizer/appeals/<slug>/review", "POST", "signatories.bulk"),
]


@pytest.mark.parametrize("path, method, endpoint", CROSS, ids=[f"{m} {p}" for p, m, _ in CROSS])
def test_ids_of_one_appeal_do_nothing_under_another_appeals_slug(fresh, seeded, path, method, endpoint):
    app, _ = fresh
    rule = next(r for r, m in _seed.route_rules(app, {method}) if r.rule == path and r.endpoint == endpoint)
    client = _client(app, seeded.emails["other_owner"])
    a, b = seeded.a, seeded.b
    # The slug and language of B, every id of A: pair, signature, member, stored PDF.
    mixed = _seed.Data(slug=b.slug, signature_ids=a.signature_ids, pair_id=a.pair_id, member_id=a.member_id,
                       revision_number=a.revision_number, language=a.language, pdf_filename=a.pdf_filename,
                       pdf_document_id=a.pdf_document_id, tokens=a.tokens)
    form = _with_token(client, method)
    if endpoint == "signatories.bulk":
        form |= {"ids": [str(i) for i in a.signature_ids], "action": "reject", "text": "spam"}
    elif endpoint == "members.change_member":
        form |= {"role": "owner"}
    for url in _seed.fill(rule, mixed, signature_index=0):
        before = _seed.snapshot_of_appeal(a.appeal_id)
        response = client.open(url, method=method, data=form)
        assert response.status_code < 500, url
        # Whatever the answer, nothing of A may change.
        assert _seed.changed(before, _seed.snapshot_of_appeal(a.appeal_id)) == {}, url
        # Refused outright, or (for moderation) sent back with an error message: never acted on.
        assert response.status_code in (303, 400, 403, 404, 409, 422), (url, response.status_code)
        if response.status_code == 303:
            assert 'class="flash error"' in client.get(response.location).get_data(as_text=True), url
