"""Updates for signers: the opt-in at signing, "delivered"/"replied" mails over real SMTP, one-click unsubscribe."""
import re

import pytest
from flask_babel import gettext
from flask_migrate import upgrade
from sqlalchemy import func, select

from petitions import create_app
from petitions.audit.models import AuditEvent
from petitions.extensions import db
from petitions.i18n import with_locale
from petitions.privacy import selfservice
from petitions.signing import operations as signing
from petitions.signing.models import Signature
from petitions.updates import operations as updates
from petitions.updates.models import Announcement
from petitions.urls import external_url

from .conftest import LINK_RE, base_config, csrf_token, message_text
from .i18n_data import VERSIONS, ensure_catalogs, multilingual_appeal
from .test_privacy_postgres import postgres  # noqa: F401  (the throwaway PostgreSQL cluster)

WITHDRAW_RE = re.compile(r"https?://\S+/withdraw/\S+")
UNSUBSCRIBE_RE = re.compile(r"^<(https?://[^>]+/updates/unsubscribe/[^>]+)>$")


@pytest.fixture
def appeal(smtp_app):
    ensure_catalogs()
    appeal, owner = multilingual_appeal(("ru",))
    appeal.owner_for_tests = owner
    return appeal


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _signed(appeal, email: str, *, wants_updates=True, language="ru", confirm=True) -> Signature:
    signature = signing.sign(appeal, "Анна Петрова", "Журналист", email, language,
                             wants_updates=wants_updates).signature
    if confirm:
        signature.confirm()
    return signature


def _announce(appeal, event="delivered", **detail) -> int:
    sent = updates.announce(appeal, event, appeal.owner_for_tests, detail=detail or None)
    db.session.commit()
    return sent


def _updates_received(messages: list) -> list:
    return [m for m in messages if m["List-Unsubscribe"]]


def test_the_opt_in_box_is_on_the_sign_form_unticked(smtp_app, appeal):
    page = smtp_app.test_client().get(f"/a/{appeal.slug}/sign?lang=ru").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="wants_updates"[^>]*>', page)
    assert box and 'type="checkbox"' in box.group(0) and "checked" not in box.group(0)


@pytest.mark.e2e
def test_opted_in_signer_gets_the_update_in_russian_and_unsubscribes_with_one_post(smtp_app, appeal):
    sink, client = smtp_app.smtp_sink, smtp_app.test_client()
    response = client.post(f"/a/{appeal.slug}/sign?lang=ru", data={
        "full_name": "Анна Петрова", "affiliation": "Журналист", "email": "anna@mail.example",
        "wants_updates": "y", "consent": "y", "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign?lang=ru")})
    assert response.status_code == 303
    confirmation = sink.wait_for(1)[0]
    path = _path(LINK_RE.search(message_text(confirmation)).group(0))
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    db.session.expire_all()
    signature = db.session.scalar(select(Signature))
    assert signature.wants_updates and signature.language == "ru"

    assert _announce(appeal, addressee="Комитет министров", on="2026-05-07") == 1
    [update] = _updates_received(sink.wait_for(2))
    assert update["To"] == "anna@mail.example"
    with smtp_app.test_request_context(), with_locale("ru"):
        subject = gettext("The appeal you signed was delivered: %(title)s", title=VERSIONS["ru"]["title"])
    assert update["Subject"] == subject
    body = message_text(update)
    assert VERSIONS["ru"]["title"] in body and "Анна Петрова" in body
    assert "7 мая 2026" in body  # the date as Russian writes it
    # The footer's withdrawal link: the signed token carries its issue second, so compare what it opens, not its text.
    [withdraw] = WITHDRAW_RE.findall(body)
    assert withdraw.startswith(signing.withdrawal_link(signature).split("/withdraw/")[0] + "/withdraw/")
    with smtp_app.test_request_context():
        assert signing.signature_for_withdrawal(withdraw.split("/withdraw/")[1].split("?")[0]).id == signature.id
    assert withdraw.endswith("?lang=ru")
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = UNSUBSCRIBE_RE.match(update["List-Unsubscribe"]).group(1)
    raw = dict(update.raw_items())  # as the bytes came: a mail client reads these, not a decoder's result
    assert UNSUBSCRIBE_RE.match(raw["List-Unsubscribe"]).group(1) == url  # one line, no encoded words
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in body  # the same link, for readers whose client shows no unsubscribe button

    # What a mail client sends (RFC 8058): no cookies, no CSRF token, only this body.
    mail_client = smtp_app.test_client(use_cookies=False)
    answer = mail_client.post(_path(url), data="List-Unsubscribe=One-Click",
                              content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    db.session.expire_all()
    assert not db.session.get(Signature, signature.id).wants_updates
    assert _announce(appeal, "replied") == 0  # unsubscribed: the next update does not reach them
    assert len(_updates_received(sink.messages)) == 1


def test_a_second_announce_sends_nothing(smtp_app, appeal):
    _signed(appeal, "one@mail.example")
    db.session.commit()
    assert _announce(appeal) == 1
    assert _announce(appeal) == 0
    assert len(_updates_received(smtp_app.smtp_sink.wait_for(2))) == 1
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 1
    # Each event is announced once: the reply is a new one.
    assert _announce(appeal, "replied") == 1
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("updates.%"))).all()
    assert sorted(events) == ["updates.delivered_announced", "updates.replied_announced"]
    actors = set(db.session.scalars(select(AuditEvent.actor_id).where(AuditEvent.action.like("updates.%"))))
    assert actors == {appeal.owner_for_tests.id}


def test_only_opted_in_confirmed_counted_signers_are_told(smtp_app, appeal):
    owner = appeal.owner_for_tests
    _signed(appeal, "told@mail.example")
    _signed(appeal, "not-opted-in@mail.example", wants_updates=False)
    _signed(appeal, "pending@mail.example", confirm=False)
    withdrawn = _signed(appeal, "withdrawn@mail.example")
    rejected = _signed(appeal, "rejected@mail.example")
    db.session.flush()
    signing.withdraw(signing.withdrawal_token(withdrawn))
    rejected.reject(owner, "spam")
    db.session.commit()
    assert updates.subscriber_count(appeal) == 1
    assert _announce(appeal) == 1
    recipients = [m["To"] for m in _updates_received(smtp_app.smtp_sink.wait_for(6))]
    assert recipients == ["told@mail.example"]


def test_announce_goes_through_every_batch(smtp_app, appeal):
    for n in range(2 * updates.BATCH + 200):
        _signed(appeal, f"signer-{n}@mail.example", language="en")
    db.session.commit()
    sink = smtp_app.smtp_sink
    before = len(sink.messages)
    assert _announce(appeal) == 2 * updates.BATCH + 200
    received = _updates_received(sink.wait_for(before + 2 * updates.BATCH + 200, timeout=120))
    assert len({m["To"] for m in received}) == 2 * updates.BATCH + 200


def test_the_unsubscribe_page_is_a_plain_form_that_works_without_javascript(smtp_app, appeal):
    signature = _signed(appeal, "page@mail.example")
    db.session.commit()
    path = _path(external_url("updates.unsubscribe", token=updates.unsubscribe_token(signature)))
    client = smtp_app.test_client()
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and VERSIONS["ru"]["title"] in text
    assert re.search(r'<form method="post">', text) and 'type="submit"' in text
    assert "Анна Петрова" not in text and "page@mail.example" not in text  # the link alone reveals no one
    # Without its CSRF token the form is refused and changes nothing.
    assert client.post(path, data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).wants_updates
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    db.session.expire_all()
    assert not db.session.get(Signature, signature.id).wants_updates


def test_one_click_with_a_bad_token_answers_the_same_and_changes_nothing(smtp_app, appeal):
    signature = _signed(appeal, "kept@mail.example")
    db.session.commit()
    good = updates.unsubscribe_token(signature)
    client = smtp_app.test_client(use_cookies=False)
    for token in (good[:-3] + "AAA", signing.withdrawal_token(signature)):
        answer = client.post(f"/updates/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert answer.status_code == 200
    # Anything but the exact one-click body is a form post and needs the CSRF token.
    assert client.post(f"/updates/unsubscribe/{good}",
                       data={"List-Unsubscribe": "One-Click", "extra": "1"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).wants_updates



def test_the_signer_finds_the_opt_in_in_their_data_download(smtp_app, appeal):
    signature = _signed(appeal, "mine@mail.example")
    db.session.commit()
    [entry] = selfservice.export(signature.email_hash)["signatures"]
    assert entry["wants_updates"] is True
    updates.unsubscribe(updates.unsubscribe_token(signature))
    db.session.commit()
    [entry] = selfservice.export(signature.email_hash)["signatures"]
    assert entry["wants_updates"] is False


def test_updates_leave_only_with_the_commit_and_a_rollback_leaves_the_event_unannounced(smtp_app, appeal):
    _signed(appeal, "after-commit@mail.example")
    db.session.commit()
    assert updates.announce(appeal, "delivered", appeal.owner_for_tests) == 1
    db.session.rollback()
    assert _updates_received(smtp_app.smtp_sink.messages) == []
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0
    assert _announce(appeal) == 1
    assert len(_updates_received(smtp_app.smtp_sink.wait_for(2))) == 1


def test_on_postgresql_an_event_is_announced_once(postgres, smtp_server, tmp_path):  # noqa: F811
    sink, port = smtp_server
    app = create_app({**base_config(tmp_path / "unused.sqlite"), "SQLALCHEMY_DATABASE_URI": postgres["uri"],
                      "MAIL_PORT": port})
    with app.app_context():
        upgrade()
        appeal, owner = multilingual_appeal(("ru",))
        appeal.owner_for_tests = owner
        _signed(appeal, "pg@mail.example")
        db.session.commit()
        assert _announce(appeal) == 1
        assert _announce(appeal) == 0
        assert [m["To"] for m in _updates_received(sink.wait_for(1))] == ["pg@mail.example"]
        db.session.remove()
        db.engine.dispose()
