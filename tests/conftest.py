"""Shared fixtures: an app on a fresh migrated database, a real SMTP server, CSRF-aware helpers.

The suite runs on SQLite files by default and on a throwaway PostgreSQL server with
PETITIONS_TEST_DATABASE=postgresql (`make test` runs both passes).
"""
import contextlib
import email
import email.policy
import itertools
import os
import re
import sqlite3
import threading

import flask
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from petitions import create_app
from petitions.jobs import runner
from petitions.extensions import db

from . import servers
from .servers import free_port  # noqa: F401  (tests import it from here)


TEST_DATABASE = os.environ.get("PETITIONS_TEST_DATABASE", "sqlite")
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"PETITIONS_TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")
ON_POSTGRES = TEST_DATABASE == "postgresql"
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="about the SQLite file itself")
_database_names = itertools.count()
_undropped: list[str] = []  # copies whose app still had a mail thread when its test ended


def database_uri(db) -> str:
    """Return the URI of a database given as a URI or as the path of a SQLite file."""
    db = str(db)
    return db if "://" in db else f"sqlite:///{db}"


def copy_database(source: str, path) -> str:
    """Return the URI of a new copy of the database at `source` (a SQLite file at `path`, or a PostgreSQL
    database made from `source` as its template); nothing may be connected to `source` meanwhile."""
    url = make_url(source)
    if url.get_backend_name() == "sqlite":
        # The backup API, not a file copy: it includes what still sits in the WAL file.
        with contextlib.closing(sqlite3.connect(url.database)) as src, contextlib.closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        return database_uri(path)
    name = f"test_{os.getpid()}_{next(_database_names)}"
    # FILE_COPY: with fsync off on the throwaway server it copies a migrated template in ~20 ms.
    _postgres_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{url.database}" STRATEGY FILE_COPY')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(uri: str) -> None:
    """Drop a PostgreSQL copy made by `copy_database` (SQLite files go with their temporary folder)."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite":
        _postgres_admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _postgres_admin(url, statement: str) -> None:
    import psycopg

    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(statement)


def base_config(db) -> dict:
    """Return the tests' settings on a database given as a URI or a SQLite file path."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "EMAIL_HASH_KEY": "test-email-hash-key",
        "DATA_KEYS": [Fernet.generate_key().decode()],
        "SQLALCHEMY_DATABASE_URI": database_uri(db),
        "MAIL_TRANSPORT": "smtp",
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would otherwise swallow mail whenever TESTING is on
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens: a test that sends mail must start the SMTP fixture
        "MAIL_DEFAULT_SENDER": "Petitions <noreply@petitions.test>",
        "RATELIMIT_ENABLED": False,
        "SIGN_MIN_SECONDS": 0,  # tests submit the sign form at once; tests/test_abuse.py sets it
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # scrypt costs ~50 ms per hash; tests make hundreds
        "SERVER_NAME": None,
        "REGISTRY_FRESH_SECONDS": 0,  # a registry change applies to the very next signature
        "PAGE_FRESH_SECONDS": 0,  # every request checks the ETag: tests see a change at once (see test_public_cache)
        "PUBLIC_URL": "http://localhost",  # the test client's host, so links in mail work in the test client
    }


def fresh_requests(app) -> None:
    """Give every request an empty `g`, as a real request has.

    The fixtures keep one app context open for the whole test and Flask reuses it for requests, so the
    logged-in user and the CSRF token cached in `g` would otherwise leak from one test client to the next.
    """
    def clear(sender, **extra):
        for key in list(flask.g):
            flask.g.pop(key, None)

    app.extensions["tests.fresh_g"] = clear  # signals hold receivers weakly: keep it as long as the app
    flask.request_started.connect(clear, app)


@pytest.fixture(scope="session")
def migrated_db(request, tmp_path_factory):
    """Build the schema once through the Alembic migrations and return its URI; tests get copies."""
    from flask_migrate import upgrade

    if ON_POSTGRES:
        uri = request.getfixturevalue("postgres_server").createdb("template_migrated")
    else:
        uri = database_uri(tmp_path_factory.mktemp("template") / "template.sqlite")
    app = create_app(base_config(uri))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield uri
    for left in _undropped:
        drop_database(left)


@pytest.fixture(scope="session", autouse=True)
def _background_threads_end_with_the_run():
    """Stop the apps' mail and job threads when the run ends, not after pytest closed the streams they log to."""
    yield
    runner.stop_all()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole run (`tests/servers.py`)."""
    if not servers.postgres_available():
        pytest.skip("PostgreSQL binaries not installed (`make test` installs them via scripts/install-system.sh)")
    with servers.postgres() as server:
        yield server
        runner.stop_all()  # before the server goes: the apps' background threads would poll a closed port


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server on 127.0.0.1 for the whole run; tests flush what they use."""
    if not servers.redis_available():
        pytest.skip("redis-server not installed (`make test` installs it via scripts/install-system.sh)")
    with servers.redis() as server:
        yield server
        runner.stop_all()


@pytest.fixture
def make_app(tmp_path, migrated_db):
    """Return a factory of apps on a fresh copy of the migrated database."""
    made = []

    def factory(**overrides):
        uri = copy_database(migrated_db, tmp_path / f"db-{len(made)}.sqlite")
        app = create_app({**base_config(uri), **overrides})
        made.append((uri, app))
        app.instance_path = str(tmp_path / "instance")
        fresh_requests(app)
        return app

    yield factory
    for uri, app in made:
        worker = app.extensions.get("petitions.mail_worker")
        if worker is not None and worker.thread is not None:
            # Its sender thread may still look at the outbox: the database goes at the end of the run instead.
            _undropped.append(uri)
        else:
            drop_database(uri)


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class SmtpSink:
    """Collect messages received by the real SMTP server."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.received = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.received:
            self.messages.append(msg)
            self.received.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 5.0) -> list:
        with self.received:
            self.received.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages


@pytest.fixture
def smtp_server():
    """Run an aiosmtpd server on loopback and yield (sink, port)."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_app(make_app, smtp_server):
    """An app whose mail goes to the loopback SMTP server."""
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port)
    app.smtp_sink = sink
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """Open a page and return the CSRF token of its form."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def message_text(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


LINK_RE = re.compile(r"https?://\S+/confirm/\S+")


def new_appeal(owner, title: str, addressees: str = "", body: str = "Body.", **content):
    """Create a draft through the service, addressees given one per line."""
    from petitions.appeals import services

    return services.create_appeal(owner, {"title": title, "addressees": services.addressees_from_lines(addressees),
                                          "body": body, **content})
