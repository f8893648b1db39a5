"""Threat: a mail server that accepts connections and never answers (or refuses them) takes the site down.

Pages must answer while the server stalls, the signature must be stored, and the failure must be logged.
"""
import logging
import socket
import threading

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import OutboxMessage
from petitions.signing.models import Signature

from ..conftest import csrf_token, new_appeal

# Generous: far beyond what answering a page takes, far below "the server stalls forever".
ANSWER_WITHIN = 20.0


class StalledSmtp:
    """A socket on loopback that accepts connections and never says a word, until released."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.socket.getsockname()[1]
        self.released = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.socket.settimeout(0.2)
        while not self.released.is_set():
            try:
                conn, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def release(self):
        """Hang up on everyone, so that a client without a timeout is freed (the test must not hang)."""
        self.released.set()
        self.thread.join()
        for conn in self.connections:
            conn.close()
        self.socket.close()


@pytest.fixture
def stalled():
    server = StalledSmtp()
    try:
        yield server
    finally:
        server.release()


def open_appeal(app, title: str = "Free the journalists"):
    from petitions.auth.services import register_user

    owner = register_user("Owner", "owner@coalition.example", "a long password")
    appeal = new_appeal(owner, title, "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal


def in_thread(fn):
    """Run fn in a thread (as a server worker would); return (thread, results)."""
    results = []
    thread = threading.Thread(target=lambda: results.append(fn()), daemon=True)
    thread.start()
    return thread, results


def sign(app, slug, name, address, client=None):
    # Inside the test's app context Flask-WTF caches the CSRF token in `g`: reuse one client there.
    client = client or app.test_client()
    token = csrf_token(client, f"/a/{slug}/sign")
    return client.post(f"/a/{slug}/sign", data={"full_name": name, "affiliation": "Lawyer", "email": address,
                                                "consent": "y", "csrf_token": token}).status_code


def stored(app) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Signature.id)))


def test_a_stalled_mail_server_does_not_hold_pages(make_app, stalled, caplog):
    app = make_app(MAIL_PORT=stalled.port, MAIL_TIMEOUT=2, MAIL_QUEUE_SIZE=1)
    caplog.set_level(logging.ERROR, logger="petitions.mail.sending")
    with app.app_context():
        # A title of its own: other tests' senders may still be retrying in the background, into the same log.
        slug = open_appeal(app, "Stalled server appeal").slug
        signers = [in_thread(lambda i=i: sign(app, slug, f"Signer Number{'abcdef'[i]}", f"s{i}@example.org"))
                   for i in range(6)]
        home = in_thread(lambda: app.test_client().get("/").status_code)
        for thread, _ in signers + [home]:
            thread.join(ANSWER_WITHIN)
        answered_while_stalled = not any(t.is_alive() for t, _ in signers + [home])
        # Still stalled: only MAIL_TIMEOUT can end the attempts now.
        idle = answered_while_stalled and sending.wait_idle(app, 60)
        stalled.release()  # frees a client without a timeout, so that a failing run ends too
        for thread, _ in signers + [home]:
            thread.join()
        assert answered_while_stalled, "a page waited for the stalled mail server"
        assert [r for _, rs in signers for r in rs] == [303] * 6
        assert home[1] == [200]
        assert stored(app) == 6  # every signature kept
        assert idle, "the sender is still waiting for the stalled server"
        failures = [r.getMessage() for r in caplog.records
                    if "mail failed" in r.getMessage() and "Stalled server appeal" in r.getMessage()]
        # Each attempt is logged; the first that times out puts off the others due then (the server is down).
        assert failures and all("timed out" in m for m in failures)
        # Nothing is dropped any more: every message waits in the outbox for its next attempt.
        assert [sending.status_of(m) for m in db.session.scalars(select(OutboxMessage.message_id))] == \
            ["retrying"] * 6
        db.session.remove()
        db.engine.dispose()


def test_mail_waits_for_the_commit_and_leaves_in_order_from_the_background(smtp_app):
    """Guard: the background sender still delivers every message, in the order of the commits."""
    appeal = open_appeal(smtp_app)
    client = smtp_app.test_client()
    for i in range(5):
        assert sign(smtp_app, appeal.slug, f"Signer Number{'abcde'[i]}", f"s{i}@example.org", client) == 303
    assert sending.wait_idle(smtp_app, 30)
    assert [m["To"] for m in smtp_app.smtp_sink.messages] == [f"s{i}@example.org" for i in range(5)]


def test_a_refusing_mail_server_still_stores_the_signature_and_logs(make_app, caplog):
    """Guard (this already held before): nothing listens on MAIL_PORT=1."""
    app = make_app()
    caplog.set_level(logging.ERROR, logger="petitions.mail.sending")
    with app.app_context():
        slug = open_appeal(app).slug
        assert sign(app, slug, "Signer Numberone", "one@example.org") == 303
        assert app.test_client().get("/").status_code == 200
        assert sending.wait_idle(app, 30)
        assert stored(app) == 1
        assert any("Please confirm your signature: Free the journalists" in r.getMessage()
                   for r in caplog.records)
        db.session.remove()
        db.engine.dispose()
