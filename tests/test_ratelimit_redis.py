"""Rate limits counted in the real Redis: one budget for every app instance, signing through an outage; ProxyFix."""
import logging

import pytest
import redis

from petitions.extensions import db

from .conftest import csrf_token
from .test_hot_paths import open_appeal

LIMIT = 3


def limited_app(make_app, storage: str = "memory://", **config):
    """Return (app, slug) of an app that limits signing to LIMIT per hour, with an open appeal."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, SIGN_RATE_LIMIT=f"{LIMIT} per hour",
                   MAIL_WORKER="process", **config)
    with app.app_context():
        slug = open_appeal().slug
        db.session.remove()
    return app, slug


class Signer:
    """One browser of one app: opens the appeal for its CSRF token and signs with a new address each time."""

    count = 0

    def __init__(self, app, slug: str, forwarded_for: str | None = None):
        self.app, self.slug = app, slug
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        self.client = app.test_client()

    def sign(self) -> int:
        Signer.count += 1
        with self.app.app_context():
            token = csrf_token(self.client, f"/a/{self.slug}/sign")
            answer = self.client.post(f"/a/{self.slug}/sign", headers=self.headers, data={
                "full_name": f"Signer Number {Signer.count}", "affiliation": "Lawyer",
                "email": f"s{Signer.count}@example.org", "consent": "y", "csrf_token": token})
            db.session.remove()
        return answer.status_code


@pytest.fixture
def redis_url(redis_server):
    url = redis_server.url(1)
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


def test_two_app_instances_share_one_budget_kept_in_redis(make_app, redis_url):
    (first, first_slug), (second, second_slug) = limited_app(make_app, redis_url), limited_app(make_app, redis_url)
    a, b = Signer(first, first_slug), Signer(second, second_slug)
    assert [a.sign(), b.sign(), a.sign()] == [303, 303, 303]
    assert [b.sign(), a.sign()] == [429, 429]  # three in all, whichever instance took them
    assert redis.Redis.from_url(redis_url).keys("LIMITS:*")
    redis.Redis.from_url(redis_url).flushdb()  # the budget lives in Redis, not in either process
    assert [b.sign(), a.sign()] == [303, 303]


def test_signing_goes_on_through_a_redis_outage_limited_in_memory_and_logged(make_app, redis_server, redis_url,
                                                                             caplog):
    app, slug = limited_app(make_app, redis_url)
    signer = Signer(app, slug)
    assert signer.sign() == 303
    redis_server.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            answers = [signer.sign() for _ in range(LIMIT + 1)]
        assert answers == [303] * LIMIT + [429]  # never a 500; the limit still holds, counted in this process
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)
        with app.app_context():
            assert db.session.scalar(db.text("SELECT count(*) FROM signatures")) == LIMIT + 1
            db.session.remove()
    finally:
        redis_server.start_again()


# --- ProxyFix -----------------------------------------------------------------------------------------

def test_x_forwarded_for_is_ignored_when_no_proxy_is_trusted(make_app):
    app, slug = limited_app(make_app)  # PROXY_FIX_X_FOR = 0, the default
    answers = [Signer(app, slug, forwarded_for=f"203.0.113.{n}").sign() for n in range(LIMIT + 1)]
    assert answers == [303] * LIMIT + [429]  # a forged header buys no new budget: one client, one bucket


def test_x_forwarded_for_names_the_client_behind_one_trusted_proxy(make_app):
    app, slug = limited_app(make_app, PROXY_FIX_X_FOR=1)
    answers = [Signer(app, slug, forwarded_for=f"203.0.113.{n}").sign() for n in range(LIMIT + 1)]
    assert answers == [303] * (LIMIT + 1)  # each client its own bucket
    same = Signer(app, slug, forwarded_for="198.51.100.7")
    assert [same.sign() for _ in range(LIMIT + 1)] == [303] * LIMIT + [429]
    # Only the last hop is the proxy's: what the client put before it cannot give it a new bucket.
    assert Signer(app, slug, forwarded_for="192.0.2.1, 198.51.100.7").sign() == 429
