"""Background work behind one interface: `enqueue` a registered `task`; the database or RQ/Redis runs it.

See `queue.py` for the interface and the two backends, `runner.py` for the embedded thread, `periodic.py` for
the work `flask jobs tick` schedules and `cli.py` for `flask jobs work|tick`.
"""
from petitions.jobs.queue import (
    enqueue,
    follow_transactions,
    hand_over,
    init_app,
    next_due_in,
    pending,
    run_job,
    signal,
    start_worker,
    sweep,
    task,
    tick,
    wait_idle,
    work_once,
)

__all__ = ["enqueue", "follow_transactions", "hand_over", "init_app", "next_due_in", "pending", "run_job", "signal",
           "start_worker", "sweep", "task", "tick", "wait_idle", "work_once"]
