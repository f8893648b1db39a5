"""docs/deploy.md, followed from scratch on loopback by scripts/deploy_check.py: two instances, PostgreSQL, Redis."""
import subprocess
import sys
from pathlib import Path

import pytest

from . import servers

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.deploy,
              pytest.mark.skipif(not (servers.postgres_available() and servers.redis_available()),
                                 reason="PostgreSQL or redis-server missing: scripts/install-system.sh test")]


def test_the_deploy_page_works_from_scratch_with_two_instances_one_database_and_one_redis():
    pytest.importorskip("psycopg", reason="psycopg[binary] is a test dependency")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "deploy_check.py")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = result.stdout
    for done in ("flask db upgrade", "two gunicorn instances", "confirm with the mailed link on the other",
                 "3 allowed", "restore into a fresh database", "deploy check passed"):
        assert done in steps, steps
