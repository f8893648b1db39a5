"""Background work behind one interface: the database backend end to end, and RQ on a real redis-server.

Mail goes over real SMTP (aiosmtpd on loopback); RQ runs as a real SimpleWorker inside the test's app context.
"""
import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select

from petitions import create_app, jobs
from petitions.appeals.models import AppealStatus
from petitions.extensions import db, utcnow
from petitions.jobs import backend_rq, queue
from petitions.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from petitions.mail import sending
from petitions.mail.models import OutboxMessage
from petitions.pdf import jobs as pdf_jobs
from petitions.pdf.models import JobStatus, PdfDocument
from petitions.signing import operations as signing
from petitions.signing.models import Signature
from petitions.updates import operations as updates
from petitions.updates.models import Announcement

from .conftest import base_config, csrf_token
from .security.conftest import login
from .test_outbox import open_appeal, sign_over_http, wait_until, worker_process
from .test_privacy_postgres import postgres  # noqa: F401  (a fresh database on the throwaway PostgreSQL server)

REDIS_DB = 7  # a database of the session's redis-server that only these tests use


def job_rows(name: str | None = None) -> list[Job]:
    db.session.expire_all()
    query = select(Job).order_by(Job.id)
    return list(db.session.scalars(query if name is None else query.where(Job.name == name)))


def past_deadline(appeal) -> None:
    appeal.deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()


def subscribers(appeal, count: int) -> None:
    """Sign and confirm `count` opted-in signers through the service (their confirmations stay queued)."""
    for n in range(count):
        signing.sign(appeal, f"Signer Number{n}", "Lawyer", f"signer{n}@example.org", wants_updates=True) \
            .signature.confirm()
    db.session.commit()


def update_mails(messages) -> list:
    return [m for m in messages if m["List-Unsubscribe"]]


# --- the database backend ------------------------------------------------------------------------------


def test_a_job_runs_after_its_commit_and_never_after_a_rollback(smtp_app):
    appeal = open_appeal()
    past_deadline(appeal)
    jobs.enqueue("appeals.close_due")
    assert len(job_rows()) == 1  # written in the transaction
    db.session.rollback()
    assert job_rows() == [] and appeal.status is AppealStatus.OPEN
    jobs.enqueue("appeals.close_due")
    db.session.commit()  # a command's commit runs what is due before it goes on
    [job] = job_rows()
    assert job.status == DONE and job.attempts == 1 and job.finished_at is not None
    db.session.refresh(appeal)
    assert appeal.status is AppealStatus.CLOSED


def test_with_the_worker_in_its_own_process_the_row_waits_for_flask_jobs_work(make_app):
    app = make_app(JOBS_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        past_deadline(appeal)
        jobs.enqueue("appeals.close_due")
        db.session.commit()
        assert [j.status for j in job_rows()] == [QUEUED]
        result = app.test_cli_runner().invoke(args=["jobs", "work", "--once"])
        assert result.exit_code == 0, result.output
        assert [j.status for j in job_rows("appeals.close_due")] == [DONE]
        db.session.refresh(appeal)
        assert appeal.status is AppealStatus.CLOSED
        db.session.remove()
        db.engine.dispose()


def test_the_reminder_button_enqueues_and_the_web_process_thread_mails(smtp_app):
    sink, client = smtp_app.smtp_sink, smtp_app.test_client()
    appeal = open_appeal()
    for n in range(3):
        signing.sign(appeal, f"Signer Number{n}", "Lawyer", f"late{n}@example.org").signature.created_at \
            -= timedelta(days=2)
    db.session.commit()
    sink.wait_for(3)
    login(client, "owner@coalition.example")
    queue_page = f"/organizer/appeals/{appeal.slug}/review"
    answer = client.post(f"/organizer/appeals/{appeal.slug}/review/remind",
                         data={"csrf_token": csrf_token(client, queue_page)})
    assert answer.status_code == 303
    assert sending.wait_idle(smtp_app, 60)
    reminders = [m for m in sink.wait_for(6) if str(m["Subject"]).startswith("Reminder")]
    assert sorted(m["To"] for m in reminders) == [f"late{n}@example.org" for n in range(3)]
    assert [j.status for j in job_rows("signing.remind")] == [DONE]
    # A second press within REMIND_INTERVAL_DAYS finds nobody due: no job, no mail.
    assert signing.remind_unconfirmed(appeal, None) == 0
    db.session.commit()
    assert len(job_rows("signing.remind")) == 1


def test_reminders_go_in_batches_each_its_own_job(make_app):
    app = make_app(JOBS_WORKER="process", MAIL_WORKER="process", REMIND_BATCH=2)
    with app.app_context():
        appeal = open_appeal()
        for n in range(5):
            signing.sign(appeal, f"Signer Number{n}", "", f"late{n}@example.org").signature.created_at \
                -= timedelta(days=2)
        db.session.commit()
        assert signing.remind_unconfirmed(appeal, None) == 5
        db.session.commit()
        assert signing.remind_unconfirmed(appeal, None) == 0  # pressed again while the first is queued
        db.session.commit()
        assert jobs.work_once(app) == 3  # 2 + 2 + 1
        reminded = db.session.scalars(select(OutboxMessage.signature_id).where(OutboxMessage.kind == "reminder"))
        assert sorted(Counter(reminded).values()) == [1] * 5
        db.session.remove()
        db.engine.dispose()


def test_one_claim_one_run_even_when_runners_race(make_app):
    app = make_app(JOBS_WORKER="process")
    with app.app_context():
        appeal = open_appeal()
        past_deadline(appeal)
        job = jobs.enqueue("appeals.close_due")
        db.session.commit()
        job_id = job.id
        results, start = [], threading.Barrier(4)

        def race():
            start.wait()
            results.append(jobs.run_job(app, job_id))

        threads = [threading.Thread(target=race) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(results) == [False, False, False, True]
        assert job_rows()[0].attempts == 1
        assert jobs.run_job(app, job_id) is False  # done: nobody claims it again
        db.session.remove()
        db.engine.dispose()


def test_a_failing_job_is_retried_later_then_failed_with_its_reason(make_app):
    app = make_app(JOBS_WORKER="process", JOBS_MAX_ATTEMPTS=2)
    with app.app_context():
        db.session.add(Job(name="no.such.task", args="[]", status=QUEUED, run_after=utcnow(), attempts=0))
        db.session.commit()
        assert jobs.work_once(app) == 1
        [job] = job_rows()
        assert job.status == QUEUED and job.attempts == 1 and "no.such.task" in job.error
        assert job.run_after > utcnow() + timedelta(seconds=20)  # backoff: not before 30 s
        assert jobs.work_once(app) == 0
        job.run_after = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert jobs.work_once(app) == 1
        [job] = job_rows()
        assert job.status == FAILED and job.attempts == 2 and job.finished_at is not None
        db.session.remove()
        db.engine.dispose()


def test_a_claim_whose_runner_died_is_queued_again(make_app):
    app = make_app(JOBS_WORKER="process", JOBS_STALE_SECONDS=60)
    with app.app_context():
        appeal = open_appeal()
        past_deadline(appeal)
        jobs.enqueue("appeals.close_due")
        db.session.commit()
        [job] = job_rows()
        job.status, job.claim, job.claimed_at = RUNNING, "dead-runner", utcnow() - timedelta(seconds=30)
        db.session.commit()
        assert jobs.work_once(app) == 0  # 30 s is not stale yet: it may still be running somewhere
        job.claimed_at = utcnow() - timedelta(seconds=120)
        db.session.commit()
        assert jobs.work_once(app) == 1
        assert [j.status for j in job_rows()] == [DONE]
        db.session.refresh(appeal)
        assert appeal.status is AppealStatus.CLOSED
        db.session.remove()
        db.engine.dispose()


def test_tick_enqueues_each_periodic_task_once_per_interval(make_app):
    app = make_app(JOBS_WORKER="process", JOBS_EVERY={"appeals.close_due": 60, "privacy.purge": 86400})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["jobs", "tick"])
        assert result.exit_code == 0 and "appeals.close_due" in result.output and "privacy.purge" in result.output
        assert jobs.tick(app) == []  # within both intervals: nothing new
        rows = job_rows()
        assert sorted(j.name for j in rows) == ["appeals.close_due", "privacy.purge"]
        rows[0].created_at -= timedelta(seconds=61)
        db.session.commit()
        assert jobs.tick(app) == [rows[0].name]
        assert jobs.work_once(app) == 3
        assert {j.status for j in job_rows()} == {DONE}
        db.session.remove()
        db.engine.dispose()


def test_a_batch_killed_in_the_middle_resumes_without_duplicates(make_app, tmp_path):
    app = make_app(JOBS_WORKER="process", MAIL_WORKER="process", ANNOUNCE_BATCH=600, JOBS_EVERY={})
    with app.app_context():
        db_uri = app.config["SQLALCHEMY_DATABASE_URI"]
        appeal = open_appeal()
        subscribers(appeal, 1200)
        assert updates.announce(appeal, "delivered", None) == 1200
        db.session.commit()
        first_job = job_rows("updates.announce")[0].id
        worker = worker_process(db_uri, 1, tmp_path / "w1", ("jobs", "work"), DATA_KEYS=app.config["DATA_KEYS"],
                                MAIL_WORKER="process", ANNOUNCE_BATCH=600, JOBS_EVERY={})
        try:  # kill it while it runs the second batch: the first is committed, the second is not
            assert wait_until(lambda: _running_after(db_uri, first_job), 120), "the second batch never started"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        announcement = db.session.scalar(select(Announcement))
        db.session.refresh(announcement)
        assert announcement.finished_at is None and announcement.recipients == 600
        assert _update_rows() == 600  # the killed batch left nothing behind
        app.config["JOBS_STALE_SECONDS"] = 0  # the dead runner's claim is stale at once
        assert jobs.work_once(app) == 1
        db.session.refresh(announcement)
        assert announcement.recipients == 1200 and announcement.finished_at is not None
        mailed = Counter(db.session.scalars(select(OutboxMessage.signature_id).where(
            OutboxMessage.kind == "update_delivered")))
        assert len(mailed) == 1200 and set(mailed.values()) == {1}
        db.session.remove()
        db.engine.dispose()


def test_on_postgresql_racing_runners_share_one_claim_and_batches_mail_each_signer_once(postgres, tmp_path):  # noqa: F811
    app = create_app({**base_config(tmp_path / "unused.sqlite"), "SQLALCHEMY_DATABASE_URI": postgres["uri"],
                      "JOBS_WORKER": "process", "MAIL_WORKER": "process", "ANNOUNCE_BATCH": 10})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade()
        appeal = open_appeal()
        subscribers(appeal, 25)
        assert updates.announce(appeal, "delivered", None) == 25
        db.session.commit()
        start = threading.Barrier(3)

        def runner():
            start.wait()
            while jobs.work_once(app):
                pass

        threads = [threading.Thread(target=runner) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [j.status for j in job_rows("updates.announce")] == [DONE] * 3  # 10 + 10 + 5
        assert sum(j.attempts for j in job_rows("updates.announce")) == 3  # each claimed once
        mailed = Counter(db.session.scalars(select(OutboxMessage.signature_id).where(
            OutboxMessage.kind == "update_delivered")))
        assert len(mailed) == 25 and set(mailed.values()) == {1}
        db.session.remove()
        db.engine.dispose()


def _running_after(db_uri: str, job_id: int) -> bool:
    # A connection of its own, outside the test's session, sees what the worker process committed.
    engine = sa.create_engine(db_uri, connect_args={"timeout": 0.2} if db_uri.startswith("sqlite") else {})
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM jobs WHERE name = 'updates.announce' AND status = :s "
                                        "AND id > :i"), {"s": RUNNING, "i": job_id}).scalar() > 0
    except sa.exc.OperationalError:  # the worker holds the SQLite write lock for a moment
        return False
    finally:
        engine.dispose()


def _update_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == "update_delivered"))


def test_a_wrong_backend_setting_stops_the_start(make_app):
    with pytest.raises(RuntimeError, match="REDIS_URL"):
        make_app(JOBS_BACKEND="rq")
    with pytest.raises(RuntimeError, match="JOBS_BACKEND"):
        make_app(JOBS_BACKEND="celery")


# --- RQ on a real redis-server -------------------------------------------------------------------------


@pytest.fixture
def rq_app(make_app, smtp_server, redis_server):
    """An app on the RQ backend (an empty Redis database) whose mail goes to the loopback SMTP server."""
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, JOBS_BACKEND="rq", REDIS_URL=redis_server.url(REDIS_DB), JOBS_REPUSH_SECONDS=0)
    app.smtp_sink, app.redis_server = sink, redis_server
    with app.app_context():
        backend_rq.connection(app).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()
    if redis_server.process.poll() is not None:  # a test stopped it: the next one needs it
        redis_server.start_again()


def run_rq_worker(app) -> None:
    """Empty the RQ queue with a real worker in this process (the jobs of `flask jobs work`, until idle)."""
    backend_rq.work(app, burst=True)


def test_rq_sends_the_confirmation_mail_only_from_the_worker(rq_app):
    sink, client = rq_app.smtp_sink, rq_app.test_client()
    appeal = open_appeal()
    assert sign_over_http(client, appeal.slug, "Leyla Yunus", "leyla@example.org") == 303
    assert sending.wait_idle(rq_app, 5)  # no thread in the web process: nothing was sent
    assert sink.messages == [] and [r.status for r in db.session.scalars(select(OutboxMessage))] == ["queued"]
    assert backend_rq.queue(rq_app).count >= 1
    run_rq_worker(rq_app)
    [mail] = sink.wait_for(1)
    assert mail["To"] == "leyla@example.org"
    db.session.expire_all()
    assert [r.status for r in db.session.scalars(select(OutboxMessage))] == ["sent"]


def test_rq_renders_a_pdf(rq_app):
    appeal = open_appeal()
    signing.sign(appeal, "Leyla Yunus", "Lawyer", "leyla@example.org").signature.confirm()
    db.session.commit()
    job = pdf_jobs.request_render(appeal, "addressees", "standard")
    db.session.commit()
    pdf_jobs.dispatch(rq_app, job)
    db.session.refresh(job)
    assert job.status is JobStatus.QUEUED  # nothing runs in the web process
    run_rq_worker(rq_app)
    db.session.refresh(job)
    assert job.status is JobStatus.DONE
    record = db.session.get(PdfDocument, job.document_id)
    assert record.signatory_count == 1 and os.path.exists(pdf_jobs.file_path(record))
    assert [j.status for j in job_rows("pdf.render")] == [DONE]


def test_rq_mails_an_announcement_to_1200_signers_in_batches_exactly_once(rq_app):
    sink = rq_app.smtp_sink
    rq_app.config["ANNOUNCE_BATCH"] = 500
    appeal = open_appeal()
    subscribers(appeal, 1200)
    assert updates.announce(appeal, "delivered", None, detail={"addressee": "Secretary General"}) == 1200
    db.session.commit()
    run_rq_worker(rq_app)
    assert wait_until(lambda: len(update_mails(sink.messages)) >= 1200, 120)
    received = Counter(m["To"] for m in update_mails(sink.messages))
    assert len(received) == 1200 and set(received.values()) == {1}
    assert [j.status for j in job_rows("updates.announce")] == [DONE] * 3  # 500 + 500 + 200
    assert db.session.scalar(select(Announcement.recipients)) == 1200


def test_redis_down_while_signing_answers_303_and_the_mail_leaves_once_it_is_back(rq_app):
    sink, client, redis = rq_app.smtp_sink, rq_app.test_client(), rq_app.redis_server
    appeal = open_appeal()
    token = csrf_token(client, f"/a/{appeal.slug}/sign")
    redis.stop()
    answer = client.post(f"/a/{appeal.slug}/sign", data={"full_name": "Leyla Yunus", "affiliation": "Lawyer",
                                                         "email": "leyla@example.org", "consent": "y",
                                                         "csrf_token": token})
    assert answer.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    assert [r.status for r in db.session.scalars(select(OutboxMessage))] == ["queued"]
    redis.start_again()
    # Requests skip Redis for JOBS_REDIS_RETRY_SECONDS after a failure; the sweep tries it at once.
    jobs.signal("mail.send")
    assert backend_rq.queue(rq_app).count == 0
    assert backend_rq.queue(rq_app).count == 0  # the push was lost with the outage
    assert jobs.sweep(rq_app) >= 1  # the sweep of `flask jobs work` pushes what is due again
    run_rq_worker(rq_app)
    assert [m["To"] for m in sink.wait_for(1)] == ["leyla@example.org"]
    run_rq_worker(rq_app)
    jobs.sweep(rq_app)
    run_rq_worker(rq_app)
    time.sleep(0.5)
    assert len(sink.messages) == 1  # exactly once


def test_with_redis_down_the_sweep_runs_jobs_and_mail_from_the_table(rq_app):
    sink, redis = rq_app.smtp_sink, rq_app.redis_server
    appeal = open_appeal()
    signing.sign(appeal, "Leyla Yunus", "Lawyer", "leyla@example.org").signature.created_at -= timedelta(days=2)
    redis.stop()
    db.session.commit()  # its confirmation: the push fails, the row waits
    assert signing.remind_unconfirmed(appeal, None) == 1
    db.session.commit()  # the reminder job: the push fails, the row waits
    assert [j.status for j in job_rows("signing.remind")] == [QUEUED]
    queue.sweep(rq_app)  # Redis still down: `flask jobs work` falls back to the database queue
    assert [j.status for j in job_rows("signing.remind")] == [DONE]
    subjects = sorted(str(m["Subject"]).split(":")[0] for m in sink.wait_for(2))
    assert subjects == ["Please confirm your signature", "Reminder"]


def test_rq_runs_a_delayed_job_through_its_scheduler(rq_app):
    appeal = open_appeal()
    past_deadline(appeal)
    jobs.enqueue("appeals.close_due", delay=1)
    db.session.commit()
    rq_queue = backend_rq.queue(rq_app)
    assert rq_queue.count == 0 and rq_queue.scheduled_job_registry.count == 1  # RQ's scheduler holds it
    assert wait_until(lambda: job_rows()[0].run_after <= utcnow(), 10)
    time.sleep(0.2)  # the scheduler compares with its own clock
    run_rq_worker(rq_app)  # a burst worker's scheduler first moves what is due to the queue
    assert [j.status for j in job_rows()] == [DONE]
    db.session.refresh(appeal)
    assert appeal.status is AppealStatus.CLOSED


def test_rq_ticks_through_its_scheduler_and_each_tick_schedules_the_next(rq_app):
    rq_app.config.update(JOBS_EVERY={"appeals.close_due": 60}, JOBS_TICK_SECONDS=30)
    appeal = open_appeal()
    past_deadline(appeal)
    assert queue.start_ticking(rq_app) and not queue.start_ticking(rq_app)  # one chain, however many workers
    run_rq_worker(rq_app)
    ticks = job_rows("jobs.tick")
    assert [j.status for j in ticks] == [DONE, QUEUED]
    assert ticks[1].run_after >= utcnow() + timedelta(seconds=20)
    assert backend_rq.queue(rq_app).scheduled_job_registry.count == 1  # the next tick, in RQ's scheduler
    assert [j.status for j in job_rows("appeals.close_due")] == [DONE]
    db.session.refresh(appeal)
    assert appeal.status is AppealStatus.CLOSED


def test_flask_jobs_work_on_rq_sends_what_the_web_signed_and_stops_on_sigterm(rq_app, tmp_path):
    sink, client = rq_app.smtp_sink, rq_app.test_client()
    db_uri = rq_app.config["SQLALCHEMY_DATABASE_URI"]
    appeal = open_appeal()
    assert sign_over_http(client, appeal.slug, "Leyla Yunus", "leyla@example.org") == 303
    worker = worker_process(db_uri, rq_app.config["MAIL_PORT"], tmp_path / "w", ("jobs", "work"),
                            DATA_KEYS=rq_app.config["DATA_KEYS"], JOBS_BACKEND="rq",
                            REDIS_URL=rq_app.config["REDIS_URL"], JOBS_EVERY={})
    try:
        assert [m["To"] for m in sink.wait_for(1, timeout=60)] == ["leyla@example.org"]
        assert wait_until(lambda: [j.status for j in job_rows("jobs.tick")] == [DONE, QUEUED], 30)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
