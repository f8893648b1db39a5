"""docs/deploy.md, followed from scratch on loopback by scripts/deploy_check.py: two instances, PostgreSQL, Redis."""
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from gunicorn.config import Config

from . import servers

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.deploy


@pytest.mark.skipif(not (servers.postgres_available() and servers.redis_available()),
                    reason="PostgreSQL or redis-server missing: scripts/install-system.sh test")
def test_the_deploy_page_works_from_scratch_with_two_instances_one_database_and_one_redis():
    pytest.importorskip("psycopg", reason="psycopg[binary] is a test dependency")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "deploy_check.py")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = result.stdout
    for done in ("flask db upgrade", "two gunicorn instances", "confirm with the mailed link on the other",
                 "3 allowed", "restore into a fresh database", "deploy check passed"):
        assert done in steps, steps


def _gunicorn_settings(monkeypatch, **env) -> Config:
    """Return gunicorn's settings as it resolves gunicorn.conf.py in the given environment."""
    for key in ("GUNICORN_ACCESS_LOG", "GUNICORN_WORKERS", "GUNICORN_BIND", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = Config()
    for key, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if key in config.settings:
            config.set(key, value)  # as gunicorn does: unknown names are ignored, known ones validated
    return config


def test_gunicorn_runs_two_workers_per_core_plus_one_and_logs_no_client_address(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    settings = _gunicorn_settings(monkeypatch)
    assert settings.workers == max(2, min(2 * cores + 1, 12))
    assert settings.accesslog is None  # no access log unless asked for
    assert settings.address == [("127.0.0.1", 8000)] and settings.timeout == 30 and settings.graceful_timeout == 30
    asked = _gunicorn_settings(monkeypatch, GUNICORN_ACCESS_LOG="-", GUNICORN_WORKERS="7",
                               GUNICORN_BIND="127.0.0.1:9001")
    assert asked.accesslog == "-" and asked.workers == 7 and asked.address == [("127.0.0.1", 9001)]
    # Neither the client's address nor the path (links carry their token in it) reaches the access log.
    for field in ("%(h)s", "%(r)s", "%(U)s", "%(q)s", "%({x-forwarded-for}i)s"):
        assert field not in asked.access_log_format, field
