"""Many signers at once, through the service layer, each thread its own session: nothing lost, doubled or locked.

Runs in both passes (SQLite: every writer takes the lock at BEGIN; PostgreSQL: the unique index decides).
"""
import threading
from collections import Counter

from sqlalchemy import func, select, text

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing import operations as signing
from petitions.signing.models import Signature, SignatureStatus

from .conftest import new_appeal, sqlite_only

THREADS = 50
PER_THREAD = 200
SHARED = 20  # addresses every thread signs with (every STEP-th signature); the rest are the thread's own
STEP = PER_THREAD // SHARED
CONFIRM_EVERY = 4  # each thread confirms one in four of its own signatures


def _address(thread: int, n: int) -> str:
    return f"shared{n // STEP}@crowd.example" if n % STEP == 0 else f"t{thread}-{n}@crowd.example"


def _signer(app, slug: str, thread: int, start: threading.Barrier, errors: list) -> None:
    from petitions.appeals.models import Appeal

    try:
        with app.app_context():
            appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
            db.session.commit()  # a request ends: here a thread holds no lock while it waits for the others
            start.wait(60)
            for n in range(PER_THREAD):
                address = _address(thread, n)
                outcome = signing.sign(appeal, f"Signer {thread} {n}", "Student", address)
                db.session.commit()  # one commit per request, as the sign view does
                shared = address.startswith("shared")
                # A few threads confirm each shared address at about the same time.
                if n % CONFIRM_EVERY == 1 if not shared else n // STEP == thread % SHARED:
                    signing.confirm(signing.confirmation_token(outcome.signature))
                    db.session.commit()
            db.session.remove()
    except Exception as exc:  # the main thread reports it with the others
        errors.append(f"thread {thread}: {type(exc).__name__}: {exc}")


def test_fifty_threads_signing_at_once_end_with_the_exact_counts(make_app):
    # Mail stays in the outbox (a worker process would send it) and renders stay queued: only the writes race.
    # A connection per thread, as a threaded server would be configured.
    app = make_app(MAIL_WORKER="process", PDF_EXECUTOR="worker",
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS, "pool_pre_ping": True})
    with app.app_context():
        owner = register_user("Owner", "owner@crowd.example", "a long password")
        appeal = new_appeal(owner, "Free the students", "UN", "We ask.")
        appeal.publish()
        db.session.commit()
        slug, appeal_id = appeal.slug, appeal.id
        db.session.remove()
    start, errors = threading.Barrier(THREADS), []
    threads = [threading.Thread(target=_signer, args=(app, slug, t, start, errors)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    own = [(t, n) for t in range(THREADS) for n in range(PER_THREAD) if not _address(t, n).startswith("shared")]
    with app.app_context():
        statuses = Counter(db.session.scalars(select(Signature.status).where(Signature.appeal_id == appeal_id)))
        addresses = db.session.scalar(select(func.count(func.distinct(Signature.email_hash)))
                                      .where(Signature.appeal_id == appeal_id))
        mails = Counter(db.session.scalars(select(OutboxMessage.signature_id)
                                           .where(OutboxMessage.appeal_id == appeal_id)))
        confirmed = len([1 for _, n in own if n % CONFIRM_EVERY == 1]) + SHARED
        assert sum(statuses.values()) == addresses == len(own) + SHARED  # one row per address
        assert statuses == {SignatureStatus.CONFIRMED: confirmed,
                            SignatureStatus.PENDING: len(own) + SHARED - confirmed}
        # Each address got its confirmation; a shared one also one mail for the first repeat, none for the others
        # (RESEND_MIN_INTERVAL).
        assert sum(mails.values()) == len(own) + 2 * SHARED
        assert sorted(Counter(mails.values()).items()) == [(1, len(own)), (2, SHARED)]
        db.session.remove()
        db.engine.dispose()


@sqlite_only
def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    pragmas = {name: db.session.execute(text(f"PRAGMA {name}")).scalar()
               for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}  # NORMAL


def test_a_released_savepoint_is_undone_with_its_transaction(app):
    owner = register_user("Owner", "owner@crowd.example", "a long password")
    appeal = new_appeal(owner, "Free the students", "UN", "We ask.")
    appeal.publish()
    db.session.commit()
    signing.sign(appeal, "Leyla Mammadova", "Student", "leyla@crowd.example")  # its INSERT sits in a SAVEPOINT
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
