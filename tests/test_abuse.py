"""Anti-abuse of the sign form without third parties: honeypot, minimum fill time, per-domain limit, allowances."""
import logging
import re
import time

import pytest
from sqlalchemy import event, func, select

from petitions import links
from petitions.audit.models import AuditEvent
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.members.models import AppealMember, Role
from petitions.ratelimit import limiter
from petitions.signing.abuse import DomainAllowance
from petitions.signing.models import Signature

from .conftest import csrf_token, new_appeal

PASSWORD = "a long password"
STAMP_RE = re.compile(r'name="started" type="hidden" value="([^"]+)"')


def open_appeal():
    """Publish an appeal in the current app."""
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal


@pytest.fixture
def appeal(app):
    return open_appeal()


def signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


def form_of(client, slug: str) -> dict:
    """Open the sign form like a browser and return its hidden fields."""
    page = client.get(f"/a/{slug}/sign").get_data(as_text=True)
    stamp = STAMP_RE.search(page)
    return {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
            "started": stamp.group(1) if stamp else ""}


def sign(client, slug: str, email: str, name: str = "Leyla Yunus", **extra):
    data = {**form_of(client, slug), "full_name": name, "affiliation": "Lawyer", "email": email, "consent": "y",
            **extra}
    return client.post(f"/a/{slug}/sign", data=data)


def test_the_honeypot_is_hidden_from_people_and_out_of_the_tab_order(app, appeal):
    page = app.test_client().get(f"/a/{appeal.slug}/sign").get_data(as_text=True)
    box = re.search(r'<div class="hp" aria-hidden="true">(.*?)</div>', page, re.S)
    assert box, page
    assert 'tabindex="-1"' in box.group(1) and 'autocomplete="off"' in box.group(1)
    assert 'name="website"' in box.group(1) and "Leave this field empty" in box.group(1)


def test_a_filled_honeypot_looks_like_success_and_stores_and_mails_nothing(smtp_app, caplog):
    app = smtp_app
    appeal = open_appeal()
    client = app.test_client()
    real = sign(client, appeal.slug, "real.person@uni.example")
    assert real.status_code == 303
    assert sending.wait_idle(app) and len(app.smtp_sink.wait_for(1)) == 1
    with caplog.at_level(logging.INFO, logger="petitions.signing.abuse"):
        bot = sign(client, appeal.slug, "bot.victim@uni.example", name="Scripted Signer",
                   website="http://spam.example")
    assert bot.status_code == real.status_code and bot.headers["Location"] == real.headers["Location"]
    assert signatures() == 1
    assert sending.wait_idle(app) and len(app.smtp_sink.messages) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "petitions.signing.abuse"]
    assert lines == [f"sign: honeypot filled, submission dropped (appeal {appeal.id})"]
    assert not any(word in lines[0] for word in ("bot.victim", "uni.example", "Scripted", "spam"))


def test_a_submit_sooner_than_the_minimum_is_refused_with_the_form_kept(make_app):
    # A minimum no slow machine reaches between two requests, then one that has passed.
    app = make_app(SIGN_MIN_SECONDS=60)
    with app.app_context():
        appeal = open_appeal()
        client = app.test_client()
        hidden = form_of(client, appeal.slug)
        data = {**hidden, "full_name": "Leyla Yunus", "affiliation": "Lawyer", "email": "leyla@uni.example",
                "consent": "y"}
        too_soon = client.post(f"/a/{appeal.slug}/sign", data=data)
        page = too_soon.get_data(as_text=True)
        assert too_soon.status_code == 422
        assert "faster than a person fills in this form" in page
        assert 'value="Leyla Yunus"' in page and 'value="leyla@uni.example"' in page  # nothing typed is lost
        assert signatures() == 0
        app.config["SIGN_MIN_SECONDS"] = 1
        time.sleep(1.1)
        assert client.post(f"/a/{appeal.slug}/sign", data=data).status_code == 303
        assert signatures() == 1
        db.session.remove()
        db.engine.dispose()


def test_the_fill_time_counts_the_fraction_of_a_second_the_form_was_shown_at(app, monkeypatch):
    # Whole-second stamps made a one-second minimum pass after 0.1 s when the form was shown at x.9.
    with app.test_request_context():
        monkeypatch.setattr(time, "time", lambda: 1_700_000_000.9)
        stamp = links.form_stamp(7)
        monkeypatch.setattr(time, "time", lambda: 1_700_000_001.2)
        assert links.form_stamp_age(stamp, 7) == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("stamp", ["", "forged", "other-appeal", "expired"])
def test_a_missing_forged_foreign_or_old_stamp_is_refused(make_app, stamp):
    # Only the expired case may outlive the stamp's age (whole seconds): the others must fail for their own reason.
    app = make_app(SIGN_MIN_SECONDS=1, SIGN_FORM_MAX_AGE=1 if stamp == "expired" else 3600)
    with app.app_context():
        appeal = open_appeal()
        client = app.test_client()
        hidden = form_of(client, appeal.slug)
        value = {"": "", "forged": hidden["started"][:-3] + "abc", "other-appeal": links.form_stamp(appeal.id + 1),
                 "expired": hidden["started"]}[stamp]
        time.sleep(2.2 if stamp == "expired" else 1.1)
        response = client.post(f"/a/{appeal.slug}/sign", data={
            **hidden, "started": value, "full_name": "Leyla Yunus", "email": "leyla@uni.example", "consent": "y"})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, page
        message = "open for too long" if stamp == "expired" else "could not be checked"
        assert message in page and 'value="Leyla Yunus"' in page
        assert STAMP_RE.search(page).group(1) != value  # the form comes back stamped anew
        assert signatures() == 0
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_DOMAIN_LIMIT=2, SIGN_RATE_LIMIT="100 per hour")
    with app.app_context():
        limiter.reset()
        app.appeal = open_appeal()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_domain_gets_its_limit_per_appeal_then_a_429_with_the_form_kept(limited):
    appeal = limited.appeal
    client = limited.test_client()
    assert [sign(client, appeal.slug, f"s{n}@uni.example").status_code for n in range(2)] == [303, 303]
    over = sign(client, appeal.slug, "third@Uni.Example", name="Third Signer")
    page = over.get_data(as_text=True)
    assert over.status_code == 429
    assert 0 < int(over.headers["Retry-After"]) <= 3600
    assert "Please try again in" in page and 'value="Third Signer"' in page and 'value="third@Uni.Example"' in page
    assert signatures() == 2
    # Other domains, free mail and other appeals keep their own budget.
    assert sign(client, appeal.slug, "someone@other.example").status_code == 303
    assert [sign(client, appeal.slug, f"f{n}@gmail.com").status_code for n in range(3)] == [303] * 3
    other = new_appeal(appeal.owner, "Stop torture", "Rapporteur", "We ask for an inquiry.")
    other.publish()
    db.session.commit()
    assert sign(client, other.slug, "fourth@uni.example").status_code == 303


def test_the_domain_counter_is_keyed_by_a_hash_not_the_domain(limited):
    appeal = limited.appeal
    client = limited.test_client()
    assert sign(client, appeal.slug, "s@uni.example").status_code == 303
    keys = [key for key in limiter.limiter.storage.storage if "sign-domain" in key]
    assert len(keys) == 1 and "uni" not in keys[0], keys


def test_the_429_page_is_in_the_signers_language(limited):
    appeal = limited.appeal
    client = limited.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    for n in range(2):
        sign(client, appeal.slug, f"s{n}@uni.example")
    over = sign(client, appeal.slug, "third@uni.example", name="Третий")
    page = over.get_data(as_text=True)
    assert over.status_code == 429
    assert '<aside class="sign" lang="ru"' in page and "Подписать" in page and 'value="Третий"' in page


def test_the_per_client_limit_shows_the_form_again_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGN_RATE_LIMIT="1 per hour")
    with app.app_context():
        limiter.reset()
        appeal = open_appeal()
        client = app.test_client()
        assert sign(client, appeal.slug, "one@uni.example").status_code == 303
        over = sign(client, appeal.slug, "two@uni.example", name="Second Signer")
        page = over.get_data(as_text=True)
        assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
        assert 'value="Second Signer"' in page and "Please try again in" in page
        assert signatures() == 1
        db.session.remove()
        db.engine.dispose()


def test_other_429_pages_say_when_to_try_again(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RESEND_RATE_LIMIT="1 per hour")
    with app.app_context():
        limiter.reset()
        appeal = open_appeal()
        client = app.test_client()
        url = f"/a/{appeal.slug}/resend"
        answers = [client.post(url, data={"email": "a@uni.example", "csrf_token": csrf_token(client, url)})
                   for _ in range(2)]
        assert [a.status_code for a in answers] == [200, 429]
        assert "Please try again in" in answers[1].get_data(as_text=True) and answers[1].headers["Retry-After"]
        db.session.remove()
        db.engine.dispose()


def _logged_in(app, email):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                                "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code in (302, 303)
    return client


def test_an_owner_or_editor_raises_the_limit_of_an_expected_institution(limited):
    appeal = limited.appeal
    editor = register_user("Editor", "editor@coalition.example", PASSWORD)
    reviewer = register_user("Reviewer", "reviewer@coalition.example", PASSWORD)
    db.session.add_all([AppealMember(appeal=appeal, user=editor, role=Role.EDITOR),
                        AppealMember(appeal=appeal, user=reviewer, role=Role.REVIEWER)])
    db.session.commit()
    settings = f"/organizer/appeals/{appeal.slug}/privacy"
    url = f"{settings}/domains"
    as_reviewer = _logged_in(limited, "reviewer@coalition.example")
    assert as_reviewer.post(url, data={"domain": "uni.example", "per_window": "4", "csrf_token": csrf_token(
        as_reviewer, f"/a/{appeal.slug}/sign")}).status_code == 403
    as_editor = _logged_in(limited, "editor@coalition.example")
    token = csrf_token(as_editor, settings)
    for bad, message in (("gmail.com", "free-mail provider"), ("not a domain", "is not a domain name")):
        refused = as_editor.post(url, data={"domain": bad, "per_window": "4", "csrf_token": token})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    refused = as_editor.post(url, data={"domain": "uni.example", "per_window": "0", "csrf_token": token})
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(DomainAllowance)) == 0
    saved = as_editor.post(url, data={"domain": "@UNI.example", "per_window": "4", "csrf_token": token})
    assert saved.status_code == 303
    page = as_editor.get(settings).get_data(as_text=True)
    assert "uni.example" in page and "may now sign 4 times per hour" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appeal.domain_allowance"))
    assert event is not None and event.actor_id == editor.id
    signer = limited.test_client()
    answers = [sign(signer, appeal.slug, f"s{n}@staff.uni.example").status_code for n in range(5)]
    assert answers == [303] * 4 + [429]
    # Removed again: back to the site's limit (its counter already past it).
    removed = as_editor.post(url, data={"domain": "uni.example", "remove": "1", "csrf_token": token})
    assert removed.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(DomainAllowance)) == 0
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appeal.domain_allowance_removed"))


def test_an_allowance_given_or_removed_applies_to_the_next_signature_without_a_query_per_sign(limited):
    from petitions.signing import abuse

    appeal, client = limited.appeal, limited.test_client()
    owner = appeal.owner
    assert [sign(client, appeal.slug, f"s{n}@uni.example").status_code for n in range(3)] == [303, 303, 429]
    abuse.allow_domain(appeal, "uni.example", 4, owner)  # this process read the appeal's allowances already
    db.session.commit()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        # A limit of its own amount: counted afresh.
        assert [sign(client, appeal.slug, f"t{n}@uni.example").status_code for n in range(5)] == [303] * 4 + [429]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert sum("domain_allowances" in s for s in statements) == 1  # read once after the change, then kept
    abuse.remove_allowance(appeal, "uni.example", owner)
    db.session.commit()
    limiter.reset()
    assert [sign(client, appeal.slug, f"u{n}@uni.example").status_code for n in range(3)] == [303, 303, 429]


def test_the_api_sign_shares_the_domain_limit_with_the_form(limited):
    appeal = limited.appeal
    client = limited.test_client()
    assert sign(client, appeal.slug, "s1@uni.example").status_code == 303
    body = {"full_name": "Api Signer", "email": "s2@uni.example", "consent": True}
    assert client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=body).status_code == 202
    over = client.post(f"/api/v1/appeals/{appeal.slug}/signatures", json=dict(body, email="s3@uni.example"))
    assert over.status_code == 429 and over.mimetype == "application/problem+json"
    assert 0 < int(over.headers["Retry-After"]) <= 3600
    assert signatures() == 2
