"""Time signing over HTTP with the mail server up, down, and answering after 2 s, interleaved in one run.

Run from the repository root: python bench/mail.py [--signs N]

Three live servers (one per mail server state, each on its own SQLite database, worker thread in the web
process as in `make run`) take turns in a shuffled order: one sign request each, round after round. Prints p50/p99 per state and
the ratio of each to "up"; the outbox's promise is that a signer never waits for the mail server.
"""
from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.appeals import services  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db  # noqa: E402
from petitions.mail import sending  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class Sink:
    def __init__(self, delay: float = 0.0):
        self.delay, self.count = delay, 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        self.count += 1
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def live_app(folder: Path, mail_port: int):
    """Return (base URL, appeal slug, app) of a live server on a migrated database."""
    app = create_app({
        "TESTING": False, "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench", "DATA_KEYS": [Fernet.generate_key().decode()],
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite'}", "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port, "MAIL_TIMEOUT": 10, "RATELIMIT_ENABLED": False, "PUBLIC_URL": "http://127.0.0.1",
        "SIGN_MIN_SECONDS": 0,  # the bench submits the form at once
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "MAIL_DEFAULT_SENDER": "Petitions <noreply@bench.test>",
    })
    app.instance_path = str(folder)
    with app.app_context():
        upgrade()
        owner = register_user("Owner", "owner@bench.test", "a long password")
        appeal = services.create_appeal(owner, {"title": "Free the journalists", "body": "We ask for their release.",
                                                "addressees": services.addressees_from_lines("Secretary General")})
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", slug, app


def sign_once(base: str, slug: str, n: int) -> float:
    """Open the appeal page (not timed), then time the sign POST until its answer."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         NoRedirect())
    page = opener.open(f"{base}/a/{slug}/sign").read().decode()
    token = CSRF_RE.search(page).group(1)
    name = f"Signer {LETTERS[n // 26 % 26].upper()}{LETTERS[n % 26]}{LETTERS[n // 676 % 26]}"
    data = urllib.parse.urlencode({"full_name": name, "affiliation": "Lawyer", "email": f"s{n}@example.org",
                                   "consent": "y", "csrf_token": token}).encode()
    start = time.perf_counter()
    try:
        opener.open(f"{base}/a/{slug}/sign", data=data).read()
    except urllib.error.HTTPError as exc:
        if exc.code != 303:
            raise
    return time.perf_counter() - start


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signs", type=int, default=200, help="sign requests per mail server state")
    args = parser.parse_args()
    up_port, slow_port, down_port = free_port(), free_port(), free_port()  # nothing listens on down_port
    up, slow = Controller(Sink(), hostname="127.0.0.1", port=up_port), Controller(
        Sink(2.0), hostname="127.0.0.1", port=slow_port)
    up.start()
    slow.start()
    with tempfile.TemporaryDirectory() as tmp:
        states = {}
        for state, port in (("up", up_port), ("down", down_port), ("slow", slow_port)):
            folder = Path(tmp) / state
            folder.mkdir()
            states[state] = live_app(folder, port)
        times: dict[str, list[float]] = {state: [] for state in states}
        order = list(states)
        shuffle = random.Random(12).shuffle
        for n in range(args.signs + 5):
            # A request overlaps the background work of the one before it: shuffle so no state always follows one.
            shuffle(order)
            for state in order:
                base, slug, _app = states[state]
                elapsed = sign_once(base, slug, n)
                if n >= 5:  # the first rounds warm up templates and connections
                    times[state].append(elapsed)
        for state, (_base, _slug, app) in states.items():
            app.config["MAIL_WORKER"] = "process"  # the folder goes away: no thread may start again
            sending.wait_idle(app, 5)
    up.stop()
    slow.stop()
    p50_up, p99_up = statistics.median(times["up"]), pct(times["up"], 99)
    report = {state: {"p50_ms": round(1000 * statistics.median(t), 1), "p99_ms": round(1000 * pct(t, 99), 1),
                      "p50_ratio": round(statistics.median(t) / p50_up, 2), "p99_ratio": round(pct(t, 99) / p99_up, 2)}
              for state, t in times.items()}
    print(json.dumps({"signs_per_state": args.signs, **report}, indent=2))


if __name__ == "__main__":
    main()
