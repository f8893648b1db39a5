"""Profile the sign and confirm POSTs in-process: SQL statements and milliseconds per request, top functions.

Run from the repository root:
python bench/profile_sign.py [--requests N] [--organizations N] [--top N] [--database sqlite|postgresql]
                             [--limits off|redis]

One app on a migrated database (SQLite in a temporary folder, or a throwaway PostgreSQL server on loopback), an open appeal, a registry of N organizations
(the matcher's input), the mail left in the outbox (no worker sends it). Through the Flask test client, with
CSRF on: N sign POSTs with new addresses, then N confirm POSTs of their links. Prints, per path, the SQL
statements of one request (counted with SQLAlchemy's before_cursor_execute), the median and p90 wall ms of N
requests and their median CPU ms (this process's time: steadier than wall time on a shared machine), and the
cProfile functions with the most cumulative time over a second run of N requests. `--limits redis` counts the
rate limits (per client and per domain, with budgets the run never reaches) in a throwaway redis-server, as a
deployment does, and prints the Redis commands of one sign request (a script counts with the commands it runs:
EVALSHA and its INCRBY are two commands, one round trip).
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.appeals import services  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db  # noqa: E402
from petitions.registry.services import add_organization  # noqa: E402
from petitions.signing.models import Signature  # noqa: E402
from petitions.signing.operations import confirmation_token  # noqa: E402
from tests import servers  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def build(folder: Path, organizations: int, uri: str, redis_url: str | None):
    """Return an app on a migrated database with one open appeal and a registry, and the appeal's slug."""
    limits = ({"RATELIMIT_STORAGE_URI": redis_url, "SIGN_RATE_LIMIT": "1000000 per hour",
               "SIGN_DOMAIN_LIMIT": 10**9} if redis_url else {"RATELIMIT_ENABLED": False})
    app = create_app({
        "TESTING": False, "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench",
        "DATA_KEYS": [Fernet.generate_key().decode()],
        "SQLALCHEMY_DATABASE_URI": uri, **limits,
        "SIGN_MIN_SECONDS": 0,  # the profile submits the form at once
        "PUBLIC_URL": "http://localhost", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "MAIL_DEFAULT_SENDER": "Petitions <noreply@bench.test>", "MAIL_WORKER": "process",
        "PDF_EXECUTOR": "worker",  # a confirmation schedules the public PDF; nothing renders it here
    })
    app.instance_path = str(folder)
    with app.app_context():
        upgrade()
        owner = register_user("Owner", "owner@bench.test", "a long password")
        for n in range(organizations):
            add_organization(f"Institute number {n} of applied studies", aliases=[f"IAS {n}"],
                             domains=[f"ias{n}.example.org"])
        appeal = services.create_appeal(owner, {"title": "Free the journalists", "body": "We ask for their release.",
                                                "addressees": services.addressees_from_lines("Secretary General")})
        appeal.publish()
        db.session.commit()
        return app, appeal.slug


def redis_calls(url: str | None) -> int:
    """Return the commands the Redis server has run so far (0 without one)."""
    if url is None:
        return 0
    import redis
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_info")


class StatementCounter:
    """Count the SQL statements the engine runs while `counting` is on."""

    def __init__(self, engine):
        self.count, self.counting = 0, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        if self.counting:
            self.count += 1


def sign_requests(client, slug: str, start: int, n: int):
    """Yield one callable per sign POST with a new address."""
    token = CSRF_RE.search(client.get(f"/a/{slug}/sign").get_data(as_text=True)).group(1)
    for i in range(start, start + n):
        data = {"full_name": f"Signer Number {i}", "affiliation": "Institute number 7 of applied studies",
                "email": f"s{i}@example.org", "consent": "y", "csrf_token": token}
        yield lambda data=data: client.post(f"/a/{slug}/sign", data=data)


def confirm_requests(app, client, slug: str, tokens: list[str]):
    """Yield one callable per confirm POST."""
    csrf = CSRF_RE.search(client.get(f"/confirm/{tokens[0]}").get_data(as_text=True)).group(1)
    for token in tokens:
        yield lambda token=token: client.post(f"/confirm/{token}", data={"csrf_token": csrf})


def run(requests, counter: StatementCounter, expect: int) -> tuple[list[float], list[int], list[float]]:
    """Time each request; return the wall milliseconds, the statements and the CPU milliseconds of each."""
    times, statements, cpu = [], [], []
    for call in requests:
        counter.count, counter.counting = 0, True
        start, start_cpu = time.perf_counter(), time.process_time()
        answer = call()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        counter.counting = False
        statements.append(counter.count)
        if answer.status_code != expect:
            raise SystemExit(f"unexpected answer {answer.status_code}")
    return times, statements, cpu


def tokens_of(app, first: int, n: int) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(select(Signature).order_by(Signature.id).offset(first).limit(n)).all()
        tokens = [confirmation_token(s) for s in rows]
        db.session.remove()
        return tokens


def top(profile: cProfile.Profile, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="timed requests per path")
    parser.add_argument("--organizations", type=int, default=300, help="registry entries")
    parser.add_argument("--top", type=int, default=25, help="functions printed per profile")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--limits", choices=("off", "redis"), default="off",
                        help="count the rate limits in a throwaway redis-server")
    args = parser.parse_args()
    n = args.requests
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if args.database == "postgresql":
            uri = stack.enter_context(servers.postgres()).createdb("profile")
        else:
            uri = f"sqlite:///{Path(tmp) / 'db.sqlite'}"
        redis_url = stack.enter_context(servers.redis()).url() if args.limits == "redis" else None
        app, slug = build(Path(tmp), args.organizations, uri, redis_url)
        with app.app_context():
            counter = StatementCounter(db.engine)
        client = app.test_client()
        run(sign_requests(client, slug, 0, 10), counter, 303)  # warm-up: templates, connections
        before = redis_calls(redis_url)
        sign_ms, sign_sql, sign_cpu = run(sign_requests(client, slug, 10, n), counter, 303)
        sign_redis = (redis_calls(redis_url) - before) / n
        profile = cProfile.Profile()
        profile.enable()
        run(sign_requests(client, slug, 10 + n, n), counter, 303)
        profile.disable()
        sign_top = top(profile, args.top)

        run(confirm_requests(app, client, slug, tokens_of(app, 0, 10)), counter, 200)
        confirm_ms, confirm_sql, confirm_cpu = run(confirm_requests(app, client, slug, tokens_of(app, 10, n)),
                                                   counter, 200)
        profile = cProfile.Profile()
        profile.enable()
        run(confirm_requests(app, client, slug, tokens_of(app, 10 + n, n)), counter, 200)
        profile.disable()
        confirm_top = top(profile, args.top)
        with app.app_context():
            db.engine.dispose()
    print(sign_top)
    print(confirm_top)
    print(f"{'path':<8} {'statements':>10} {'median ms':>9} {'p90 ms':>7} {'CPU ms':>7}  ({n} requests, "
          f"{args.organizations} organizations, {args.database})")
    for path, ms, sql, cpu in (("sign", sign_ms, sign_sql, sign_cpu), ("confirm", confirm_ms, confirm_sql,
                                                                        confirm_cpu)):
        p90 = sorted(ms)[int(0.9 * (len(ms) - 1))]
        print(f"{path:<8} {statistics.median(sql):>10.0f} {statistics.median(ms):>9.2f} {p90:>7.2f} "
              f"{statistics.median(cpu):>7.2f}")
    if redis_url:
        print(f"Redis commands per sign request: {sign_redis:.1f} (a script's inner commands included)")


if __name__ == "__main__":
    main()
