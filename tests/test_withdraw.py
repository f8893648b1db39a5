"""Withdrawal links in every mail, and the confirmation mail sent again on request."""
import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from petitions.appeals import services as appeals
from petitions.audit.models import AuditEvent
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing import operations as signing
from petitions.signing.models import SignatureStatus
from petitions.signing.rules import counted_signatures

from .conftest import csrf_token, message_text, new_appeal
from .pdf_files import rendered_pdf

WITHDRAW_RE = re.compile(r"https?://\S+/withdraw/\S+")


@pytest.fixture
def appeal(smtp_app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Stop the trial of the reporters", "PACE", "We ask.")
    appeal.publish()
    db.session.commit()
    return appeal


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _last_mail_long_ago(sig):
    """Move the last re-sent mail back past RESEND_MIN_INTERVAL, which throttles signing again too."""
    sig.reminded_at -= timedelta(days=30)
    db.session.commit()


def test_every_mail_carries_a_withdrawal_link(smtp_app, appeal):
    sig = signing.sign(appeal, "Nigar Əliyeva", "Economist", "nigar@example.org").signature
    db.session.commit()
    signing.sign(appeal, "Nigar Əliyeva", "Economist", "nigar@example.org")  # pending: confirmation again
    db.session.commit()
    signing.confirm(signing.confirmation_token(sig))
    db.session.commit()
    _last_mail_long_ago(sig)
    signing.sign(appeal, "Nigar Əliyeva", "Economist", "nigar@example.org")  # confirmed: "already signed"
    db.session.commit()
    sig.created_at -= timedelta(days=30)
    sig.reminded_at -= timedelta(days=30)
    sig.status = SignatureStatus.PENDING  # only pending signatures get reminders
    db.session.commit()
    signing.remind_unconfirmed(appeal, None)
    db.session.commit()
    messages = smtp_app.smtp_sink.wait_for(4)
    assert [m["Subject"].split(":")[0].strip() for m in messages] == [
        "Please confirm your signature", "Please confirm your signature", "You have already signed",
        "Reminder"]
    for msg in messages:
        assert WITHDRAW_RE.search(message_text(msg)), msg["Subject"]


def test_withdraw_get_shows_a_button_and_only_post_withdraws(smtp_app, appeal):
    sig = signing.sign(appeal, "Kamal Məmmədli", "Teacher", "kamal@example.org").signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(sig))
    db.session.commit()
    assert [s.id for s in counted_signatures(appeal)] == [sig.id]
    [msg] = smtp_app.smtp_sink.wait_for(1)
    url = path_of(WITHDRAW_RE.search(message_text(msg)).group(0))
    client = smtp_app.test_client()

    page = client.get(url)
    assert page.status_code == 200 and "Withdraw my signature" in page.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.CONFIRMED
    assert client.post(url, data={}).status_code == 400  # no CSRF token: nothing happens

    done = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert done.status_code == 200 and "withdrawn" in done.get_data(as_text=True)
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.WITHDRAWN and sig.withdrawn_at
    assert sig.email_hash is None and sig.email_encrypted is None
    assert counted_signatures(appeal) == []
    assert appeals.signature_counts([appeal.id])[appeal.id]["confirmed"] == 0
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.appeal_id == appeal.id)) \
        == "signature.withdrawn"

    again = client.get(url)
    assert again.status_code == 400 and "already been withdrawn" in again.get_data(as_text=True)
    # The address may sign again later, as a new signature.
    assert signing.sign(appeal, "Kamal Məmmədli", "Teacher", "kamal@example.org").created


def test_withdrawn_signature_leaves_the_pdf(smtp_app, appeal):
    stay = signing.sign(appeal, "Lalə Rzayeva", "Poet", "lale@example.org").signature
    leave = signing.sign(appeal, "Fuad Bağırov", "Engineer", "fuad@example.org").signature
    db.session.commit()
    for sig in (stay, leave):
        signing.confirm(signing.confirmation_token(sig))
    signing.withdraw(signing.withdrawal_token(leave))
    db.session.commit()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(rendered_pdf(appeal))).pages)
    assert "Lalə Rzayeva" in text and "Bağırov" not in text


def test_bad_withdrawal_links_get_4xx(smtp_app, appeal):
    sig = signing.sign(appeal, "X Y", "", "xy@example.org").signature
    db.session.commit()
    token = signing.withdrawal_token(sig)
    client = smtp_app.test_client()
    assert client.get("/withdraw/garbage").status_code == 400
    # A confirmation token is not a withdrawal token (each purpose has its own salt).
    assert client.get(f"/withdraw/{signing.confirmation_token(sig)}").status_code == 400
    smtp_app.config["WITHDRAW_TOKEN_MAX_AGE"] = -1
    assert client.get(f"/withdraw/{token}").status_code == 410
    db.session.refresh(sig)
    assert sig.status is SignatureStatus.PENDING


def test_resend_gives_the_same_answer_and_mails_only_pending_signers(smtp_app, appeal):
    pending = signing.sign(appeal, "Aynur Qasımova", "", "aynur@example.org").signature
    done = signing.sign(appeal, "Elnur Sadıqov", "", "elnur@example.org").signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(done))
    db.session.commit()
    smtp_app.smtp_sink.wait_for(2)
    client = smtp_app.test_client()
    url = f"/a/{appeal.slug}/resend"
    assert "Send the link again" in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    token = csrf_token(client, url)
    answers = [client.post(url, data={"email": email, "csrf_token": token})
               for email in ("aynur@example.org", "elnur@example.org", "nobody@example.org", "AYNUR@example.org")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data(as_text=True) for a in answers}) == 1
    messages = smtp_app.smtp_sink.wait_for(3)
    assert len(messages) == 3 and messages[2]["To"] == "aynur@example.org"  # the 4th came too soon after the 3rd
    bad = client.post(url, data={"email": "not an address", "csrf_token": token})
    assert bad.status_code == 422 and "valid e-mail" in bad.get_data(as_text=True)
    db.session.refresh(pending)
    assert pending.reminded_at is not None


def test_resend_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RESEND_RATE_LIMIT="2 per hour")
    with app.app_context():
        owner = register_user("O", "o@example.org", "a long password")
        appeal = new_appeal(owner, "Limits", "", "Body")
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
        client = app.test_client()
        url = f"/a/{slug}/resend"
        token = csrf_token(client, url)
        codes = [client.post(url, data={"email": "n@example.org", "csrf_token": token}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        db.session.remove()
        db.engine.dispose()
