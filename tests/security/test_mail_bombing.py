"""Threat: the site as a mail cannon against a victim's mailbox, from many clients or a fresh account.

Re-signing, self-service links and import invitations are throttled per recipient, per account and per
appeal, and the public screens answer the same whether a mail went out or not.
"""
from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.signatories import importing
from petitions.signing import operations as signing
from petitions.signing.models import Signature

from ..conftest import csrf_token, new_appeal
from .conftest import PASSWORD, login

VICTIM = "victim@example.org"
CLIENTS = 15


@pytest.fixture
def app(smtp_app):
    """The cast's app, with mail over real SMTP."""
    return smtp_app


def delivered(app, to: str | None = None) -> list:
    assert sending.wait_idle(app)
    return [m for m in app.smtp_sink.messages if to is None or m["To"] == to]


def client_from(app, n: int):
    """A separate client with its own address, as an attacker's botnet would be."""
    g.pop("csrf_token", None)  # the test's app context would hand the previous client's token to the next
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
    return client


def resign_from_many_clients(app, appeal, address) -> set[tuple[int, str]]:
    answers = set()
    for n in range(CLIENTS):
        client = client_from(app, n)
        token = csrf_token(client, f"/a/{appeal.slug}/sign")
        response = client.post(f"/a/{appeal.slug}/sign", data={
            "full_name": f"Attacker Botnet{'abcdefghijklmnopq'[n]}", "affiliation": "", "email": address,
            "consent": "y", "csrf_token": token})
        answers.add((response.status_code, response.headers.get("Location", "")))
    return answers


@pytest.mark.parametrize("confirmed", [False, True])
def test_signing_again_from_many_clients_sends_one_mail(app, world, confirmed):
    victim = signing.sign(world.appeal, "Real Victim", "Journalist", VICTIM).signature
    db.session.commit()
    if confirmed:
        signing.confirm(signing.confirmation_token(victim))
        db.session.commit()
    before = len(delivered(app, VICTIM))
    answers = resign_from_many_clients(app, world.appeal, VICTIM)
    assert len(answers) == 1 and next(iter(answers))[0] == 303  # every client sees the same answer
    assert len(delivered(app, VICTIM)) - before == 1
    assert db.session.scalar(select(func.count(Signature.id))) == 1
    # The button "send the link again" obeys the same throttle.
    client = client_from(app, 99)
    url = f"/a/{world.appeal.slug}/resend"
    assert client.post(url, data={"email": VICTIM, "csrf_token": csrf_token(client, url)}).status_code == 200
    assert len(delivered(app, VICTIM)) - before == 1
    # Once RESEND_MIN_INTERVAL has passed, the owner of the address can get a mail again.
    db.session.expire_all()
    victim = db.session.get(Signature, victim.id)
    victim.reminded_at -= timedelta(seconds=app.config["RESEND_MIN_INTERVAL"] + 1)
    db.session.commit()
    resign_from_many_clients(app, world.appeal, VICTIM)
    assert len(delivered(app, VICTIM)) - before == 2


@pytest.fixture
def limited_app(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, RATELIMIT_ENABLED=True)
    app.smtp_sink = sink
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("has_signed", [True, False])
def test_self_service_links_to_one_address_are_bounded_across_clients(limited_app, has_signed):
    app = limited_app
    if has_signed:
        owner = register_user("Owner", "owner@coalition.example", PASSWORD)
        appeal = new_appeal(owner, "Free the journalists", "Secretary General")
        appeal.publish()
        signing.sign(appeal, "Real Victim", "Journalist", VICTIM)
        db.session.commit()
    before = len(delivered(app, VICTIM))
    pages = set()
    for n in range(CLIENTS):
        client = client_from(app, n)
        token = csrf_token(client, "/privacy/my-data")
        response = client.post("/privacy/my-data", data={"email": VICTIM, "csrf_token": token})
        pages.add((response.status_code, response.get_data(as_text=True).replace(token, "")))
    assert len(pages) == 1 and next(iter(pages))[0] == 200  # the same screen, mail or not
    sent = len(delivered(app, VICTIM)) - before
    assert 1 <= sent <= 3  # SELF_SERVICE_ADDRESS_LIMIT
    # Per address, not for everyone: another signer still gets a link.
    client = client_from(app, 200)
    token = csrf_token(client, "/privacy/my-data")
    client.post("/privacy/my-data", data={"email": "someone.else@example.org", "csrf_token": token})
    assert len(delivered(app, "someone.else@example.org")) == 1


def invite_list(count: int, start: int = 0) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "\n".join(f"Invited {letters[i // 676 % 26]}{letters[i // 26 % 26]}{letters[i % 26]}son "
                     f"<victim{i}@example.org>" for i in range(start, start + count))


def test_a_fresh_account_cannot_send_a_thousand_invitations(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, IMPORT_INVITE_NEW_ACCOUNT_LIMIT=20)
    app.smtp_sink = sink
    with app.app_context():
        spammer = register_user("Fresh Account", "fresh@attacker.example", PASSWORD)
        appeal = new_appeal(spammer, "Buy cheap watches", "Everyone")
        appeal.publish()
        db.session.commit()
        client = app.test_client()
        login(client, spammer.email)
        url = f"/organizer/appeals/{appeal.slug}/import"
        response = client.post(url, data={"payload": invite_list(1000), "kind": "lines", "mode": "invite",
                                          "seal": importing.seal(appeal, invite_list(1000), "lines"),
                                          "submit": "Import", "csrf_token": csrf_token(client, url)})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "1000 invitation mails" in page and "at most 20 a day" in page
        assert delivered(app) == [] and db.session.scalar(select(func.count(Signature.id))) == 0
        db.session.remove()
        db.engine.dispose()


def invite(appeal, user, text) -> int:
    return importing.import_list(appeal, user, text, "lines", "invite", skip_existing=False).invited


def test_invitations_are_capped_per_account_and_per_appeal(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, IMPORT_INVITE_DAILY_LIMIT=12, IMPORT_INVITE_NEW_ACCOUNT_LIMIT=3)
    app.smtp_sink = sink
    with app.app_context():
        owner = register_user("Owner", "owner@coalition.example", PASSWORD)
        colleague = register_user("Colleague", "colleague@coalition.example", PASSWORD)
        for user in (owner, colleague):
            user.created_at -= timedelta(days=app.config["IMPORT_NEW_ACCOUNT_DAYS"] + 1)
        appeal = new_appeal(owner, "Free the journalists", "Secretary General")
        other = new_appeal(owner, "Stop torture", "Rapporteur")
        appeal.publish(), other.publish()
        db.session.commit()
        assert invite(appeal, owner, invite_list(8)) == 8
        db.session.commit()
        with pytest.raises(importing.ImportRefused, match="only 4 more"):
            invite(other, owner, invite_list(5, start=100))  # per account
        db.session.rollback()
        # Rows that would send nothing (no address, twice in the list) do not count against the limit.
        assert invite(other, owner, invite_list(4, start=200) + "\n" + invite_list(4, start=200)
                      + "\nNo Address Person") == 4
        db.session.commit()
        with pytest.raises(importing.ImportRefused):
            invite(other, owner, invite_list(1, start=300))
        db.session.rollback()
        # Another organizer of the same appeal shares the appeal's limit.
        assert invite(appeal, colleague, invite_list(4, start=400)) == 4
        db.session.commit()
        with pytest.raises(importing.ImportRefused):
            invite(appeal, colleague, invite_list(1, start=500))
        db.session.rollback()
        # Vouched imports send no mail and are not limited.
        assert importing.import_list(appeal, owner, invite_list(30, start=600), "lines", "vouched",
                                     skip_existing=False).created == 30
        db.session.commit()
        assert len(delivered(app)) == 16
        db.session.remove()
        db.engine.dispose()


def test_co_organizer_invitations_are_a_budget_per_account_that_a_new_login_does_not_reset(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, RATELIMIT_ENABLED=True, INVITE_RATE_LIMIT="3 per day")
    app.smtp_sink = sink
    with app.app_context():
        owner = register_user("Owner", "owner@coalition.example", PASSWORD)
        appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
        db.session.commit()
        answers = []
        for n in range(5):
            client = app.test_client()  # a fresh login each time: a new session token, the same account
            assert login(client, owner.email).status_code == 303
            url = f"/organizer/appeals/{appeal.slug}/members"
            answers.append(client.post(url, data={"email": f"{VICTIM.split('@')[0]}{n}@example.org",
                                                  "role": "editor", "csrf_token": csrf_token(client, url)}).status_code)
        assert answers == [303, 303, 303, 429, 429]
        assert len(delivered(app)) == 3
        db.session.remove()
        db.engine.dispose()
