"""The transactional outbox over real SMTP (aiosmtpd on loopback): stored with the change, sent by a worker."""
import asyncio
import email
import email.policy
import json
import os
import signal
import string
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from itertools import product
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from petitions import crypto
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.mail import outbox, sending
from petitions.mail.models import OutboxMessage
from petitions.signing import operations as signing
from petitions.signing.models import Signature

from .conftest import SmtpSink, base_config, csrf_token, free_port, new_appeal
from .security.conftest import PASSWORD, login

ROOT = Path(__file__).resolve().parents[1]
NAMES = [f"Signer {a}{b}" for a, b in product(string.ascii_uppercase, string.ascii_lowercase)]


def open_appeal():
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def sign_over_http(client, slug: str, name: str, address: str) -> int:
    token = csrf_token(client, f"/a/{slug}/sign")
    return client.post(f"/a/{slug}/sign", data={"full_name": name, "affiliation": "Lawyer", "email": address,
                                                "consent": "y", "csrf_token": token}).status_code


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class Sink:
    """A real aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self, handler=None):
        self.handler = handler or SmtpSink()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Replying(SmtpSink):
    """Answer DATA with a fixed reply, counting the attempts."""

    def __init__(self, reply: str):
        super().__init__()
        self.reply, self.attempts = reply, 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        return self.reply


class Holding(SmtpSink):
    """Record each message on arrival; while `slow`, hold the reply (a server that takes its time)."""

    def __init__(self):
        super().__init__()
        self.slow = True
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.slow:
            self.holding.set()
            await asyncio.sleep(30)
        return reply


@contextmanager
def app_with_sink(make_app, handler, **config):
    """Yield (app, server) inside the app's context, with mail going to a real SMTP server using handler."""
    server = Sink(handler)
    server.start()
    app = make_app(MAIL_PORT=server.port, **config)
    try:
        with app.app_context():
            yield app, server
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()


@pytest.fixture
def sink():
    server = Sink()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_rollback_leaves_no_row_and_no_mail(make_app, sink):
    app = make_app(MAIL_PORT=sink.port)
    with app.app_context():
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        assert len(rows()) == 1  # written in the transaction, before any commit
        db.session.rollback()
        assert rows() == []
        assert sending.work_once(app) == 0
        assert sink.handler.messages == []
        db.session.remove()
        db.engine.dispose()


def test_the_row_is_stored_with_its_change_and_sent_after_commit(make_app, sink):
    app = make_app(MAIL_PORT=sink.port)
    with app.app_context():
        appeal = open_appeal()
        signature = signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org").signature
        [row] = rows()
        assert (row.kind, row.appeal_id, row.signature_id, row.status) == ("confirm", appeal.id, signature.id,
                                                                          "queued")
        assert row.body_encrypted is None  # the worker builds it when it sends it
        assert "leyla@example.org" not in row.recipients_encrypted  # encrypted at rest
        db.session.commit()
        [received] = sink.handler.wait_for(1)
        assert received["Message-ID"] == row.message_id and received["To"] == "leyla@example.org"
        assert sending.status_of(row.message_id) == "sent"
        [row] = rows()
        assert row.body_encrypted is None and row.recipients_encrypted is None  # nothing kept once handed over
        db.session.remove()
        db.engine.dispose()


def test_a_5xx_is_failed_with_its_reply_and_not_retried(make_app):
    with app_with_sink(make_app, Replying("554 5.7.1 Message rejected as spam")) as (app, server):
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        db.session.commit()  # outside a request: the commit hands the mail over before returning
        [row] = rows()
        assert row.status == "failed" and "554 5.7.1 Message rejected as spam" in row.last_error
        assert sending.status_of(row.message_id) == "failed"
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        sending.work_once(app)
        assert server.handler.attempts == 1


def test_a_4xx_is_retried_with_growing_delay(make_app):
    with app_with_sink(make_app, Replying("451 4.3.0 Try again later"), MAIL_RETRY_SECONDS=100,
                       MAIL_RETRY_MAX_SECONDS=10_000) as (app, server):
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        db.session.commit()
        delays = []
        for attempt in range(1, 4):
            [row] = rows()
            assert (row.status, row.attempts) == ("retrying", attempt) and "451 4.3.0" in row.last_error
            assert sending.status_of(row.message_id) == "retrying"
            delays.append((row.next_attempt_at - row.claimed_at).total_seconds())
            assert sending.work_once(app) == 0  # not due yet
            db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
            assert sending.work_once(app) == 1
        # Exponential with jitter: the n-th delay lies in [0.5, 1] x 100 s x 2^(n-1).
        assert all(50 * 2 ** n <= d <= 100 * 2 ** n + 1 for n, d in enumerate(delays)), delays
        assert delays[0] < delays[1] < delays[2]
        assert server.handler.attempts == 4


def test_200_signatures_while_smtp_is_down_arrive_exactly_once(make_app, sink):
    # The worker thread keeps trying during the outage (short delays), and must not give up.
    app = make_app(MAIL_PORT=sink.port, MAIL_RETRY_SECONDS=0.5, MAIL_RETRY_MAX_SECONDS=1, MAIL_MAX_ATTEMPTS=10_000)
    with app.app_context():
        appeal = open_appeal()
        sink.stop()
        client = app.test_client()
        for i in range(200):
            assert sign_over_http(client, appeal.slug, NAMES[i], f"signer{i}@example.org") == 303
        assert db.session.scalar(select(func.count(Signature.id))) == 200
        assert {r.status for r in rows()} <= {"queued", "retrying", "sending"}
        assert any(r.attempts for r in rows()), "the worker did not try during the outage"
        sink.start()
        assert wait_until(lambda: all(r.status == "sent" for r in rows()), 120)
        assert sending.wait_idle(app, 30)
        received = Counter(m["Message-ID"] for m in sink.handler.messages)
        assert len(received) == 200 and set(received.values()) == {1}
        assert set(received) == {r.message_id for r in rows()}
        assert {m["To"] for m in sink.handler.messages} == {f"signer{i}@example.org" for i in range(200)}
        db.session.remove()
        db.engine.dispose()


def worker_process(db_uri: str, port: int, instance: Path, command=("mail", "work"), **config) -> subprocess.Popen:
    settings = {**base_config(db_uri), "MAIL_PORT": port, **config}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({f"FLASK_{k}": (v if isinstance(v, str) else json.dumps(v))
                for k, v in settings.items() if v is not None})
    env.update(PETITIONS_INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "petitions", *command], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(make_app, tmp_path):
    holding = Holding()
    with app_with_sink(make_app, holding, MAIL_WORKER="process") as (app, server):
        db_uri = app.config["SQLALCHEMY_DATABASE_URI"]
        keys = {"DATA_KEYS": app.config["DATA_KEYS"]}
        appeal = open_appeal()
        for i in range(5):
            signing.sign(appeal, NAMES[i], "Lawyer", f"signer{i}@example.org")
        db.session.commit()
        assert [r.status for r in rows()] == ["queued"] * 5  # MAIL_WORKER = "process": nobody sent yet
        first = worker_process(db_uri, server.port, tmp_path / "w1", **keys)
        try:
            assert holding.holding.wait(60), "the worker never reached the sink"
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert [r.status for r in rows()] == ["sending"] + ["queued"] * 4
        holding.slow = False
        second = worker_process(db_uri, server.port, tmp_path / "w2", MAIL_CLAIM_TIMEOUT=1, **keys)
        try:
            assert wait_until(lambda: all(r.status == "sent" for r in rows()), 60)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
        received = Counter(m["Message-ID"] for m in holding.messages)
        assert set(received) == {r.message_id for r in rows()}  # none lost
        # The held one was resent after the kill: the copy carries the same Message-ID.
        assert received[rows()[0].message_id] == 2 and all(received[r.message_id] == 1 for r in rows()[1:])


def test_the_organizer_panel_counts_and_names_bounced_signers_never_their_address(make_app):
    with app_with_sink(make_app, Replying("550 5.1.1 No such user")) as (app, _server):
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        signing.sign(appeal, "Anonymous Person", "Lawyer", "hidden@example.org", visibility="anonymous")
        db.session.commit()
        client = app.test_client()
        login(client, "owner@coalition.example")
        page = client.get(f"/organizer/appeals/{appeal.slug}").get_data(as_text=True)
        assert "0 waiting to be sent, 0 sent, 2 failed" in page
        assert "could not be delivered" in page and "Leyla Məmmədova" in page
        assert "Anonymous Person" not in page and "hidden@example.org" not in page
        assert "leyla@example.org" not in page


def test_erasing_a_signer_deletes_their_mail_still_waiting(make_app):
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        signing.sign(appeal, "Other Signer", "Lawyer", "other@example.org")
        db.session.commit()
        outbox.forget("Leyla@example.org", [])
        db.session.commit()
        assert [r.kind for r in rows()] == ["confirm"]
        assert "other@example.org" in crypto.decrypt(rows()[0].recipients_encrypted)
        db.session.remove()
        db.engine.dispose()


def test_an_unreachable_server_puts_off_every_due_message_after_one_try(make_app):
    app = make_app(MAIL_WORKER="process")  # MAIL_PORT=1: nothing listens
    with app.app_context():
        appeal = open_appeal()
        for i in range(3):
            signing.sign(appeal, NAMES[i], "Lawyer", f"signer{i}@example.org")
        db.session.commit()
        assert sending.work_once(app) == 1
        assert [(r.status, r.attempts) for r in rows()] == [("retrying", 1), ("retrying", 0), ("retrying", 0)]
        assert all(r.next_attempt_at > utcnow() for r in rows()) and "unreachable" in rows()[2].last_error
        db.session.remove()
        db.engine.dispose()


# --- signer mails built by the worker when it sends them ---------------------------------------------

def test_a_signer_mail_is_built_once_when_first_tried_and_a_retry_sends_the_same_copy(make_app, monkeypatch):
    server = Sink()
    app = make_app(MAIL_WORKER="process", MAIL_PORT=server.port)  # nothing listens yet
    built = []
    real = sending._RENDERERS["confirm"]
    monkeypatch.setitem(sending._RENDERERS, "confirm", lambda *args: built.append(args) or real(*args))
    with app.app_context():
        appeal = open_appeal()
        signature = signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org").signature
        db.session.commit()
        [row] = rows()
        assert row.body_encrypted is None and row.subject == "" and built == []
        assert sending.work_once(app) == 1
        [row] = rows()
        assert row.status == "retrying" and row.subject == "Please confirm your signature: Free the journalists"
        kept = email.message_from_bytes(crypto.decrypt_bytes(row.body_encrypted), policy=email.policy.default)
        assert b"leyla@example.org" not in row.body_encrypted  # the kept copy is encrypted at rest
        server.start()
        try:
            db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
            assert sending.work_once(app) == 1
            [received] = server.handler.wait_for(1)
        finally:
            server.stop()
        assert len(built) == 1  # the retry sent the copy built on the first try
        assert received["Message-ID"] == row.message_id == kept["Message-ID"]
        assert received.get_content().rstrip() == kept.get_content().rstrip() and received["Date"] == kept["Date"]
        assert f"/confirm/{signing.confirmation_token(signature).split('.')[0]}." in received.get_content()
        db.session.remove()
        db.engine.dispose()


def test_a_signature_gone_before_its_mail_is_built_gets_no_mail(make_app, sink):
    app = make_app(MAIL_WORKER="process", MAIL_PORT=sink.port)
    with app.app_context():
        appeal = open_appeal()
        gone = signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org").signature
        signing.sign(appeal, "Other Signer", "Lawyer", "other@example.org")
        db.session.commit()
        gone_id = gone.id
        gone.withdraw()  # the tombstone keeps no address (a withdrawal link comes only in this very mail)
        db.session.commit()
        assert sending.work_once(app) == 2
        [received] = sink.handler.wait_for(1)
        assert received["To"] == "other@example.org"
        failed = [r for r in rows() if r.signature_id == gone_id]
        assert [(r.status, r.last_error) for r in failed] == [
            ("failed", "nothing to send: the signature it was for is gone")]
        db.session.remove()
        db.engine.dispose()


def test_a_mail_that_cannot_be_built_fails_alone_and_the_worker_goes_on(make_app, sink, monkeypatch, caplog):
    app = make_app(MAIL_WORKER="process", MAIL_PORT=sink.port)
    with app.app_context():
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        db.session.commit()
        signing.sign(appeal, "Other Signer", "Lawyer", "other@example.org")
        db.session.commit()
        real = sending._RENDERERS["confirm"]
        calls = []

        def broken_once(signature_id, recipient):
            calls.append(recipient)
            if len(calls) == 1:
                raise RuntimeError("a builder's bug")
            return real(signature_id, recipient)

        monkeypatch.setitem(sending._RENDERERS, "confirm", broken_once)
        assert sending.work_once(app) == 2
        [received] = sink.handler.wait_for(1)
        assert received["To"] == "other@example.org"
        first = rows()[0]
        assert first.status == "failed" and "could not be built" in first.last_error
        assert "a builder's bug" in caplog.text
        db.session.remove()
        db.engine.dispose()


def test_message_ids_name_the_site_not_the_machine(make_app):
    from flask_mail import Message

    app = make_app(MAIL_WORKER="process", PUBLIC_URL="https://petitions.example.org")
    with app.app_context():
        appeal = open_appeal()
        signing.sign(appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")  # built when sent
        plain = sending.queue(Message(subject="Hello", recipients=["someone@example.org"], body="Hi"), kind="test")
        again = Message(subject="Again", recipients=["someone@example.org"], body="Hi")
        again.msgId = ours = sending.new_message_id()  # what a delivery records before queueing
        assert sending.queue(again, kind="test") == ours
        db.session.commit()
        ids = [r.message_id for r in rows()]
        assert len(ids) == 3 and all(i.endswith("@petitions.example.org>") for i in ids + [plain]), ids
        assert len(set(ids)) == 3 and ours in ids
        db.session.remove()
        db.engine.dispose()
