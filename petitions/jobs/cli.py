"""`flask jobs work|tick`: the background worker of both backends, and the cron-friendly scheduler."""
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from petitions.jobs import backend_rq, periodic, queue  # noqa: F401  (periodic registers its tasks)

jobs_group = AppGroup("jobs", help="Run background work: mail, PDF renders, reminders, updates, periodic tasks.")


@jobs_group.command("work")
@click.option("--once", is_flag=True, help="Run what is due now, then exit (for cron).")
@click.option("--burst", is_flag=True, help='With JOBS_BACKEND = "rq": empty the Redis queue, then exit.')
def work(once: bool, burst: bool) -> None:
    """Run jobs until stopped: from the jobs table, or as an RQ worker (JOBS_BACKEND = "rq") beside the sweep."""
    app = current_app._get_current_object()
    if once:
        queue.tick(app)
        swept = queue.sweep(app)
        ran = queue.work_once(app) if app.config["JOBS_BACKEND"] == "database" else 0
        click.echo(f"{ran} job(s) run, {swept} swept.")
        return
    if app.config["JOBS_BACKEND"] != "rq":
        queue.work_forever(app)
        return
    queue.start_ticking(app)  # periodic work through RQ's scheduler: each tick enqueues the next one
    stop = threading.Event()
    sweeper = threading.Thread(target=queue.sweep_forever, args=(app, stop), name="petitions-jobs-sweep",
                               daemon=True)
    sweeper.start()
    try:
        backend_rq.work(app, burst=burst)
    finally:
        stop.set()


@jobs_group.command("tick")
def tick() -> None:
    """Enqueue the periodic tasks that are due (JOBS_EVERY); run it every minute from cron."""
    started = queue.tick(current_app._get_current_object())
    click.echo(f"Enqueued: {', '.join(started) or 'nothing due'}.")
