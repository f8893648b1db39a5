"""Create the extensions once; create_app binds them with init_app."""
import threading
from datetime import datetime, timezone

import click
from flask import Flask, g, has_request_context, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFProtect, _FlaskFormCSRF, generate_csrf
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Name constraints predictably so that Alembic can alter them on SQLite too."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()


class LazyTokenCSRF(_FlaskFormCSRF):
    """Sign the CSRF token when the form is shown, not when built (a sign POST that succeeds never shows it)."""

    def generate_csrf_token(self, csrf_token_field):
        # Flask-WTF signs a new token on every form built (a sixth of building the sign form); validation does not
        # read it, so only a rendered form pays. generate_csrf keeps its token in `g`, so repeated renders agree.
        return LazyString(generate_csrf, secret_key=self.meta.csrf_secret, token_key=self.meta.csrf_field_name)


def tune_engines(app: Flask) -> None:
    """Make every SQLite engine of the app safe for several processes writing at once."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                _tune_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"], app.config["SQLITE_SYNCHRONOUS"])


def _tune_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    writer = threading.Lock()  # held by the connection of this process that is in a BEGIN IMMEDIATE transaction

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        for pragma in ("journal_mode = WAL", f"busy_timeout = {int(busy_timeout_ms)}",
                       f"synchronous = {synchronous}", "foreign_keys = ON"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the write lock up front and so waits its turn (busy_timeout): a transaction that read
        # first and then writes after another one's commit could only fail with "database is locked". Elsewhere
        # pysqlite begins (deferred) just before the first write, so readers hold neither lock nor snapshot.
        if not _writes_ahead():
            return
        # SQLite's busy handler polls, so among many threads one can starve; in-process writers queue here first.
        if not writer.acquire(timeout=max(busy_timeout_ms / 1000, _WRITER_QUEUE_SECONDS)):
            raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("another writer of this process"))
        conn.info[_HOLDS_WRITER] = writer
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(conn.info)
            raise

    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda conn: _release_writer(conn.info))
    # A connection returned, dropped or closed without a commit or rollback of its own lets the lock go too.
    event.listen(engine.pool, "reset", lambda dbapi_conn, record, state: _release_writer(record.info))
    event.listen(engine.pool, "invalidate", lambda dbapi_conn, record, exc: _release_writer(record.info))
    event.listen(engine.pool, "close", lambda dbapi_conn, record: _release_writer(record.info))

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(conn, name):
        # Outside a transaction a SAVEPOINT opens one that its RELEASE commits: begin first, so it nests.
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "commit")
    def _on_commit(conn):
        if has_request_context():
            g.petitions_committed = True  # a request commits once: what it reads afterwards needs no lock


_HOLDS_WRITER = "petitions.holds_writer"
# A thread's turn comes after every writer queued before it; like a pool's wait for a connection, the wait is long.
_WRITER_QUEUE_SECONDS = 30


def _release_writer(info: dict) -> None:
    writer = info.pop(_HOLDS_WRITER, None)
    if writer is not None:
        writer.release()


def _writes_ahead() -> bool:
    """Return whether a transaction beginning here takes the write lock at once: in a POST, PUT, PATCH or
    DELETE request until its commit, in commands (`flask ...`) and in background threads (mail, PDF workers)."""
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("petitions_committed")
    # Left: the main thread outside any command (a shell, a test), whose long-lived session only reads between
    # its writes.
    return (click.get_current_context(silent=True) is not None
            or threading.current_thread() is not threading.main_thread())


def utcnow():
    """Return naive UTC, the form stored in every timestamp column (SQLite keeps no zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
