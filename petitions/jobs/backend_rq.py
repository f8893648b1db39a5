"""The RQ backend: after commit a job's id goes to a Redis queue, run by `flask jobs work` or `rq worker`.

Redis only carries the news that a job is due; the jobs table stays the record, so a push that fails (Redis
down) is logged and the row waits for the sweep of `flask jobs work`, which pushes it again.
"""
import logging
import time
from datetime import timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus

log = logging.getLogger(__name__)
_CONNECTION = "petitions.jobs_redis"
_DOWN_UNTIL = "petitions.jobs_redis_down_until"  # monotonic time before which pushes are not tried
_WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED)


def connection(app: Flask) -> Redis:
    """Return the app's Redis connection for jobs, with short timeouts so that an outage never holds a page."""
    redis = app.extensions.get(_CONNECTION)
    if redis is None:
        if not app.config["REDIS_URL"]:
            raise RuntimeError('JOBS_BACKEND = "rq" needs REDIS_URL (redis://host:6379/0).')
        timeout = float(app.config["JOBS_REDIS_TIMEOUT"])
        redis = app.extensions[_CONNECTION] = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=timeout, socket_timeout=timeout)
    return redis


def queue(app: Flask) -> Queue:
    return Queue(app.config["JOBS_QUEUE"], connection=connection(app))


def push(app: Flask, function: str, args: tuple, delay: float = 0.0, rq_id: str | None = None, *,
         probe: bool = False) -> bool:
    """Hand one call to the RQ queue, `delay` seconds from now; return False (logged) if Redis cannot take it.

    After a failure, pushes are skipped for JOBS_REDIS_RETRY_SECONDS (the rows wait for the sweep), so that a
    Redis that hangs costs one request its timeout, not every request; `probe` (the sweep) tries regardless.
    """
    if not probe and time.monotonic() < app.extensions.get(_DOWN_UNTIL, 0.0):
        return False
    # result_ttl=0: a finished call leaves nothing in Redis; the jobs table records the outcome.
    # job_timeout: a render of a long list may take minutes; a runner that dies is caught by JOBS_STALE_SECONDS.
    options = {"job_id": rq_id, "result_ttl": 0, "description": f"{function}{args}",
               "job_timeout": int(app.config["JOBS_STALE_SECONDS"])}
    try:
        if delay > 0:  # RQ's scheduler moves it to the queue when due (a worker started with_scheduler)
            queue(app).enqueue_in(timedelta(seconds=delay), function, *args, **options)
        else:
            queue(app).enqueue(function, *args, **options)
    except (RedisError, OSError) as exc:
        app.extensions[_DOWN_UNTIL] = time.monotonic() + float(app.config["JOBS_REDIS_RETRY_SECONDS"])
        log.warning("job %s%s not handed to Redis (%s): it waits in the jobs table for the sweep", function, args, exc)
        return False
    app.extensions[_DOWN_UNTIL] = 0.0
    return True


def waiting(app: Flask, rq_id: str) -> bool | None:
    """Tell whether Redis holds this call, queued, scheduled or running; None if Redis cannot be asked."""
    try:
        return RqJob.fetch(rq_id, connection=connection(app)).get_status() in _WAITING
    except NoSuchJobError:
        return False
    except (RedisError, OSError):
        return None


def work(app: Flask, burst: bool = False) -> None:
    """Run an RQ worker with its scheduler in this process and app (no fork: one app, one engine)."""
    worker = SimpleWorker([queue(app)], connection=connection(app))
    worker.work(burst=burst, with_scheduler=True)
