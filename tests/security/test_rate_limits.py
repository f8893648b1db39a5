"""Rate limits that hold in a real deployment: shared Redis counters across gunicorn workers, ProxyFix, outages."""
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis

from petitions import create_app
from petitions.extensions import db

from ..conftest import base_config, copy_database, csrf_token, free_port, new_appeal
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SIGN_LIMIT = 5
DOMAIN_LIMIT = 12  # above what the per-client test signs from example.org
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_SERVER),
                                reason="redis-server missing: scripts/install-system.sh test")


def _wait_for(check, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """Run a throwaway redis-server on loopback (no persistence) and yield its URL."""
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for(lambda: redis.Redis.from_url(url).ping(), "redis-server start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, migrated_db, redis_url):
    """Serve the app with gunicorn -w 3 behind one trusted proxy hop, counters in Redis; yield (url, slug)."""
    folder = tmp_path_factory.mktemp("deployment")
    config = {**base_config(copy_database(migrated_db, folder / "petitions.sqlite")), "TESTING": False, "RATELIMIT_ENABLED": True,
              "RATELIMIT_STORAGE_URI": redis_url, "SIGN_RATE_LIMIT": f"{SIGN_LIMIT} per hour",
              "SIGN_DOMAIN_LIMIT": DOMAIN_LIMIT,
              "PROXY_FIX_X_FOR": 1, "MAIL_TRANSPORT": "outbox"}
    app = create_app(config)
    with app.app_context():
        owner = _register_owner()
        appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
        db.engine.dispose()
    instance = folder / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("".join(f"{key} = {value!r}\n" for key, value in config.items()))
    port = free_port()
    env = {**os.environ, "PETITIONS_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "3", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: urllib.request.urlopen(f"{base}/a/{slug}", timeout=5).status == 200, "gunicorn start")
        yield base, slug
    finally:
        proc.terminate()
        proc.wait(20)


def _register_owner():
    from petitions.auth.services import register_user

    return register_user("Owner", "owner@coalition.example", PASSWORD)


class Browser:
    """One client of the live server: its own cookies, its own X-Forwarded-For as the proxy would set it."""

    def __init__(self, base: str, forwarded_for: str):
        self.base = base
        self.forwarded_for = forwarded_for
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"X-Forwarded-For": self.forwarded_for})
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def sign(self, slug: str, n: int, domain: str = "example.org") -> int:
        status, page = self.request(f"/a/{slug}/sign")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.request(f"/a/{slug}/sign", {"full_name": f"Signer Number {n}", "affiliation": "Lawyer",
                                                     "email": f"signer{n}.{time.time_ns()}@{domain}",
                                                     "consent": "y", "csrf_token": token})
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_one_client_gets_exactly_the_limit_across_workers_and_each_client_its_own_bucket(deployment):
    base, slug = deployment
    alice = Browser(base, "203.0.113.10")
    answers = [alice.sign(slug, n) for n in range(SIGN_LIMIT * 3 + 1)]
    assert answers.count(303) == SIGN_LIMIT and set(answers[SIGN_LIMIT:]) == {429}, answers
    # Another client behind the same proxy is counted on its own.
    bob = Browser(base, "198.51.100.20")
    assert [bob.sign(slug, 100 + n) for n in range(SIGN_LIMIT)] == [303] * SIGN_LIMIT
    # Alice prepends a forged hop: the trusted proxy appends her real address last, and that is what counts.
    for forged in ("192.0.2.99", "192.0.2.98, 192.0.2.97", "unknown"):
        spoofing = Browser(base, f"{forged}, 203.0.113.10")
        assert spoofing.sign(slug, 200) == 429, forged


def test_one_domain_gets_exactly_its_limit_across_workers_whatever_the_clients(deployment):
    base, slug = deployment
    clients = [Browser(base, f"192.0.2.{n + 1}") for n in range(DOMAIN_LIMIT // 3 + 1)]
    answers = [client.sign(slug, 300 + 3 * i + k, "institute.example") for i, client in enumerate(clients)
               for k in range(3)]
    assert answers.count(303) == DOMAIN_LIMIT and set(answers[DOMAIN_LIMIT:]) == {429}, answers
    # The same clients may still sign with another domain: the domain, not the client, ran out.
    assert clients[-1].sign(slug, 400, "other-institute.example") == 303


def test_registration_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="3 per hour")
    with app.app_context():
        client = app.test_client()
        answers = []
        for n in range(5):
            token = csrf_token(client, "/auth/register")
            answers.append(client.post("/auth/register", data={
                "email": f"bulk{n}@example.org", "name": "Bulk", "password": PASSWORD, "password2": PASSWORD,
                "csrf_token": token}).status_code)
        assert answers[:3] == [200] * 3 and answers[3:] == [429, 429], answers
        db.session.remove()
        db.engine.dispose()


def test_registration_mails_to_one_address_are_limited_whatever_the_client_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, REGISTER_RATE_LIMIT="3 per hour", PROXY_FIX_X_FOR=1)
    with app.app_context():
        answers = []
        for n in range(5):
            client = app.test_client()
            headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"}  # a new client address each time
            token = csrf_token(client, "/auth/register")
            answers.append(client.post("/auth/register", headers=headers, data={
                "email": "Victim@Example.ORG" if n % 2 else "victim@example.org", "csrf_token": token}).status_code)
        assert answers == [200, 200, 200, 429, 429], answers
        client = app.test_client()
        token = csrf_token(client, "/auth/register")
        other = client.post("/auth/register", headers={"X-Forwarded-For": "203.0.113.99"},
                            data={"email": "someone.else@example.org", "csrf_token": token})
        assert other.status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_signing_survives_a_redis_outage_and_stays_limited_in_memory(make_app):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=dead, SIGN_RATE_LIMIT="3 per hour",
                   MAIL_TRANSPORT="outbox")
    with app.app_context():
        owner = _register_owner()
        appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
        appeal.publish()
        db.session.commit()
        client = app.test_client()
        answers = []
        for n in range(5):
            token = csrf_token(client, f"/a/{appeal.slug}/sign")
            answers.append(client.post(f"/a/{appeal.slug}/sign", data={
                "full_name": f"Signer Number {n}", "affiliation": "Lawyer", "email": f"s{n}@example.org",
                "consent": "y", "csrf_token": token}).status_code)
        assert answers == [303, 303, 303, 429, 429], answers
        db.session.remove()
        db.engine.dispose()
