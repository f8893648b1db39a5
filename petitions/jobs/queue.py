"""The job queue: a job is a row written in the caller's transaction, handed to the backend after the commit.

Backends (JOBS_BACKEND): "database" runs rows in a thread of the web process (JOBS_WORKER = "thread") or in
`flask jobs work`; "rq" pushes each row's id to a Redis queue. Either way the row is claimed by one UPDATE
before it runs, so no job runs twice at once, and it stays in the table until done.
"""
import json
import logging
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from sqlalchemy import event, func, inspect, or_, select, update
from sqlalchemy.orm import Session

import petitions
from petitions.extensions import db, utcnow
from petitions.jobs import backend_rq, runner
from petitions.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job

log = logging.getLogger(__name__)
_PENDING = "petitions.pending_jobs"
_RUNNER = "petitions.jobs_runner"
_JOBS = Job.__table__
_TASKS: dict[str, Callable] = {}
_DUE: dict[str, Callable[[Flask], bool]] = {}
_PASS = threading.local()  # set while this thread runs jobs: commits inside them leave new rows to that pass
_STANDALONE: list[Flask] = []  # the app `rq worker` (outside `flask jobs work`) builds on its first job


def task(name: str, *, due: Callable[[Flask], bool] | None = None):
    """Register a function as the task `name`; `due(app)` marks one that reads its own table (no rows here).

    A task with `due` is run by the sweep whenever `due` says its table holds work, and by `signal`.
    """
    def register(function: Callable) -> Callable:
        if _TASKS.setdefault(name, function) is not function:
            raise ValueError(f"Two tasks are named {name!r}.")
        if due is not None:
            _DUE[name] = due
        return function
    return register


def follow_transactions(after_commit: Callable, after_rollback: Callable) -> None:
    """Call these after every session's commit and (outer or nested) rollback; once, however often asked."""
    if event.contains(Session, "after_commit", after_commit):
        return
    # Listening on the Session class covers every session Flask-SQLAlchemy creates.
    event.listen(Session, "after_commit", after_commit)
    # The "soft" event fires on every rollback() call, even when no SQL ran since the last commit.
    event.listen(Session, "after_soft_rollback", after_rollback)


def init_app(app: Flask) -> None:
    """Check the backend's settings and hook the session so that jobs follow the fate of their transaction."""
    # A wrong setting stops the start, not each request that enqueues.
    if app.config["JOBS_BACKEND"] not in ("database", "rq"):
        raise RuntimeError(f'JOBS_BACKEND must be "database" or "rq", not {app.config["JOBS_BACKEND"]!r}.')
    if app.config["JOBS_BACKEND"] == "rq" and not app.config["REDIS_URL"]:
        raise RuntimeError('JOBS_BACKEND = "rq" needs REDIS_URL (redis://host:6379/0).')
    follow_transactions(_after_commit, _after_rollback)


def enqueue(name: str, *args, delay: float = 0.0) -> Job:
    """Record a call of task `name` with JSON-able `args` in the current transaction, due in `delay` seconds.

    The backend gets it once the transaction commits; a rollback drops it.
    """
    if name not in _TASKS:
        raise LookupError(f"No task is named {name!r}.")
    now = utcnow()
    job = Job(name=name, args=json.dumps(list(args)), status=QUEUED, attempts=0,
              run_after=now + timedelta(seconds=delay), created_at=now)
    session = db.session()
    session.add(job)  # (during a flush too: rows added in before_flush are part of it)
    session.info.setdefault(_PENDING, []).append((job, delay))
    return job


def signal(name: str) -> None:
    """Tell the backend that task `name`'s own table holds due work (the outbox after a commit), now.

    With RQ the task is pushed without a row: its table is the record, and the sweep runs it if Redis is down.
    The database backend has its runners look at those tables themselves.
    """
    app = current_app._get_current_object()
    if app.config["JOBS_BACKEND"] == "rq":
        backend_rq.push(app, "petitions.jobs.queue.rq_signal", (name,))


def pending(name: str, first_arg) -> bool:
    """Tell whether a call of task `name` whose first argument is `first_arg` is queued or running."""
    head = json.dumps(first_arg)
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.name == name, Job.status.in_([QUEUED, RUNNING]),
        or_(Job.args == f"[{head}]", Job.args.startswith(f"[{head}, ")))) > 0


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a released SAVEPOINT: the rows are visible only after the outer commit
        return
    jobs = session.info.pop(_PENDING, None)
    if not jobs:
        return
    committed = [(inspect(job).identity[0], delay) for job, delay in jobs if inspect(job).identity]
    hand_over(current_app._get_current_object(), committed)


def _after_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def _rq_id(job_id: int, attempts: int) -> str:
    # One id per attempt: a retry pushed while its failed attempt still runs in RQ is a call of its own.
    return f"petitions-job-{job_id}-{attempts}"


def hand_over(app: Flask, jobs: list[tuple[int, float]], attempts: int = 0) -> None:
    """Give committed job rows (id, delay) to the configured backend."""
    if app.config["JOBS_BACKEND"] == "rq":
        for job_id, delay in jobs:
            backend_rq.push(app, "petitions.jobs.queue.rq_run", (job_id,), delay, _rq_id(job_id, attempts))
    elif app.config["JOBS_WORKER"] == "thread":
        # A request never waits for a job; a command or a job's own commit runs what is due before going on.
        if has_request_context() or any(delay > 0 for _id, delay in jobs):
            _runner(app).wake()
        if not has_request_context() and not getattr(_PASS, "active", False):
            work_once(app)


def _requeue_stale(app: Flask) -> int:
    limit = utcnow() - timedelta(seconds=float(app.config["JOBS_STALE_SECONDS"]))
    with db.engine.begin() as conn:
        return conn.execute(update(_JOBS).where(_JOBS.c.status == RUNNING, _JOBS.c.claimed_at < limit)
                            .values(status=QUEUED, claim=None)).rowcount


def run_job(app: Flask, job_id: int, *, timed: bool = False) -> bool:
    """Claim a due queued job and run its task in a fresh app context; return False if it was not there to claim.

    `timed`: the backend waited for the delay itself (RQ's scheduler, whose clock counts whole seconds).
    """
    token = secrets.token_hex(16)
    with app.app_context():
        try:
            now = utcnow()
            due = _JOBS.c.status == QUEUED if timed else (_JOBS.c.status == QUEUED) & (_JOBS.c.run_after <= now)
            with db.engine.begin() as conn:
                claimed = conn.execute(update(_JOBS).where(_JOBS.c.id == job_id, due).values(
                    status=RUNNING, claim=token, claimed_at=now, attempts=_JOBS.c.attempts + 1)).rowcount
                row = conn.execute(select(_JOBS).where(_JOBS.c.id == job_id)).first() if claimed == 1 else None
            if row is None:
                return False
            try:
                function = _TASKS.get(row.name)
                if function is None:
                    raise LookupError(f"No task is named {row.name!r} in this process.")
                function(*json.loads(row.args))
                # Marked done in the task's last transaction: its work and the mark commit together.
                db.session.execute(update(Job).where(Job.id == job_id, Job.claim == token).values(
                    status=DONE, claim=None, finished_at=utcnow(), error=None).execution_options(
                    synchronize_session=False))
                db.session.commit()
            except Exception as exc:  # whatever broke, the row says why and is retried later
                db.session.rollback()
                log.exception("job %s (%s) failed", job_id, row.name)
                _failed(app, row, token, exc)
            return True
        finally:
            db.session.remove()


def _failed(app: Flask, row, token: str, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= int(app.config["JOBS_MAX_ATTEMPTS"]):
        values, delay = {"status": FAILED, "finished_at": utcnow()}, None
    else:
        delay = min(30.0 * 2 ** (row.attempts - 1), 3600.0)
        values = {"status": QUEUED, "run_after": utcnow() + timedelta(seconds=delay)}
    with db.engine.begin() as conn:
        marked = conn.execute(update(_JOBS).where(_JOBS.c.id == row.id, _JOBS.c.claim == token)
                              .values(claim=None, error=error, **values)).rowcount
    if marked and delay is not None:
        hand_over(app, [(row.id, delay)], attempts=row.attempts)


def _next_due_id() -> int | None:
    return db.session.scalar(select(Job.id).where(Job.status == QUEUED, Job.run_after <= utcnow())
                             .order_by(Job.run_after, Job.id).limit(1))


def work_once(app: Flask) -> int:
    """Run every job due now, one after another, in this thread; return how many ran."""
    ran, outer = 0, getattr(_PASS, "active", False)
    _PASS.active = True  # jobs enqueued by these jobs are run by this loop, not by their commits
    with app.app_context():
        try:
            _requeue_stale(app)
            while (job_id := _next_due_id()) is not None:
                db.session.rollback()  # end the read: the job runs in a session of its own
                ran += run_job(app, job_id)
        finally:
            db.session.remove()
            _PASS.active = outer
    return ran


def next_due_in(app: Flask) -> float | None:
    """Return the seconds until the next queued job is due (0 if now), or None if none waits."""
    with app.app_context(), db.engine.connect() as conn:
        waiting = conn.execute(select(func.min(_JOBS.c.run_after)).where(_JOBS.c.status == QUEUED)).scalar()
        claimed = conn.execute(select(func.min(_JOBS.c.claimed_at)).where(_JOBS.c.status == RUNNING)).scalar()
    stale = None if claimed is None else claimed + timedelta(seconds=float(app.config["JOBS_STALE_SECONDS"]))
    return runner.seconds_until(waiting, stale)


def sweep(app: Flask) -> int:
    """Queue stale claims again, re-push due rows Redis never ran, and run tasks whose tables hold due work.

    With Redis down every due row runs here instead: `flask jobs work` falls back to the database queue.
    Return how many jobs this sweep ran or pushed.
    """
    done = 0
    with app.app_context():
        try:
            _requeue_stale(app)
            if app.config["JOBS_BACKEND"] == "rq":
                done += _repush(app)
            for name, due in _DUE.items():
                if not due(app):
                    continue
                if app.config["JOBS_BACKEND"] != "rq" or not backend_rq.push(
                        app, "petitions.jobs.queue.rq_signal", (name,), probe=True):
                    _run_signal(app, name)
                done += 1
        finally:
            db.session.remove()
    return done


def _repush(app: Flask) -> int:
    limit = utcnow() - timedelta(seconds=float(app.config["JOBS_REPUSH_SECONDS"]))
    overdue = db.session.execute(select(Job.id, Job.attempts).where(Job.status == QUEUED, Job.run_after <= limit)
                                 .order_by(Job.id).limit(1000)).all()
    db.session.rollback()
    pushed = 0
    for job_id, attempts in overdue:
        held = backend_rq.waiting(app, _rq_id(job_id, attempts))
        if held:
            continue
        # Redis is down (None) or refuses the push: what is due runs here rather than wait for it.
        if held is None or not backend_rq.push(app, "petitions.jobs.queue.rq_run", (job_id,), 0,
                                               _rq_id(job_id, attempts), probe=True):
            run_job(app, job_id)
        pushed += 1
    return pushed


def _run_signal(app: Flask, name: str) -> None:
    with app.app_context():
        try:
            _TASKS[name]()
            db.session.commit()
        finally:
            db.session.remove()


def _app() -> Flask:
    if has_app_context():
        return current_app._get_current_object()
    if not _STANDALONE:  # `rq worker` imported this module without an app: build one from instance/config.py
        _STANDALONE.append(petitions.create_app())
    return _STANDALONE[0]


def rq_run(job_id: int) -> None:
    """Run one row of the jobs table (what RQ workers call)."""
    run_job(_app(), job_id, timed=True)


def rq_signal(name: str) -> None:
    """Run a task that reads its own table (what RQ workers call after `signal`)."""
    _run_signal(_app(), name)


def _runner(app: Flask) -> runner.Runner:
    return runner.runner_for(app, _RUNNER, lambda a: (work_once(a), None), next_due_in)


def start_worker() -> None:
    """Start this web process's job thread once (at its first request), so jobs left waiting run too."""
    app = current_app._get_current_object()
    if app.config["JOBS_BACKEND"] == "database" and app.config["JOBS_WORKER"] == "thread" \
            and not runner.started(app, _RUNNER):
        _runner(app).wake()


def wait_idle(app: Flask | None = None, timeout: float = 30.0) -> bool:
    """Wait until the job thread has run every job due now; for tests and shutdown."""
    return runner.wait_idle(app or current_app._get_current_object(), _RUNNER, timeout)


def tick(app: Flask) -> list[str]:
    """Enqueue every periodic task (JOBS_EVERY) not enqueued within its interval; return their names."""
    with app.app_context():
        try:
            started = _enqueue_periodic(app)
            db.session.commit()
        finally:
            db.session.remove()
    return started


def _enqueue_periodic(app: Flask) -> list[str]:
    started, now = [], utcnow()
    for name, seconds in app.config["JOBS_EVERY"].items():
        last = db.session.scalar(select(func.max(Job.created_at)).where(Job.name == name))
        if last is None or last <= now - timedelta(seconds=float(seconds)):
            enqueue(name)
            started.append(name)
    return started


def _next_tick_queued() -> bool:
    return db.session.scalar(select(func.count()).select_from(Job).where(
        Job.name == "jobs.tick", Job.status == QUEUED)) > 0


@task("jobs.tick")
def _tick_task() -> None:
    """Enqueue the periodic tasks that are due, and this task again in JOBS_TICK_SECONDS (RQ's scheduler waits)."""
    app = current_app._get_current_object()
    _enqueue_periodic(app)
    if not _next_tick_queued():
        enqueue("jobs.tick", delay=float(app.config["JOBS_TICK_SECONDS"]))


def start_ticking(app: Flask) -> bool:
    """Start the self-renewing `jobs.tick` chain unless one is queued; return whether this call started it."""
    with app.app_context():
        try:
            if _next_tick_queued():
                return False
            enqueue("jobs.tick")
            db.session.commit()
            return True
        finally:
            db.session.remove()


def work_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Database backend: tick, sweep and run due jobs until stopped (`flask jobs work`)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        tick(app)
        sweep(app)
        work_once(app)
        due = next_due_in(app)
        stop.wait(min(float(app.config["JOBS_POLL_SECONDS"]), due if due is not None else runner.MAX_SLEEP))


def sweep_forever(app: Flask, stop: threading.Event) -> None:
    """RQ backend: sweep every JOBS_POLL_SECONDS beside the RQ worker until stopped (`jobs.tick` schedules)."""
    while not stop.is_set():
        try:
            sweep(app)
        except Exception:  # a database hiccup must not end the sweep that lost pushes depend on
            log.exception("jobs sweep failed")
        stop.wait(float(app.config["JOBS_POLL_SECONDS"]))


