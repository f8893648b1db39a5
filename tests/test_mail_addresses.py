"""Addresses the site can mail (issue 12, point 3): a non-ASCII local part is refused at every form that takes an
address, with one translated message, and never reaches the mail server; a non-ASCII domain is sent as punycode."""
import html
import threading

import pytest
from aiosmtpd.controller import Controller
from flask_mail import Message
from sqlalchemy import func, select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import OutboxMessage
from petitions.signatories import importing

from .conftest import csrf_token, free_port, new_appeal
from .test_delivery import closed_appeal, compose_url, cover_form, login

NON_ASCII_LOCAL = ["пример@example.org", "josé@example.com"]
REFUSAL = "letters other than a–z before the @"


class EnvelopeSink:
    """An SMTP server that offers SMTPUTF8 and keeps each envelope with the bytes it received."""

    def __init__(self):
        self.envelopes = []
        self.received = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.received:
            self.envelopes.append(envelope)
            self.received.notify_all()
        return "250 Message accepted"


@pytest.fixture
def app(make_app):
    """An app whose mail goes to a loopback SMTP server that offers SMTPUTF8."""
    sink, port = EnvelopeSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    app = make_app(MAIL_PORT=port)
    app.sink = sink
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        controller.stop()


def outbox_rows() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def open_appeal():
    owner = register_user("Owner", "owner@coalition.example", "a long password")
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal, owner


def assert_refused(response, message=REFUSAL):
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, response.status_code
    assert message in page, "no message says why the address is refused"


@pytest.mark.parametrize("address, message", [(a, REFUSAL) for a in NON_ASCII_LOCAL] + [
    ("victim@example.org\r\nBcc: evil@attacker.example", "line break"),
    ("victim@example.org\x00", "NUL character"),
    ("victim@example.org, evil@attacker.example", "Enter a valid e-mail address."),
    ("Victim <evil@attacker.example>", "Enter a valid e-mail address."),
])
def test_every_public_form_refuses_an_address_it_cannot_mail(app, address, message):
    appeal, _owner = open_appeal()
    client = app.test_client()
    forms = {
        f"/a/{appeal.slug}/sign": (f"/a/{appeal.slug}/sign", {"full_name": "Leyla Məmmədova", "consent": "y"}),
        f"/a/{appeal.slug}/resend": (f"/a/{appeal.slug}/resend", {}),
        "/privacy/my-data": ("/privacy/my-data", {}),
        "/auth/register": ("/auth/register", {}),
    }
    for target, (page, data) in forms.items():
        response = client.post(target, data={**data, "email": address, "csrf_token": csrf_token(client, page)})
        assert_refused(response, message)
    assert outbox_rows() == 0


@pytest.mark.parametrize("address", NON_ASCII_LOCAL)
def test_every_organizer_form_refuses_a_non_ascii_local_part(app, address):
    appeal, owner = closed_appeal(sign=False)
    client = app.test_client()
    login(client, owner.email)
    assert_refused(client.post(compose_url(appeal), data=cover_form(client, appeal, recipient=address, send="1")))
    url = f"/organizer/appeals/{appeal.slug}/members"
    assert_refused(client.post(url, data={"email": address, "role": "editor", "csrf_token": csrf_token(client, url)}))
    assert outbox_rows() == 0


@pytest.mark.parametrize("address", NON_ASCII_LOCAL)
def test_an_imported_row_with_such_an_address_says_why_and_gets_no_invitation(app, address):
    appeal, owner = open_appeal()
    preview = importing.preview(appeal, f"Nərmin Həsənova {address}", "lines")
    [row] = preview.rows
    assert row.email is None and any(p.startswith("invalid_email:") and REFUSAL in p for p in row.problems)
    result = importing.import_list(appeal, owner, f"Nərmin Həsənova {address}", "lines", "invite")
    db.session.commit()
    assert result.invited == 0 and [line for line, _reason in result.skipped] == [1]
    assert outbox_rows() == 0


@pytest.mark.parametrize("address", NON_ASCII_LOCAL)
def test_the_outbox_refuses_it_even_where_the_server_offers_smtputf8(app, address):
    # A path that skips the forms (an old row, a script) still cannot hand the server a mangled address.
    assert sending.queue(Message(subject="Hello", recipients=[address], body="Text.")) is None
    db.session.commit()
    sending.wait_idle(app)
    assert outbox_rows() == 0 and app.sink.envelopes == []


def test_a_non_ascii_domain_is_delivered_as_punycode(app):
    appeal, _owner = open_appeal()
    client = app.test_client()
    response = client.post(f"/a/{appeal.slug}/sign", data={
        "full_name": "Leyla Məmmədova", "email": "leyla@bücher.example", "consent": "y",
        "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign")})
    assert response.status_code == 303
    sending.wait_idle(app)
    with app.sink.received:
        app.sink.received.wait_for(lambda: app.sink.envelopes, 10)
    [envelope] = app.sink.envelopes
    assert envelope.rcpt_tos == ["leyla@xn--bcher-kva.example"]
    assert b"\nTo: leyla@xn--bcher-kva.example\r\n" in envelope.original_content
