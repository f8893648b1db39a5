"""The embedded runner: a thread in the web process, woken by commits, asleep until the next thing is due.

The outbox's sender and the database backend of the job queue are both one of these; each supplies a pass
(do what is due; say how long to pause if a server was unreachable) and the time until the next thing is due.
"""
import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

from flask import Flask

from petitions.extensions import utcnow

log = logging.getLogger(__name__)
IDLE_SECONDS = 5  # an idle thread with nothing waiting ends; the next commit starts a new one
MAX_SLEEP = 60.0  # a sleeping thread looks again at least this often (for other processes' rows)

Pass = Callable[[Flask], tuple[int, float | None]]
NextDue = Callable[[Flask], float | None]


class Runner:
    """One background thread of one process: runs passes while work is due, then waits to be woken."""

    def __init__(self, app: Flask, name: str, work_pass: Pass, next_due: NextDue):
        self.app, self.name = app, name
        self.work_pass, self.next_due = work_pass, next_due
        self.pid = os.getpid()
        self.changed = threading.Condition()
        self.pending = False
        self.running = False
        self.paused = False  # waiting out an unreachable server: nothing more happens before the next try
        self.failures = 0  # passes that failed in a row: the pause after each doubles, up to MAX_SLEEP
        self.thread: threading.Thread | None = None

    def wake(self) -> None:
        with self.changed:
            self.pending = True
            self.changed.notify_all()
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            if _EXITING.is_set():  # the interpreter is ending: what is due waits in its table for the next process
                self.thread = None
                return
            with self.changed:
                self.pending = False
                self.running = True
            try:
                attempted, pause = self.work_pass(self.app)
                self.failures = 0
            except Exception:  # a database hiccup must not end the thread that all later work needs
                log.exception("%s pass failed", self.name)
                self.failures += 1
                attempted, pause = 0, min(2.0 ** (self.failures - 1), MAX_SLEEP)
            due = self._next_due()
            with self.changed:
                if not pause and (self.pending or (due == 0 and attempted)):
                    continue  # more is due now
                self.running = False
                self.changed.notify_all()
                if pause:
                    # A server is unreachable: work committed meanwhile waits for the next try with the rest,
                    # so an outage costs one connection attempt per delay, not one per request.
                    resume = time.monotonic() + min(pause, MAX_SLEEP)
                    self.paused = True
                    self.changed.notify_all()
                    while (left := resume - time.monotonic()) > 0 and not _EXITING.is_set():
                        self.changed.wait(min(left, 1.0))
                    self.paused = False
                elif due is None:
                    self.changed.wait_for(lambda: self.pending, IDLE_SECONDS)
                    if not self.pending:
                        self.thread = None
                        return
                else:
                    self.changed.wait_for(lambda: self.pending, min(max(due, 0.05), MAX_SLEEP))

    def _next_due(self) -> float | None:
        try:
            return self.next_due(self.app)
        except Exception:
            log.exception("%s cannot read its queue", self.name)
            return 1.0

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.paused or not (self.pending or self.running), timeout)


_LOCK = threading.Lock()
_EXITING = threading.Event()
_LIVE: "weakref.WeakSet[Runner]" = weakref.WeakSet()


def runner_for(app: Flask, key: str, work_pass: Pass, next_due: NextDue) -> Runner:
    """Return this process's runner stored under `key` in the app, creating it on first use."""
    with _LOCK:
        runner = app.extensions.get(key)
        if runner is None or runner.pid != os.getpid():  # a forked worker starts its own thread
            runner = app.extensions[key] = Runner(app, key, work_pass, next_due)
            _LIVE.add(runner)
        return runner


def started(app: Flask, key: str) -> bool:
    """Tell whether this process already has the runner stored under `key`."""
    runner = app.extensions.get(key)
    return runner is not None and runner.pid == os.getpid()


def wait_idle(app: Flask, key: str, timeout: float) -> bool:
    """Wait until the runner under `key` has done everything due now (True if there is none)."""
    runner = app.extensions.get(key)
    return runner is None or runner.wait_idle(timeout)


def exiting() -> bool:
    """Tell whether the interpreter is shutting down (no new pass may start)."""
    return _EXITING.is_set()


@atexit.register
def stop_all() -> None:
    """Let this process's runners finish the pass they are in, then start no other (at exit, or before the
    servers a test run started are stopped)."""
    # What is left waits in its table for the next process.
    for runner in list(_LIVE):
        if runner.pid == os.getpid():
            runner.wait_idle(runner.app.config["MAIL_TIMEOUT"])
    _EXITING.set()  # no pass may start after this: logging and the database are being torn down


def seconds_until(*times) -> float | None:
    """Return the seconds until the earliest of these naive UTC times (0 if past), or None if all are None."""
    known = [t for t in times if t is not None]
    if not known:
        return None
    return max(0.0, (min(known) - utcnow()).total_seconds())
