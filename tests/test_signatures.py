"""Signing and confirming through the service layer, with mail over real SMTP."""
from datetime import timedelta

import pytest
from flask_mail import Message
from sqlalchemy import func, select

from petitions import crypto
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.signing import operations as services
from petitions import links as tokens
from petitions.signing.models import Signature, SignatureStateError, SignatureStatus
from petitions.signing import names

from .conftest import LINK_RE, message_text, new_appeal
from .i18n_data import ORIGINAL, VERSIONS, multilingual_appeal


@pytest.fixture
def appeal(smtp_app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free Rəşad", "PACE", "We ask for his release.")
    appeal.publish()
    db.session.commit()
    return appeal


def count(appeal):
    return db.session.scalar(select(func.count()).select_from(Signature).where(Signature.appeal_id == appeal.id))


def token_from(msg) -> str:
    return LINK_RE.search(message_text(msg)).group(0).split("?")[0].rsplit("/", 1)[1]  # the link ends in ?lang=


def test_sign_stores_a_pending_signature_and_mails_a_link(smtp_app, appeal):
    outcome = services.sign(appeal, "Gülnar Şirinova", "Lawyer", "Gulnar@Example.org")
    db.session.commit()
    assert outcome.created and outcome.signature.status is SignatureStatus.PENDING
    assert outcome.signature.text_hash == appeal.content_hash
    [msg] = smtp_app.smtp_sink.wait_for(1)
    assert msg["To"] == "Gulnar@Example.org"
    assert "confirm" in msg["Subject"].lower()
    sig, changed = services.confirm(token_from(msg))
    db.session.commit()
    assert changed and sig.status is SignatureStatus.CONFIRMED and sig.confirmed_at


def test_email_is_stored_only_encrypted_and_hashed(smtp_app, appeal):
    sig = services.sign(appeal, "A B", "", "private.person@example.org").signature
    db.session.commit()
    assert "private.person" not in (sig.email_encrypted or "")
    assert sig.email_hash == crypto.email_hash("PRIVATE.person@example.org ")
    assert crypto.decrypt(sig.email_encrypted) == "private.person@example.org"


def test_signing_twice_keeps_one_signature_and_says_so_by_mail(smtp_app, appeal):
    services.sign(appeal, "Name One", "", "twice@example.org")
    db.session.commit()
    first = smtp_app.smtp_sink.wait_for(1)[0]
    services.confirm(token_from(first))
    db.session.commit()
    again = services.sign(appeal, "Name Two", "Other", "TWICE@example.org")
    db.session.commit()
    assert not again.created and count(appeal) == 1
    assert again.signature.full_name == "Name One"
    second = smtp_app.smtp_sink.wait_for(2)[1]
    assert "already signed" in second["Subject"].lower()


def test_signing_again_while_pending_resends_the_link(smtp_app, appeal):
    services.sign(appeal, "P", "", "p@example.org")
    db.session.commit()
    services.sign(appeal, "P", "", "p@example.org")
    db.session.commit()
    msgs = smtp_app.smtp_sink.wait_for(2)
    assert count(appeal) == 1 and all("confirm" in m["Subject"].lower() for m in msgs)


def test_confirming_twice_is_harmless(smtp_app, appeal):
    sig = services.sign(appeal, "C", "", "c@example.org").signature
    db.session.commit()
    token = services.confirmation_token(sig)
    assert services.confirm(token)[1] is True
    confirmed_at = sig.confirmed_at
    assert services.confirm(token)[1] is False
    assert sig.confirmed_at == confirmed_at


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: "",
    lambda t: tokens.make_token("another-purpose", {"s": 1, "h": "x"}),
])
def test_tampered_tokens_are_refused(smtp_app, appeal, mangle):
    sig = services.sign(appeal, "T", "", "t@example.org").signature
    db.session.commit()
    with pytest.raises(tokens.TokenError):
        services.confirm(mangle(services.confirmation_token(sig)))
    assert sig.status is SignatureStatus.PENDING


def test_token_for_another_address_is_refused(smtp_app, appeal):
    sig = services.sign(appeal, "T", "", "t@example.org").signature
    db.session.commit()
    forged = tokens.make_token(tokens.CONFIRM, {"s": sig.id, "h": "0" * 16})
    with pytest.raises(tokens.TokenError):
        services.confirm(forged)


def test_expired_token_is_refused(smtp_app, appeal, monkeypatch):
    sig = services.sign(appeal, "E", "", "e@example.org").signature
    db.session.commit()
    token = services.confirmation_token(sig)
    smtp_app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    with pytest.raises(tokens.TokenError) as info:
        services.confirm(token)
    assert info.value.expired and sig.status is SignatureStatus.PENDING


def test_draft_and_closed_appeals_refuse_signatures(smtp_app, appeal):
    draft = new_appeal(appeal.owner, "Draft", "", "Body")
    with pytest.raises(services.SigningClosed):
        services.sign(draft, "N", "", "n@example.org")
    appeal.close()
    with pytest.raises(services.SigningClosed):
        services.sign(appeal, "N", "", "n@example.org")
    assert count(draft) == 0 and count(appeal) == 0


def test_pending_signature_cannot_be_confirmed_after_closing(smtp_app, appeal):
    sig = services.sign(appeal, "Late", "", "late@example.org").signature
    appeal.close()
    db.session.commit()
    with pytest.raises(services.SigningClosed):
        services.confirm(services.confirmation_token(sig))
    assert sig.status is SignatureStatus.PENDING


def test_mail_is_sent_only_after_commit_and_dropped_on_rollback(smtp_app, appeal):
    sending.queue(Message("rolled back", recipients=["a@example.org"], body="x"))
    db.session.rollback()
    sending.queue(Message("committed", recipients=["b@example.org"], body="y"))
    assert smtp_app.smtp_sink.messages == []  # nothing leaves before the commit
    db.session.commit()
    msgs = smtp_app.smtp_sink.wait_for(1)
    assert [m["Subject"] for m in msgs] == ["committed"]


def test_signature_survives_a_mail_server_outage(make_app):
    app = make_app(MAIL_PORT=1)  # nothing listens there
    with app.app_context(), app.test_request_context():
        owner = register_user("O", "o@example.org", "a long password")
        appeal = new_appeal(owner, "T", "", "B")
        appeal.publish()
        services.sign(appeal, "Kept", "", "kept@example.org")
        db.session.commit()
        assert count(appeal) == 1
        db.session.remove()
        db.engine.dispose()


def test_reminder_mail_is_built_like_every_signer_mail_in_the_version_read(smtp_app):
    appeal, _owner = multilingual_appeal(("ru",))
    sig = services.sign(appeal, "Ольга Смирнова", "", "olga@example.org", language="ru").signature
    sig.created_at -= timedelta(days=3)  # reminders skip signatures younger than an hour
    db.session.commit()
    smtp_app.smtp_sink.wait_for(1)
    assert services.remind_unconfirmed(appeal, None) == 1
    db.session.commit()
    reminder = smtp_app.smtp_sink.wait_for(2)[1]
    # The subject names the appeal as the signer read it, not in the original's words.
    assert VERSIONS["ru"]["title"] in reminder["Subject"] and ORIGINAL["title"] not in reminder["Subject"]
    assert "/withdraw/" in message_text(reminder)  # the footer every signer mail carries
    assert "Подпись ещё не подтверждена" in message_text(reminder)  # the body too is in the signer's language
    assert VERSIONS["ru"]["title"] in message_text(reminder)
    assert sig.reminded_at is not None


def test_sign_cleans_names_on_every_path(appeal):
    sig = services.sign(appeal, "  Leyla\u00a0 Yunus ", " Institute  for Peace ", "leyla@example.org",
                        country=" Azerbaijan ").signature
    assert (sig.full_name, sig.affiliation, sig.country) == ("Leyla Yunus", "Institute for Peace", "Azerbaijan")
    with pytest.raises(names.InvalidName):
        services.sign(appeal, "Leyla\u202e Yunus", "", "other@example.org")
    assert count(appeal) == 1


def test_reminder_and_reconfirmation_moves_refuse_the_wrong_state(appeal):
    sig = services.sign(appeal, "Leyla Yunus", "", "leyla@example.org").signature
    with pytest.raises(SignatureStateError):
        sig.reconfirm(appeal.published_revision)  # not confirmed yet: nothing to move
    with pytest.raises(SignatureStateError):
        sig.note_reconfirmation_requested()
    sig.confirm()
    with pytest.raises(SignatureStateError):
        sig.note_mailed_again(sig.confirmed_at)  # a confirmed signature is not reminded
    sig.reconfirm(appeal.published_revision)
    assert (sig.revision_id, sig.text_hash) == (appeal.published_revision_id, appeal.published_revision.content_hash)
    sig.withdraw()
    with pytest.raises(SignatureStateError):
        sig.reconfirm(appeal.published_revision)
