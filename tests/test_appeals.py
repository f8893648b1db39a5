"""Appeal services and lifecycle, without HTTP."""
from pathlib import Path

import pytest

from petitions.appeals import services
from petitions.appeals.markdown import ALLOWED_TAGS, render_markdown
from petitions.appeals.models import AppealStatus, IllegalTransition
from petitions.auth.services import EmailTaken, register_user
from petitions.extensions import db


@pytest.fixture
def owner(app):
    user = register_user("Owner", "owner@example.org", "a long password")
    db.session.commit()
    return user


def draft(owner, **kw):
    fields = {"title": "Release Əli Məmmədov", "addressees": [{"name": "UN Special Rapporteur"}], "body": "We ask."}
    return services.create_appeal(owner, fields | kw)


def test_create_gives_a_unique_ascii_slug(owner):
    a, b = draft(owner), draft(owner)
    assert a.slug == "release-ali-mammadov"
    assert b.slug.startswith("release-ali-mammadov-") and b.slug != a.slug
    assert services.slugify("Свобода Ивану") == "svoboda-ivanu"
    assert services.slugify("!!!") == "appeal"


def test_lifecycle_draft_open_closed(owner):
    appeal = draft(owner)
    assert appeal.status is AppealStatus.DRAFT
    services.update_appeal(appeal, "New title", "A", "New body")
    services.publish_appeal(appeal)
    assert appeal.status is AppealStatus.OPEN and appeal.published_at
    services.close_appeal(appeal)
    assert appeal.status is AppealStatus.CLOSED and appeal.closed_at


@pytest.mark.parametrize("steps,illegal", [
    ([], "close"),
    (["publish"], "publish"),
    (["publish", "close"], "publish"),
    (["publish", "close"], "close"),
    (["publish", "close"], "edit"),
])
def test_illegal_moves_are_refused(owner, steps, illegal):
    appeal = draft(owner)
    for step in steps:
        getattr(appeal, step)()
    before = appeal.status
    with pytest.raises(IllegalTransition):
        if illegal == "edit":
            services.update_appeal(appeal, "x", "y", "z")
        else:
            getattr(appeal, illegal)()
    assert appeal.status is before


def test_editing_an_open_appeal_makes_a_revision_but_keeps_the_signed_text(owner):
    appeal = draft(owner)
    services.publish_appeal(appeal)
    signed = appeal.content_hash
    services.update_appeal(appeal, "Amended title", "UN", "Amended body")
    assert appeal.revision_count == 2
    assert appeal.content_hash == signed == appeal.published_revision.content_hash
    assert services.latest_revision(appeal).content["title"] == "Amended title"


def test_empty_appeal_cannot_be_published(owner):
    appeal = draft(owner, body="   ")
    with pytest.raises(IllegalTransition, match="body"):
        appeal.publish()


def test_content_hash_changes_with_text(owner):
    appeal = draft(owner)
    first = appeal.content_hash
    services.update_appeal(appeal, appeal.title, "UN Special Rapporteur", appeal.body + " More.")
    assert appeal.content_hash != first and len(first) == 64


def test_registering_the_same_email_twice_is_refused(app):
    register_user("A", "Same@Example.org", "a long password")
    with pytest.raises(EmailTaken):
        register_user("B", "same@example.org", "another password")


XSS_PAYLOADS = [line for line in (Path(__file__).parent / "data" / "xss_payloads.txt").read_text().splitlines()
                if line.strip()]


def test_the_payload_list_is_long_enough():
    assert len(XSS_PAYLOADS) >= 30


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_is_sanitized(payload):
    tags = parsed_tags(str(render_markdown(payload)))
    for tag, attrs in tags:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on") and name != "style"
            assert not (value or "").strip().lower().startswith(("javascript:", "data:", "vbscript:"))
            if name == "href":
                assert value.startswith(("http://", "https://", "mailto:", "#", "/"))


def parsed_tags(html: str) -> list:
    from html.parser import HTMLParser

    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def test_markdown_keeps_structure():
    html = str(render_markdown("We ask:\n\n1. **free** him\n2. [see](https://example.org)"))
    assert "<ol>" in html and "<strong>free</strong>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html
