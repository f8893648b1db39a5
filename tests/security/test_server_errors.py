"""No single request gets a 500: ids out of range or in other digits, foreign query keys, big bodies, missing fields."""
import io

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from petitions import crypto
from petitions.appeals.models import AppealRevision, AppealTemplate
from petitions.extensions import db, utcnow
from petitions.privacy import selfservice
from petitions.signing import levels as verification
from petitions.signatories import parsing as importer
from petitions.signing.models import Signature

from ..conftest import csrf_token

BIG = "99999999999999999999"  # above 2**63 - 1: SQLite raises OverflowError binding it
ODD_DIGITS = ["²", "٣", "１", "-1", "+1", " 1", "1_0", "0", "", "1e3", BIG, "9" * 5000]


def signature(appeal, name="Leyla Əhmədova", email="leyla@example.org") -> Signature:
    sig = Signature(appeal=appeal, full_name=name, affiliation="Lawyer", text_hash=appeal.content_hash,
                    consent_at=utcnow(), email_hash=crypto.email_hash(email),
                    email_encrypted=crypto.encrypt(email), revision_id=appeal.published_revision_id)
    verification.describe(sig)
    db.session.add(sig)
    sig.confirm()
    db.session.commit()
    return sig


@pytest.fixture
def owner(world, client_as):
    return client_as(world.owner)


def token(client, world) -> str:
    return csrf_token(client, f"/organizer/appeals/{world.appeal.slug}")


def not_5xx(response) -> int:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    return response.status_code


# --- the one parsing rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ODD_DIGITS)
def test_parse_int_takes_only_ascii_digits_in_range(value):
    from petitions.http import parse_int

    assert parse_int(value) is None


def test_parse_int_reads_plain_numbers_and_honours_bounds():
    from petitions.http import MAX_ID, parse_ids, parse_int

    assert parse_int("42") == 42 and parse_int(str(MAX_ID)) == MAX_ID and parse_int(str(MAX_ID + 1)) is None
    assert parse_int("0", low=0) == 0 and parse_int("-5", low=-10) == -5 and parse_int("11", high=10) is None
    assert parse_int(None) is None and parse_int(7) is None
    assert parse_ids(["3", "²", "3", BIG, "x", "1"]) == [3, 1]


def test_int_routes_use_the_bounded_converter(app):
    from petitions.http import MAX_ID, IdConverter

    numeric = [c for rule in app.url_map.iter_rules() for c in rule._converters.values()
               if isinstance(c, IntegerConverter)]
    assert numeric and all(type(c) is IdConverter for c in numeric)
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/organizer/appeals/x/restore/7", method="POST")[1]["number"] == 7
    for value in (BIG, "0", "٣", str(MAX_ID + 1), "9" * 5000):
        with pytest.raises(Exception) as caught:
            adapter.match(f"/organizer/appeals/x/restore/{value}", method="POST")
        assert getattr(caught.value, "code", None) == 404


# --- the listed 500s ------------------------------------------------------------------------------------

def test_foreign_query_keys_on_the_review_queue(world, owner):
    sig = signature(world.appeal)
    slug = world.appeal.slug
    for query in ("slug=x", "_method=x", "_external=1", "_anchor=x", "_scheme=ftp", "level=email&slug=x"):
        assert not_5xx(owner.get(f"/organizer/appeals/{slug}/review?{query}")) == 200, query
        response = owner.post(f"/organizer/appeals/{slug}/review?{query}",
                              data={"csrf_token": token(owner, world), "ids": str(sig.id), "approve": "Approve"})
        assert not_5xx(response) == 303, query
        assert response.headers["Location"].startswith(f"/organizer/appeals/{slug}/review"), query
        assert "slug=" not in response.headers["Location"] and "_" not in response.headers["Location"].split("?")[-1]


def test_filters_survive_the_bulk_action(world, owner):
    sig = signature(world.appeal)
    response = owner.post(f"/organizer/appeals/{world.appeal.slug}/review?level=email&before=9&junk=1",
                          data={"csrf_token": token(owner, world), "ids": str(sig.id), "approve": "Approve"})
    location = response.headers["Location"]
    assert "level=email" in location and "junk" not in location


def test_oversized_path_ids(world, owner):
    slug = world.appeal.slug
    tok = token(owner, world)
    for url, data in [(f"/organizer/appeals/{slug}/members/{BIG}", {"role": "editor"}),
                      (f"/organizer/appeals/{slug}/restore/{BIG}", {}),
                      (f"/organizer/appeals/{slug}/duplicates/{BIG}/merge", {}),
                      (f"/organizer/appeals/{slug}/duplicates/{BIG}/dismiss", {}),
                      (f"/organizer/appeals/{slug}/signatures/{BIG}/unmerge", {})]:
        assert not_5xx(owner.post(url, data={"csrf_token": tok, **data})) == 404, url


def test_oversized_signature_id_in_a_self_service_link(world, client):
    sig = signature(world.appeal)
    link = selfservice.make_token(sig.email_hash)
    tok = csrf_token(client, "/privacy/my-data")
    for action in ("correct", "erase"):
        response = client.post(f"/privacy/my-data/{link}/{BIG}/{action}",
                               data={"csrf_token": tok, "full_name": "X", "visibility": "public"})
        assert not_5xx(response) == 404


def test_odd_numbers_in_query_strings(world, owner):
    slug = world.appeal.slug
    template = AppealTemplate(owner_id=world.owner.id, name="Mine", content=world.appeal.content())
    db.session.add(template)
    db.session.commit()
    for value in ODD_DIGITS:
        for url in (f"/organizer/appeals/{slug}/review?before={value}",
                    f"/organizer/appeals/{slug}/duplicates?after={value}",
                    f"/organizer/appeals/{slug}/history?a={value}&b=1",
                    f"/organizer/appeals/{slug}/history?a=1&b={value}"):
            assert not_5xx(owner.get(url)) in (200, 404), url
        assert not_5xx(owner.get(f"/organizer/appeals/new?start=own-{value}")) == 404, value
    # Another digit system is not a way to reach a template: only 0-9 name an id.
    assert owner.get(f"/organizer/appeals/new?start=own-{chr(0x0660 + template.id)}").status_code == 404
    page = owner.get(f"/organizer/appeals/new?start=own-{template.id}")
    assert page.status_code == 200 and "Free the journalists" in page.get_data(as_text=True)


def test_odd_ticked_ids(world, owner):
    sig = signature(world.appeal)
    for value in ODD_DIGITS:
        response = owner.post(f"/organizer/appeals/{world.appeal.slug}/review",
                              data={"csrf_token": token(owner, world), "ids": [value, str(sig.id)],
                                    "approve": "Approve"})
        assert not_5xx(response) == 303, value


def test_odd_base_revision(world, owner):
    slug = world.appeal.slug
    for n, value in enumerate(ODD_DIGITS):
        before = db.session.scalar(select(func.count()).select_from(AppealRevision))
        data = {"csrf_token": token(owner, world), "title": "Free the journalists", "body": f"Changed text {n}.",
                "base_revision": value, "save": "Save"}
        assert not_5xx(owner.post(f"/organizer/appeals/{slug}/edit", data=data)) in (303, 409), value
        draft = owner.post("/organizer/appeals/new", data=data)
        assert not_5xx(draft) == 303, value
        new_slug = draft.headers["Location"].rsplit("/", 1)[-1]
        data["body"] += " Again."
        assert not_5xx(owner.post(f"/organizer/appeals/{new_slug}/autosave", data=data)) in (200, 409), value
        assert db.session.scalar(select(func.count()).select_from(AppealRevision)) > before


def test_odd_entry_numbers_in_field_names(world, owner):
    before = db.session.scalar(select(func.count()).select_from(AppealRevision))
    for n, value in enumerate(ODD_DIGITS):
        data = {"csrf_token": token(owner, world), "title": f"Letter {n}", "body": "Text.", "save": "Save",
                f"addressees-{value}-name": "Secretary General", "addressees-0-name": "Rapporteur"}
        response = owner.post("/organizer/appeals/new", data=data)
        assert not_5xx(response) == 303, value
        assert "Rapporteur" in owner.get(response.headers["Location"]).get_data(as_text=True)
        assert not_5xx(owner.post("/organizer/preview", data=data)) == 200, value
    assert db.session.scalar(select(func.count()).select_from(AppealRevision)) == before + len(ODD_DIGITS)


def test_odd_organization_id(world, owner):
    slug = world.appeal.slug
    for value in ODD_DIGITS:
        response = owner.post(f"/organizer/appeals/{slug}/organizations",
                              data={"csrf_token": token(owner, world), "dom-organization_id": value,
                                    "dom-domain": "example.org", "dom-submit": "Add"})
        assert not_5xx(response) in (404, 422), value


def test_csv_with_an_unclosed_quote_is_refused_with_a_message(world, owner):
    limit = importer.FIELD_MAX_CHARS
    big = b'Name,Affiliation\nLeyla,"Lawyer ' + b"x" * (130 * 1024) + b'"\nAnna,Journalist\n'
    with pytest.raises(importer.ImportFormatError, match=f"Line 2: .*{limit}"):
        importer.read_csv(big)
    with pytest.raises(importer.ImportFormatError, match="Line 3"):
        importer.read_csv(b"Name,Affiliation\nA,B\n\"" + b"y" * (limit + 1) + b"\",C\n")
    url = f"/organizer/appeals/{world.appeal.slug}/import"
    before = db.session.scalar(select(func.count()).select_from(Signature))
    for data in ({"upload": (io.BytesIO(big), "list.csv")},
                 {"payload": big.decode(), "kind": "csv", "submit": "Import", "mode": "vouched"}):
        response = owner.post(url, data={"csrf_token": csrf_token(owner, url), "preview": "Preview", **data},
                              content_type="multipart/form-data")
        assert not_5xx(response) == 422
        assert str(limit) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Signature)) == before


@pytest.mark.parametrize("url", ["/organizer/appeals/new", "/auth/logout", "/privacy/my-data", "/auth/login"])
def test_a_body_over_the_limit_gets_a_413_page(world, owner, client, url):
    for who in (owner, client):
        tok = csrf_token(who, "/privacy/my-data")
        # The size is judged first: without a token, or with a file, it is still a 413 page, not a CSRF one.
        for data in ({"csrf_token": tok, "title": "x" * (3 * 1024 * 1024)}, {"title": "x" * (3 * 1024 * 1024)},
                     {"csrf_token": tok, "upload": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "list.csv")}):
            response = who.post(url, data=data)
            assert response.status_code == 413
            # The real page, with the logged-in navigation, not the plain-text fallback.
            assert response.mimetype == "text/html" and "too large" in response.get_data(as_text=True)


def test_a_json_body_on_a_form_route_gets_a_4xx_page(world, owner, client):
    for body in ("{", "[1, 2]", '"x"', "null", '{"csrf_token": 1}', b"\xff{"):
        for who in (owner, client):
            for url in ("/organizer/appeals/new", "/auth/login", f"/a/{world.appeal.slug}/sign"):
                response = who.post(url, data=body, content_type="application/json")
                assert not_5xx(response) in (400, 302, 404, 405), (url, body)
                assert response.mimetype == "text/html", (url, body)


def test_a_json_body_with_a_valid_csrf_header_is_read_as_text_fields_or_refused(world, owner):
    headers = {"X-CSRFToken": token(owner, world)}
    for body in ("1.5", "[1, 2]", '"x"', "true", '{"title": {"a": 1}, "body": "x"}', '{"title": 5, "body": "x"}',
                 '{"title": ["a", 1], "body": "x"}', '{"title": null, "body": "x"}'):
        for url in ("/organizer/appeals/new", "/organizer/preview"):
            response = owner.post(url, data=body, content_type="application/json", headers=headers)
            assert not_5xx(response) == 400, (url, body)
    response = owner.post("/organizer/appeals/new", data='{"title": "A letter", "body": "Text.", "save": "Save"}',
                          content_type="application/json", headers=headers)
    assert response.status_code == 303


def test_a_file_where_a_form_expects_text(world, owner, client):
    def upload():
        return (io.BytesIO(b"Leyla"), "name.txt")

    slug = world.appeal.slug
    before = db.session.scalar(select(func.count()).select_from(AppealRevision))
    for who, url, data in [
        (client, "/auth/login", {"email": upload(), "password": "a long password"}),
        (client, "/auth/register", {"name": "N", "email": upload(), "password": "p" * 12, "password2": "p" * 12}),
        (client, "/privacy/my-data", {"email": upload()}),
        (owner, "/organizer/appeals/new", {"title": upload(), "body": "Text.", "save": "Save"}),
        (owner, f"/organizer/appeals/{slug}/translations/de", {"title": upload(), "body": "Text.", "save": "Save"}),
        (owner, f"/organizer/appeals/{slug}/review", {"ids": "1", "text": upload(), "reject": "Reject"}),
    ]:
        response = who.post(url, data={"csrf_token": csrf_token(who, "/privacy/my-data"), **data})
        assert not_5xx(response) in (200, 303, 400, 422), url
    assert db.session.scalar(select(func.count()).select_from(AppealRevision)) == before
    # The file fields still get their files.
    url = f"/organizer/appeals/{slug}/import"
    response = owner.post(url, data={"csrf_token": csrf_token(owner, url), "preview": "Preview",
                                     "upload": (io.BytesIO(b"Name,Affiliation\nAnna,Lawyer\n"), "list.csv")})
    assert response.status_code == 200 and "Anna" in response.get_data(as_text=True)


def test_self_service_correction_without_the_country_field(world, client):
    sig = signature(world.appeal)
    sig.country = "Azerbaijan"
    db.session.commit()
    link = selfservice.make_token(sig.email_hash)
    tok = csrf_token(client, "/privacy/my-data")
    prefix = f"s{sig.id}-"
    response = client.post(f"/privacy/my-data/{link}/{sig.id}/correct",
                           data={"csrf_token": tok, prefix + "full_name": "Leyla Əhmədova",
                                 prefix + "visibility": sig.visibility.value})
    assert not_5xx(response) == 200
    db.session.refresh(sig)
    assert sig.country == "" and sig.full_name == "Leyla Əhmədova"
    for missing in ("full_name", "visibility"):
        data = {"csrf_token": tok, prefix + "full_name": "Leyla", prefix + "visibility": "public"}
        del data[prefix + missing]
        assert not_5xx(client.post(f"/privacy/my-data/{link}/{sig.id}/correct", data=data)) == 422


# --- handlers that never fail -----------------------------------------------------------------------------

def test_a_failing_error_page_falls_back_to_plain_text(make_app, monkeypatch):
    import petitions.errors as errors

    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    def broken(*args, **kwargs):
        raise RuntimeError("template broken")

    monkeypatch.setattr(errors, "render_template", broken)
    with app.app_context():
        client = app.test_client()
        response = client.get("/no/such/page")
        assert response.status_code == 404 and response.mimetype == "text/plain"
        assert "nothing here" in response.get_data(as_text=True)
        response = client.get("/boom")
        assert response.status_code == 500 and "Nothing you entered was lost" in response.get_data(as_text=True)
        response = client.post("/privacy/my-data", data={"email": "x@example.org"})  # no CSRF token
        assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_method_not_allowed_keeps_its_allow_header(client):
    response = client.delete("/privacy")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


# --- NUL: no form has a use for it, and PostgreSQL refuses it in text (a 500 at the INSERT) ----------------

def _rows() -> dict[str, int]:
    # Opening the organizer page for its CSRF token notes the view in the audit log; nothing else may change.
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables if table.name != "audit_events"}


def test_nul_anywhere_in_a_form_query_or_json_is_refused_before_anything_is_stored(app, world, owner):
    slug = world.appeal.slug
    before = _rows()
    cases = [
        ("post", f"/organizer/appeals/{slug}/template", {"name": "Template\x00"}),
        ("post", f"/organizer/appeals/{slug}/organizations", {"org-name": "Bar\x00 Association", "org-submit": "y"}),
        ("post", f"/a/{slug}/sign", {"full_name": "Leyla\x00 Əhmədova", "email": "leyla@example.org", "consent": "y"}),
    ]
    for method, url, data in cases:
        response = getattr(owner, method)(url, data={**data, "csrf_token": token(owner, world)})
        # A form comes back with what was typed and a message (422), or says so on the page it returns to.
        assert response.status_code in (303, 422), (url, response.status_code)
    sign = owner.post(f"/a/{slug}/sign", data={**cases[2][2], "csrf_token": token(owner, world)})
    assert sign.status_code == 422 and "invisible or control character" in sign.get_data(as_text=True)
    assert "Leyla" in sign.get_data(as_text=True)  # the signer's input is kept in the form
    # No form to come back to: the request itself is refused.
    assert owner.get("/?q=\x00").status_code == 400
    assert owner.get(f"/api/v1/appeals/{slug}?x=a%00b").status_code == 400
    assert owner.post(f"/organizer/appeals/{slug}/template", json={"name": "Template\x00"},
                      headers={"X-CSRFToken": token(owner, world)}).status_code == 400
    db.session.expire_all()
    assert _rows() == before
