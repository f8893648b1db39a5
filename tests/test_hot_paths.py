"""The sign and confirm paths: atomic with their mail, one signature and one mail under a race, few queries."""
import threading
import time
from datetime import datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, func, select, update

from petitions import create_app
from petitions.appeals.models import Appeal
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.mail.models import OutboxMessage
from petitions.registry import services as registry
from petitions.signing import operations
from petitions.signing.models import Signature

from .conftest import base_config, csrf_token, new_appeal, sqlite_only

ADDRESS = "race@example.org"


def open_appeal(title: str = "Free the journalists"):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, title, "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal


def stored(appeal_id: int) -> tuple[int, int]:
    """Return (signatures, outbox messages) of an appeal as committed, seen from a new connection."""
    with db.engine.connect() as conn:
        signatures = conn.scalar(select(func.count()).select_from(Signature).where(Signature.appeal_id == appeal_id))
        mails = conn.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.appeal_id == appeal_id))
    return signatures, mails


class Statements:
    """Record the SQL statements an engine runs inside the block."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _record(self, conn, cursor, statement, *args):
        self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.seen if f"FROM {table}" in s or f"INTO {table}" in s]


def sign_form(client, slug: str, n: int, affiliation: str = "Lawyer") -> dict:
    return {"full_name": f"Signer Number {n}", "affiliation": affiliation, "email": f"s{n}@example.org",
            "consent": "y", "csrf_token": csrf_token(client, f"/a/{slug}/sign")}


# --- atomic with its mail ----------------------------------------------------------------------------

def test_a_failure_after_signing_and_before_the_commit_keeps_neither_the_signature_nor_its_mail(make_app):
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        outcome = operations.sign(appeal, "Orxan Racer", "Lawyer", ADDRESS)
        assert outcome.created and outcome.signature.id is not None
        db.session.rollback()  # whatever the request did next failed
        assert stored(appeal.id) == (0, 0)
        # Signing again works and keeps both.
        operations.sign(appeal, "Orxan Racer", "Lawyer", ADDRESS)
        db.session.commit()
        assert stored(appeal.id) == (1, 1)
        db.session.remove()
        db.engine.dispose()


def test_a_sign_request_whose_commit_fails_stores_nothing_and_answers_with_an_error_page(make_app):
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        appeal_id, slug = appeal.id, appeal.slug
        client = app.test_client()
        data = sign_form(client, slug, 1)

        def refuse(session):
            raise RuntimeError("the disk is full")

        event.listen(db.session(), "before_commit", refuse)  # the request's session (one per app context)
        try:
            answer = client.post(f"/a/{slug}/sign", data=data)
        finally:
            event.remove(db.session(), "before_commit", refuse)
        assert answer.status_code == 500 and b"Traceback" not in answer.data
        db.session.rollback()
        assert stored(appeal_id) == (0, 0)
        db.session.remove()
        db.engine.dispose()


# --- two requests with one address at once -----------------------------------------------------------

def race(app, appeal_id: int) -> list:
    """Sign one address from two threads: the second checks for it before the first commits.

    The first signs and waits until the second is about to insert, then commits;
    the second's INSERT meets the first's row (waiting for it where the database makes it wait).
    """
    first_signed, second_inserting = threading.Event(), threading.Event()
    outcomes, errors = {}, []

    def inserting(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO signatures") and threading.current_thread().name == "second":
            second_inserting.set()

    def first():
        with app.app_context():
            try:
                appeal = db.session.get(Appeal, appeal_id)
                outcomes["first"] = operations.sign(appeal, "First Racer", "Lawyer", ADDRESS).created
                first_signed.set()
                assert second_inserting.wait(20), "the second request never reached its INSERT"
                db.session.commit()
            except Exception as exc:  # reported by the test below
                errors.append(exc)
                first_signed.set()
            finally:
                db.session.remove()

    def second():
        with app.app_context():
            try:
                first_signed.wait(20)
                appeal = db.session.get(Appeal, appeal_id)
                outcomes["second"] = operations.sign(appeal, "Second Racer", "Other", ADDRESS).created
                db.session.commit()
            except Exception as exc:
                errors.append(exc)
                second_inserting.set()
            finally:
                db.session.remove()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", inserting)
    threads = [threading.Thread(target=first, name="first"), threading.Thread(target=second, name="second")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        event.remove(engine, "before_cursor_execute", inserting)
    assert not errors, errors
    return [outcomes.get("first"), outcomes.get("second")]


def check_race(app) -> None:
    with app.app_context():
        appeal_id = open_appeal().id
        db.session.remove()
    assert race(app, appeal_id) == [True, False]  # the second one met the first's row
    with app.app_context():
        # One signature; the second request is a repeat like one made after the first: its mail slot sends the
        # link again, as on SQLite, so a double submission mails the same however the two interleave.
        assert stored(appeal_id) == (1, 2)
        [signature] = db.session.scalars(select(Signature).where(Signature.appeal_id == appeal_id))
        assert signature.full_name == "First Racer"
        db.session.remove()
        db.engine.dispose()


@sqlite_only  # on PostgreSQL the two really race: the test below
def test_two_signs_of_one_address_at_once_on_sqlite_take_turns_and_store_one_signature(make_app):
    # SQLite writers take the write lock when they begin (BEGIN IMMEDIATE), so the second waits for the first's
    # commit and then finds its row: the race of the PostgreSQL test below cannot happen here, by design.
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal_id = open_appeal().id
        db.session.remove()
    start, outcomes, errors = threading.Barrier(2), [], []

    def sign(name: str):
        with app.app_context():
            try:
                start.wait(10)
                outcomes.append(operations.sign(db.session.get(Appeal, appeal_id), name, "Lawyer", ADDRESS).created)
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign, args=(name,)) for name in ("First Racer", "Second Racer")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(outcomes) == [False, True]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)
                                 .where(Signature.appeal_id == appeal_id)) == 1
        # The second found a pending signature and sent its link again, as signing twice does one after the other.
        mails = list(db.session.scalars(select(OutboxMessage.signature_id).where(OutboxMessage.kind == "confirm")))
        assert len(mails) == 2 and len(set(mails)) == 1
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def postgres_app(postgres_server, tmp_path):
    pytest.importorskip("psycopg")
    postgres_server.dropdb("hot_paths")
    app = create_app({**base_config(tmp_path / "unused.sqlite"), "MAIL_WORKER": "process",
                      "SQLALCHEMY_DATABASE_URI": postgres_server.createdb("hot_paths")})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres_server.dropdb("hot_paths")


def test_two_signs_of_one_address_at_once_give_one_signature_and_the_link_again_on_postgresql(postgres_app):
    check_race(postgres_app)


def test_a_failure_after_signing_keeps_nothing_on_postgresql(postgres_app):
    with postgres_app.app_context():
        appeal = open_appeal()
        assert operations.sign(appeal, "Orxan Racer", "Lawyer", ADDRESS).created
        db.session.rollback()
        assert stored(appeal.id) == (0, 0)
        db.session.remove()


# --- the affiliation matcher's cache -----------------------------------------------------------------

def signed_organization(appeal, n: int, affiliation: str):
    signature = operations.sign(appeal, f"Signer Number {n}", affiliation, f"m{n}@example.org").signature
    db.session.commit()
    return signature.organization_id


def test_the_matcher_sees_a_new_entry_and_a_changed_name_at_the_next_signature(make_app):
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        bar = registry.add_organization("Baku Bar Association")
        db.session.commit()
        assert signed_organization(appeal, 1, "Lawyer, Baku Bar Association") == bar.id
        assert signed_organization(appeal, 2, "Institute of Physics") is None
        physics = registry.add_organization("Institute of Physics")
        db.session.commit()
        assert signed_organization(appeal, 3, "Institute of Physics") == physics.id
        physics.name = "Institute of Mathematics"  # no page renames entries yet; any later change must show
        db.session.commit()
        assert signed_organization(appeal, 4, "Institute of Physics") is None
        assert signed_organization(appeal, 5, "Institute of Mathematics") == physics.id
        db.session.remove()
        db.engine.dispose()


def test_two_databases_in_one_process_each_match_their_own_registry(make_app):
    seen = []
    for name in ("Baku Bar Association", "Institute of Physics"):  # the same id in each database
        app = make_app(MAIL_WORKER="process")
        with app.app_context():
            appeal = open_appeal()
            org = registry.add_organization(name)
            org.created_at = org.updated_at = datetime(2026, 1, 1)  # the same stamps too: only the database differs
            db.session.commit()
            seen.append((org.id, signed_organization(appeal, 1, "Baku Bar Association")))
            db.session.remove()
            db.engine.dispose()
    assert seen[0][0] == seen[1][0]
    assert seen == [(seen[0][0], seen[0][0]), (seen[0][0], None)]


# --- statements per request --------------------------------------------------------------------------

def sign_statements(app, organizations: int) -> Statements:
    """Return the statements of one sign request (after a first one) with a registry of this size."""
    with app.app_context():
        appeal = open_appeal()
        for n in range(organizations):
            registry.add_organization(f"Institute number {n} of applied studies", aliases=[f"IAS {n}"])
        db.session.commit()
        slug = appeal.slug
        client = app.test_client()
        assert client.post(f"/a/{slug}/sign", data=sign_form(client, slug, 0)).status_code == 303
        data = sign_form(client, slug, 1, affiliation="Institute number 3 of applied studies")
        with Statements(db.engine) as statements:
            assert client.post(f"/a/{slug}/sign", data=data).status_code == 303
        db.session.remove()
        db.engine.dispose()
    return statements


def test_a_sign_request_reads_the_appeal_once_and_no_registry_rows_whatever_its_size(make_app):
    small = sign_statements(make_app(MAIL_WORKER="process"), 3)
    large = sign_statements(make_app(MAIL_WORKER="process"), 150)
    assert len(small.seen) == len(large.seen)
    for statements in (small, large):
        assert len(statements.touching("appeals")) == 1
        # Only ids and stamps of the trusted entries: names and aliases come from the process's cache.
        [registry_read] = statements.touching("organizations")
        assert "organizations.name" not in registry_read
        assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in statements.seen)
        assert [s.split(" (")[0] for s in statements.seen if s.startswith("INSERT")] == [
            "INSERT INTO signatures", "INSERT INTO outbox_messages"]
        # The published text's hash comes with the appeal's own row (a subquery), not a read of the revision.
        assert not [s for s in statements.seen if s.lstrip().startswith("SELECT appeal_revisions.")]


def selects_of_appeals(statements: Statements) -> list[str]:
    return [s for s in statements.seen if s.lstrip().startswith("SELECT") and "FROM appeals" in s]


def copy_in_use(make_app, **config):
    """Return an app, the slug and id of an open appeal, and a client whose first sign POST kept its copy."""
    app = make_app(MAIL_WORKER="process", **config)
    client = app.test_client()
    with app.app_context():
        appeal = open_appeal()
        slug, appeal_id = appeal.slug, appeal.id
        data = sign_form(client, slug, 0)
        db.session.remove()  # each request then starts with an empty session, as under gunicorn
        assert client.post(f"/a/{slug}/sign", data=data).status_code == 303
        db.session.remove()
    return app, client, slug, appeal_id


def post_sign(app, client, slug: str, data: dict):
    with app.app_context():
        db.session.remove()
        with Statements(db.engine) as statements:
            answer = client.post(f"/a/{slug}/sign", data=data)
        db.session.remove()
    return answer, statements


def test_a_sign_post_within_the_copy_lifetime_reads_no_appeal_row_and_its_insert_checks_the_appeal(make_app):
    app, client, slug, appeal_id = copy_in_use(make_app)
    with app.app_context():
        data = sign_form(client, slug, 1)
    answer, statements = post_sign(app, client, slug, data)
    assert answer.status_code == 303
    assert selects_of_appeals(statements) == []
    [insert] = [s for s in statements.seen if s.startswith("INSERT INTO signatures")]
    assert "FROM appeals" in insert and "updated_at" in insert  # the copy is checked in the same statement
    with app.app_context():
        assert stored(appeal_id) == (2, 2)
    # Without a copy lifetime every sign POST reads its appeal.
    app, client, slug, appeal_id = copy_in_use(make_app, SIGN_APPEAL_FRESH_SECONDS=0)
    with app.app_context():
        data = sign_form(client, slug, 1)
    answer, statements = post_sign(app, client, slug, data)
    assert answer.status_code == 303 and len(selects_of_appeals(statements)) == 1
    [insert] = [s for s in statements.seen if s.startswith("INSERT INTO signatures")]
    assert "FROM appeals" not in insert


def test_an_appeal_closed_elsewhere_refuses_a_signature_although_this_process_kept_it_open(make_app):
    app, client, slug, appeal_id = copy_in_use(make_app)
    with app.app_context():
        data = sign_form(client, slug, 1)
        with db.engine.begin() as connection:  # another process closes it; this one's copy still says open
            connection.execute(update(Appeal.__table__).where(Appeal.__table__.c.id == appeal_id)
                               .values(status="closed"))
    answer, _ = post_sign(app, client, slug, data)
    assert answer.status_code == 409 and "no longer collects signatures" in answer.get_data(as_text=True)
    with app.app_context():
        assert stored(appeal_id) == (1, 1)


def test_settings_changed_elsewhere_apply_to_the_next_signature_although_this_process_kept_a_copy(make_app):
    app, client, slug, appeal_id = copy_in_use(make_app)
    with app.app_context():
        anonymous = {**sign_form(client, slug, 1), "visibility": "anonymous"}
        with db.engine.begin() as connection:  # another process's organizer offers "public" only now
            connection.execute(update(Appeal.__table__).where(Appeal.__table__.c.id == appeal_id)
                               .values(visibility_choices=["public"], updated_at=datetime(2030, 1, 1)))
    answer, _ = post_sign(app, client, slug, anonymous)
    assert answer.status_code == 422 and "Choose one of the offered options" in answer.get_data(as_text=True)
    with app.app_context():
        assert stored(appeal_id) == (1, 1)
        public = {**sign_form(client, slug, 2), "visibility": "public"}
    answer, _ = post_sign(app, client, slug, public)
    assert answer.status_code == 303
    with app.app_context():
        assert stored(appeal_id) == (2, 2)
        assert db.session.scalar(select(Signature.visibility).where(Signature.email_hash.is_not(None))
                                 .order_by(Signature.id.desc()).limit(1)).value == "public"
        db.session.remove()
        db.engine.dispose()


def test_a_deadline_passed_by_the_copy_but_moved_elsewhere_is_read_again_and_signing_stays_open(make_app):
    app = make_app(MAIL_WORKER="process")
    client = app.test_client()
    with app.app_context():
        appeal = open_appeal()
        slug, appeal_id = appeal.slug, appeal.id
        table = Appeal.__table__
        with db.engine.begin() as connection:
            connection.execute(update(table).where(table.c.id == appeal_id)
                               .values(deadline=utcnow() + timedelta(seconds=1)))
        first, second = sign_form(client, slug, 0), sign_form(client, slug, 1)
    assert post_sign(app, client, slug, first)[0].status_code == 303  # keeps a copy with that deadline
    with app.app_context():
        with db.engine.begin() as connection:  # an organizer elsewhere moves the deadline a day on
            connection.execute(update(table).where(table.c.id == appeal_id)
                               .values(deadline=utcnow() + timedelta(days=1), updated_at=utcnow()))
    time.sleep(1.1)  # past the copy's deadline, within its lifetime
    answer, _ = post_sign(app, client, slug, second)
    assert answer.status_code == 303
    with app.app_context():
        assert stored(appeal_id) == (2, 2)
        assert db.session.get(Appeal, appeal_id).status.value == "open"
        db.session.remove()
        db.engine.dispose()


def test_a_confirm_request_reads_the_signature_and_its_appeal_in_one_query(make_app):
    app = make_app(MAIL_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        signature = operations.sign(appeal, "Orxan Confirmer", "Lawyer", ADDRESS).signature
        db.session.commit()
        path = f"/confirm/{operations.confirmation_token(signature)}"
        client = app.test_client()
        data = {"csrf_token": csrf_token(client, path)}
        db.session.remove()
        with Statements(db.engine) as statements:
            answer = client.post(path, data=data)
        assert answer.status_code == 200 and "Orxan Confirmer" in answer.get_data(as_text=True)
        # One SELECT: the signature with its appeal joined (every page behind a signer's link shows it).
        [read] = [s for s in statements.seen if s.lstrip().startswith("SELECT")]
        assert "FROM signatures" in read and "JOIN appeals" in read
        assert statements.touching("pdf_jobs") == []  # whether the public PDF is in use is on the appeal
        assert db.session.get(Signature, signature.id).status.value == "confirmed"
        db.session.remove()
        db.engine.dispose()


def test_confirmations_schedule_the_public_pdf_only_once_the_organizers_asked_for_it(make_app):
    from petitions.pdf import jobs as pdf_jobs
    from petitions.pdf.models import PdfJob

    app = make_app(MAIL_WORKER="process", PDF_EXECUTOR="worker")
    with app.app_context():
        appeal = open_appeal()
        for n, address in enumerate(("first@example.org", "second@example.org")):
            if n == 1:
                pdf_jobs.request_render(appeal, "public", "standard")
                db.session.commit()
                assert db.session.get(Appeal, appeal.id).public_pdf_wanted
                db.session.execute(PdfJob.__table__.update().values(status="done"))
                db.session.commit()
            signature = operations.sign(appeal, f"Signer {n}", "Lawyer", address).signature
            db.session.commit()
            operations.confirm(operations.confirmation_token(signature))
            db.session.commit()
            queued = db.session.scalar(select(func.count()).select_from(PdfJob).where(PdfJob.status == "queued"))
            assert queued == n  # none before the organizers asked; one debounced render after
        db.session.remove()
        db.engine.dispose()
