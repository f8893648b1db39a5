"""What the outbox holds follows the privacy rules (issue 12, points 5 and 6): `flask keys rotate` re-encrypts it,
and `flask purge` clears finished mail after OUTBOX_RETENTION_DAYS while the organizers' counts stay."""
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import FAILED, QUEUED, OutboxMessage
from petitions.privacy.retention import purge
from petitions.signing import operations as signing

from .conftest import LINK_RE, message_text, new_appeal
from .test_delivery import PASSWORD


def open_appeal():
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = new_appeal(owner, "Free the journalists", "Secretary General")
    appeal.publish()
    db.session.commit()
    return appeal


@pytest.fixture
def waiting_app(make_app, smtp_server):
    """Mail is only sent when the test runs a worker pass (as with `flask mail work`)."""
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, MAIL_WORKER="process")
    app.smtp_sink = sink
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_mail_queued_under_the_old_key_is_sent_after_rotation(waiting_app):
    app = waiting_app
    signing.sign(open_appeal(), "Leyla Məmmədova", "", "leyla@example.org")
    db.session.commit()
    old_key, new_key = app.config["DATA_KEYS"][0], Fernet.generate_key().decode()
    app.config["DATA_KEYS"] = [new_key, old_key]
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "1"])
    assert result.exit_code == 0 and "Re-encrypted 1 messages waiting in the outbox" in result.output
    app.config["DATA_KEYS"] = [new_key]  # the old key is gone: only a rotated row can still be read
    assert sending.work_once(app) == 1
    [msg] = app.smtp_sink.wait_for(1)
    assert msg["To"] == "leyla@example.org" and LINK_RE.search(message_text(msg))
    row = db.session.scalar(select(OutboxMessage))
    db.session.refresh(row)
    assert row.status == "sent"


def test_rotation_says_when_a_held_mail_cannot_be_opened(waiting_app):
    signing.sign(open_appeal(), "Leyla Məmmədova", "", "leyla@example.org")
    db.session.commit()
    waiting_app.config["DATA_KEYS"] = [Fernet.generate_key().decode()]
    result = waiting_app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code != 0 and "could not be decrypted" in result.output


@pytest.fixture(params=["sqlite", "postgresql"])
def kept_copies_app(request, make_app, tmp_path):
    """Sent mail keeps its copy (the dev outbox transport): the purge must still clear it. On both databases."""
    if request.param == "sqlite":
        yield make_app(MAIL_TRANSPORT="outbox")
        return
    server = request.getfixturevalue("postgres_server")
    server.dropdb("outbox_purge")
    app = make_app(MAIL_TRANSPORT="outbox", SQLALCHEMY_DATABASE_URI=server.createdb("outbox_purge"))
    with app.app_context():
        upgrade()
    yield app
    server.dropdb("outbox_purge")


def test_purge_clears_finished_mail_after_the_retention_and_keeps_the_counts(kept_copies_app):
    app = kept_copies_app
    with app.app_context():
        appeal = open_appeal()
        for i in range(4):
            signing.sign(appeal, f"Signer {i}", "", f"signer{i}@example.org")
            db.session.commit()
        sent, failed, waiting, fresh = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        failed.status, failed.last_error = FAILED, "550 5.1.1 <signer1@example.org>: Recipient address rejected"
        waiting.status = QUEUED
        for row in (sent, failed, waiting):
            row.created_at -= timedelta(days=app.config["OUTBOX_RETENTION_DAYS"] + 1)
        db.session.commit()
        counts = sending.counts_for(appeal.id)
        assert counts == {"queued": 1, "sent": 2, "failed": 1}

        report = purge()
        db.session.commit()
        db.session.expire_all()
        assert report.mails_cleared == 2
        for row in (sent, failed):
            assert row.recipients_encrypted is None and row.body_encrypted is None
        assert failed.last_error == "550"
        for row in (waiting, fresh):  # still to be sent, or not old enough
            assert row.recipients_encrypted is not None and row.body_encrypted is not None
        assert sending.counts_for(appeal.id) == counts
        assert sending.failed_signature_ids(appeal.id) == [failed.signature_id]
        assert purge().mails_cleared == 0
        db.session.remove()
        db.engine.dispose()
