"""Serve petitions in production: `gunicorn -c gunicorn.conf.py wsgi:app` (docs/deploy.md).

Every value can be overridden from the environment (below) or on the command line (`-w`, `-b` win over this file).
"""
import gc
import os


def _cores() -> int:
    # The cores this process may run on (a container or `taskset` may allow fewer than the machine has).
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def default_workers(cores: int, cap: int = 12) -> int:
    """Return gunicorn's usual 2 × cores + 1 sync workers, capped so a big host does not open too many connections."""
    return max(2, min(2 * cores + 1, cap))


# Where to listen: behind the reverse proxy on loopback (or a unix socket, "unix:/run/petitions/web.sock").
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each holds one database connection while it answers, so PostgreSQL's max_connections must cover
# workers × instances plus the job workers.
workers = int(os.environ.get("GUNICORN_WORKERS")
              or default_workers(_cores(), int(os.environ.get("GUNICORN_MAX_WORKERS", "12"))))
worker_class = "sync"
# A request taking longer than this is killed and its worker restarted (the PDF of a long list renders in jobs).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On restart or SIGTERM, requests in flight get this long to finish before their worker is killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# The reverse proxy keeps connections to the app short; sync workers answer one request per connection anyway.
keepalive = 2
# Restart each worker now and then (jittered, so not all at once) to bound memory growth. Not often: a worker
# starts in about 4 s of CPU (the PDF engine's imports), which at 2,000 requests came every few seconds under a
# viral load and was the slowest 1 % of signatures (docs/benchmarks.md). Measured growth is about 0.5 KB a
# request, levelling off (198 -> 200 MB over 4,500 requests).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
# Signers' addresses must never reach a log: no access log by default. GUNICORN_ACCESS_LOG=- (or a file) turns
# one on without the client address (%(h)s) and without the path, since confirmation and withdrawal links carry
# their signed token in it.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s %(m)s %(s)s %(B)s bytes %(M)s ms'
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Proxy headers are read by the app's ProxyFix (FLASK_PROXY_FIX_X_FOR), for exactly the configured hops; gunicorn
# must not rewrite the scheme on its own.
forwarded_allow_ips = ""
proc_name = "petitions"
# gunicorn 25+ opens a control socket in the user's home: instances on one host would share it. systemd reloads
# with HUP instead (deploy/petitions-web.service).
control_socket_disable = True


def post_worker_init(worker):
    """Freeze the objects loading the app made, so that the collector no longer scans them."""
    # Each worker holds about 220,000 objects once the app is loaded (SQLAlchemy, Babel, the PDF engine); a full
    # collection walked them all, 180-380 ms in the middle of a request under load, and it came about once per
    # worker per thousand requests. Frozen, a full collection walks only what came later: 20-40 ms.
    gc.freeze()
