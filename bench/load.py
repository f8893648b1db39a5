"""Load benchmark: the app under gunicorn on loopback against a bare Flask baseline served the same way, one run.

Run from the repository root:

    python bench/load.py [--signatures 100] [--database sqlite|postgresql] [--instances 1] [--workers W]
                         [--clients 16] [--seconds 8] [--rounds 3] [--quick] [--warmup 1]

A fresh database gets one open appeal with N confirmed signatures (a few through the service layer, the rest in
batches through the model, derived fields and encryption computed per row as signing does), checked with the
app's own reads. Then `gunicorn -c gunicorn.conf.py wsgi:app` (`--instances` of them on their own ports, one
database, one Redis for the rate limits) and `bench/baseline_app.py` under the same configuration. One asyncio
HTTP client (16 concurrent clients, a new connection per request as gunicorn's sync workers answer) first takes
a session and CSRF token from the sign form (`/a/<slug>/sign`; where the form is still on the appeal page, from
the resend page of the same session),
sends each kind of request for `--warmup` seconds unmeasured (a worker's first requests compile statements and
load catalogs: not the steady state of either side; their errors count and their signatures are checked too),
then in rounds alternating app and baseline measures: anonymous GETs of `/a/<slug>` against `/hello`, sign POSTs
against a CSRF-checked form POST inserting one row, and confirmation POSTs for the links of the new signatures
(tokens made through `petitions.links` from the rows: the mail stays queued in the outbox, as a separate mail
worker would find it). Each sign request comes from its own client address (X-Forwarded-For through one trusted
hop, as behind the reverse proxy), so that the limit check at the end can use one address alone: it signs
3 × LIMIT times across every instance and must get LIMIT through, one budget for every worker and instance.

After the run: every successful sign (303) must be stored exactly once (lost, doubled), each with its
confirmation mail in `outbox_messages` (mail_missing), each successful confirmation confirmed (confirm_lost).
Submissions left without an answer (client timeout) count as errors, not as lost or doubled.
Each window's CPU time (from /proc) is split among the app's workers, the baseline's, the database server, Redis
and the client, per successful request ("CPU ms per request", `cpu_ms`); a process that starts or ends inside a
window (a worker restarted) skews that window's split.
The last line is one JSON object; the exit status is 1 when a check fails.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.baseline_app import create_schema, rows as baseline_rows  # noqa: E402
from petitions import create_app, crypto  # noqa: E402
from petitions.appeals.models import Appeal  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db, utcnow  # noqa: E402
from petitions.mail.models import OutboxMessage  # noqa: E402
from petitions.signing import levels, operations  # noqa: E402
from petitions.signing.models import Signature, SignatureStatus  # noqa: E402
from petitions.signing.rules import counted_total, listed_signatures, signer_text  # noqa: E402
from tests import servers  # noqa: E402
from tests.conftest import new_appeal  # noqa: E402

CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
LIMIT = 10  # SIGN_RATE_LIMIT per hour of one client address during the run
SERVICE_SEEDS = 5  # signatures made through sign() and confirm() before the batches
BATCH = 2000
TIMEOUT = 60.0  # seconds a client waits for one answer before counting it as an error
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# --- the load generator ------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, reset, timeout)
    cookies: dict
    body: bytes


async def http(port: int, method: str, path: str, cookies: dict, form: dict | None = None,
               forwarded_for: str | None = None) -> Answer:
    """Send one request on a new connection and read the answer to its end."""
    body = urllib.parse.urlencode(form).encode() if form is not None else b""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
            "User-Agent: petitions-bench"]
    if cookies:
        head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    if forwarded_for:
        head.append(f"X-Forwarded-For: {forwarded_for}")
    if form is not None:
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), TIMEOUT)
        finally:
            writer.close()
    except (OSError, asyncio.TimeoutError):
        return Answer(0, cookies, b"")
    header, _, content = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Answer(0, cookies, b"")
    jar = dict(cookies)
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "set-cookie":
            key, _, rest = value.strip().partition("=")
            jar[key] = rest.split(";", 1)[0]
    return Answer(status, jar, content)


@dataclass
class Client:
    """One browser: its session cookie and CSRF token, on one server."""

    port: int
    cookies: dict = field(default_factory=dict)
    token: str = ""


async def open_form(client: Client, paths: list[str]) -> None:
    """Take a session and a CSRF token from the first of paths that shows the form."""
    for path in paths:
        answer = await http(client.port, "GET", path, client.cookies)
        match = CSRF_RE.search(answer.body) if answer.status == 200 else None
        if match:
            client.cookies, client.token = answer.cookies, match.group(1).decode()
            return
    raise SystemExit(f"no form with a CSRF token at {paths} on port {client.port}")


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu() -> dict[int, tuple[int, str, float]]:
    """Return each process's parent, name and CPU seconds so far, from /proc (empty where there is none)."""
    table = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(rest[1]), name, (int(rest[11]) + int(rest[12])) / TICK)
    return table


class CpuMeter:
    """Split the machine's CPU time of a window among the app, the baseline, the database, Redis and the client."""

    def __init__(self, app_roots: list[int], base_roots: list[int]):
        self.app_roots, self.base_roots = set(app_roots), set(base_roots)

    def group_of(self, pid: int, table: dict) -> str:
        seen, cursor = set(), pid
        while cursor in table and cursor not in seen:
            if cursor in self.app_roots:
                return "app"
            if cursor in self.base_roots:
                return "baseline"
            seen.add(cursor)
            cursor = table[cursor][0]
        name = table[pid][1]
        if name.startswith("postgres"):
            return "database"
        if name.startswith("redis"):
            return "redis"
        return "client" if pid == os.getpid() else "other"

    def snapshot(self) -> dict[str, float]:
        table = process_cpu()
        totals = collections.Counter()
        for pid, (_, _, seconds) in table.items():
            totals[self.group_of(pid, table)] += seconds
        return totals


@dataclass
class Measure:
    latencies: list = field(default_factory=list)  # seconds, successful requests
    seconds: float = 0.0  # measured wall time, windows added up
    errors: collections.Counter = field(default_factory=collections.Counter)
    cpu: collections.Counter = field(default_factory=collections.Counter)  # CPU seconds by process group

    def add(self, other: "Measure") -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.errors.update(other.errors)
        self.cpu.update(other.cpu)

    def cpu_ms(self) -> dict[str, float]:
        """Return the CPU milliseconds per successful request of each process group."""
        n = len(self.latencies)
        return {group: round(seconds * 1000 / n, 2) for group, seconds in sorted(self.cpu.items()) if n and seconds}

    def figures(self) -> dict:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1) if ordered else None

        rps = len(ordered) / self.seconds if self.seconds else 0.0
        return {"rps": round(rps, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "n": len(ordered),
                "errors": sum(self.errors.values())}


async def run_window(clients: list[Client], seconds: float, make_request, expected: int,
                     meter: CpuMeter | None = None) -> Measure:
    """Let every client send requests one after another for `seconds`; wait for those in flight."""
    measure = Measure()
    before = meter.snapshot() if meter else None
    start = time.perf_counter()
    deadline = start + seconds

    async def loop(client: Client):
        while time.perf_counter() < deadline:
            request = make_request(client)
            if request is None:  # nothing left to do (no confirmation link left)
                return
            began = time.perf_counter()
            answer = await request
            if answer.status == expected:
                measure.latencies.append(time.perf_counter() - began)
            else:
                measure.errors[answer.status] += 1

    await asyncio.gather(*(loop(c) for c in clients))
    measure.seconds = time.perf_counter() - start
    if meter:
        after = meter.snapshot()
        measure.cpu = collections.Counter({g: after[g] - before.get(g, 0.0) for g in after
                                           if after[g] > before.get(g, 0.0)})
    return measure


# --- servers -----------------------------------------------------------------------------------------

class Sink:
    """An SMTP server that accepts everything (mail the app sends while measured goes somewhere real)."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 Message accepted"


def gunicorn(target: str, port: int, workers: int | None, env: dict, log: Path) -> subprocess.Popen:
    """Start gunicorn with the project's gunicorn.conf.py on 127.0.0.1:port."""
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{port}"]
    if workers:
        command += ["-w", str(workers)]
    return subprocess.Popen([*command, target], cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True)


def wait_ready(port: int, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on {port} exited:\n{log.read_text()[-3000:]}")
        if asyncio.run(http(port, "GET", path, {})).status == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn on {port} did not answer {path}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- the database ------------------------------------------------------------------------------------

def app_config(uri: str, mail_port: int, limits_uri: str, redis_url: str | None) -> dict:
    """Return the deployment's settings, as docs/deploy.md writes them to instance/config.py."""
    config = {
        "SECRET_KEY": Fernet.generate_key().decode(), "EMAIL_HASH_KEY": Fernet.generate_key().decode(),
        "DATA_KEYS": [Fernet.generate_key().decode()], "SQLALCHEMY_DATABASE_URI": uri,
        "PUBLIC_URL": "http://127.0.0.1:8000", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mail_port,
        "MAIL_DEFAULT_SENDER": "Petitions <noreply@bench.test>",
        # A separate worker sends mail and renders PDFs in a deployment: the web processes only queue them.
        "MAIL_WORKER": "process", "PDF_EXECUTOR": "worker",
        "RATELIMIT_STORAGE_URI": limits_uri, "SIGN_RATE_LIMIT": f"{LIMIT} per hour", "PROXY_FIX_X_FOR": 1,
        # The load signs at once, all at example.org: the form's fill time and the per-domain limit stay out.
        "SIGN_MIN_SECONDS": 0, "SIGN_DOMAIN_LIMIT": 10**9,
    }
    if redis_url:
        config["REDIS_URL"] = redis_url
    return config


def name_of(n: int) -> str:
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += LETTERS[digit]
        if not n:
            break
    return f"Signer {letters.capitalize()} Example"


def seed(config: dict, n: int) -> tuple[str, int]:
    """Fill a fresh database with one open appeal and n confirmed signatures; return (slug, highest id)."""
    app = create_app({**config, "TESTING": True})
    with app.app_context():
        upgrade()
        appeal = new_appeal(register_user("Bench Owner", "owner@bench.test", "a long password"),
                            "Free the journalists", "Secretary General", "We ask for their release.")
        appeal.publish()
        db.session.commit()
        made = []
        with app.test_request_context():
            for i in range(min(n, SERVICE_SEEDS)):
                made.append(operations.sign(appeal, full_name=name_of(i), affiliation="Lawyer",
                                            email=f"seed{i}@bench.test").signature)
            db.session.commit()
            for signature in made:
                operations.confirm(operations.confirmation_token(signature))
            db.session.commit()
        if n > SERVICE_SEEDS:
            appeal_id, made_ids = appeal.id, [s.id for s in made]
            _seed_batches(appeal, made[0], n)
            appeal = db.session.get(Appeal, appeal_id)
            made = [db.session.get(Signature, i) for i in made_ids]
        problems = _check_seeded(appeal, made, n)
        if problems:
            raise SystemExit("seeded signatures differ from the app's: " + "; ".join(problems))
        slug, top = appeal.slug, db.session.scalar(select(func.max(Signature.id)))
        db.session.remove()
        db.engine.dispose()
    return slug, top or 0


def _seed_batches(appeal: Appeal, model: Signature, n: int) -> None:
    """Add the other signatures as the service made the first: same columns, each its own derived fields."""
    skip = {"id", "full_name", "email_hash", "email_encrypted", "flags", "name_key", "organization_id", "official",
            "created_at", "confirmed_at", "client_hash"}
    shared = {c.key: getattr(model, c.key) for c in Signature.__table__.columns if c.key not in skip}
    matcher, affiliation = levels.matcher_for(appeal), model.affiliation
    now = utcnow()
    for start in range(SERVICE_SEEDS, n, BATCH):
        for i in range(start, min(n, start + BATCH)):
            name, email = name_of(i), f"seed{i}@bench.test"
            db.session.add(Signature(**shared, full_name=name, email_hash=crypto.email_hash(email),
                                     email_encrypted=crypto.encrypt(crypto.normalize_email(email)),
                                     created_at=now, confirmed_at=now,
                                     **levels.derived(name, affiliation, matcher)))
        db.session.commit()
        db.session.expunge_all()


def _check_seeded(appeal: Appeal, made: list[Signature], n: int) -> list[str]:
    """Read the seeded rows with the app's own rules; return what differs."""
    problems = []
    if counted_total(appeal) != n:
        problems.append(f"counted_total {counted_total(appeal)} != {n}")
    last = db.session.scalar(select(Signature).order_by(Signature.id.desc()).limit(1))
    if crypto.decrypt(last.email_encrypted) != f"seed{n - 1}@bench.test":
        problems.append("the last address does not decrypt")
    if signer_text(last) != f"{name_of(n - 1)} – Lawyer" or signer_text(made[0]) != f"{name_of(0)} – Lawyer":
        problems.append(f"signer lines {signer_text(made[0])!r}, {signer_text(last)!r}")
    if n <= 10_000 and len(listed_signatures(appeal, "public_page")) != n:
        problems.append("not every signature is listed")
    return problems


# --- the run -----------------------------------------------------------------------------------------

class Run:
    """The servers, their clients and what each measure collected."""

    def __init__(self, app_ports: list[int], base_ports: list[int], slug: str, config: dict, clients: int,
                 meter: CpuMeter | None = None):
        self.slug, self.config, self.meter = slug, config, meter
        self.app_clients = [Client(app_ports[i % len(app_ports)]) for i in range(clients)]
        self.base_clients = [Client(base_ports[i % len(base_ports)]) for i in range(clients)]
        self.app_ports = app_ports
        self.measures = collections.defaultdict(Measure)
        self.signed: list[str] = []  # addresses whose sign POST answered 303
        self.unanswered: list[str] = []  # no answer in time: stored or not, neither counts as wrong
        self.confirmed: list[int] = []  # signature ids whose confirmation answered 200
        self.links: collections.deque = collections.deque()  # (signature id, token) not used yet
        self.handed_out: set[int] = set()
        self.serial = 0
        self.tag = f"{os.getpid()}{random.randrange(10_000)}"
        self.signing_app = create_app({**config, "TESTING": True})

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    async def prepare(self) -> None:
        # Until the sign form has its own page, the resend page gives the same session's token: the appeal page
        # that holds the form prints the whole list, longer than gunicorn's timeout at 100,000 signatures.
        forms = [f"/a/{self.slug}/sign", f"/a/{self.slug}/resend", f"/a/{self.slug}"]
        await asyncio.gather(*(open_form(c, forms) for c in self.app_clients),
                             *(open_form(c, ["/form"]) for c in self.base_clients))

    # Requests: each returns a coroutine giving an Answer (or None: nothing left to send).
    def page(self, client: Client):
        return http(client.port, "GET", f"/a/{self.slug}", {})

    def hello(self, client: Client):
        return http(client.port, "GET", "/hello", {})

    def sign(self, client: Client, forwarded_for: str | None = None):
        n = self.next_serial()
        email = f"load{self.tag}.{n}@example.org"
        address = forwarded_for or f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

        async def send():
            answer = await http(client.port, "POST", f"/a/{self.slug}/sign", client.cookies, {
                "full_name": name_of(n), "affiliation": "Lawyer", "email": email, "consent": "y",
                "csrf_token": client.token}, forwarded_for=address)
            if answer.status == 303:
                self.signed.append(email)
            elif answer.status == 0:
                self.unanswered.append(email)
            return answer

        return send()

    def insert(self, client: Client):
        n = self.next_serial()
        return http(client.port, "POST", "/insert", client.cookies, {
            "name": name_of(n), "email": f"load{self.tag}.{n}@example.org", "csrf_token": client.token})

    def confirm(self, client: Client):
        if not self.links:
            return None
        signature_id, token = self.links.popleft()

        async def send():
            answer = await http(client.port, "POST", f"/confirm/{token}", client.cookies,
                                {"csrf_token": client.token}, forwarded_for="10.255.0.1")
            if answer.status == 200:
                self.confirmed.append(signature_id)
            return answer

        return send()

    def read_links(self, above_id: int) -> None:
        """Make the confirmation links of the new pending signatures, as their mails carry them."""
        with self.signing_app.app_context():
            pending = db.session.scalars(select(Signature).where(
                Signature.id > above_id, Signature.status == SignatureStatus.PENDING)).all()
            for signature in pending:
                if signature.id not in self.handed_out:
                    self.handed_out.add(signature.id)
                    self.links.append((signature.id, operations.confirmation_token(signature)))
            db.session.remove()

    async def window(self, name: str, clients: list[Client], request, expected: int, seconds: float) -> None:
        measure = await run_window(clients, seconds, request, expected, self.meter)
        self.measures[name].add(measure)
        figures = measure.figures()
        print(f"  {name:8} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms"
              f"  errors {dict(measure.errors) or 0}", flush=True)

    async def warm_up(self, seconds: float, seeded_top: int) -> None:
        """Send each kind of request for `seconds`, unmeasured: every worker's first requests (statements
        compiled, catalogs and limiter scripts loaded) must not count as the steady state of either side.
        Their errors count, and their signatures and confirmations are checked afterwards like all others."""
        kinds = (("page", self.app_clients, self.page, 200), ("hello", self.base_clients, self.hello, 200),
                 ("sign", self.app_clients, self.sign, 303), ("insert", self.base_clients, self.insert, 303),
                 ("confirm", self.app_clients, self.confirm, 200))
        for name, clients, request, expected in kinds:
            if name == "confirm":
                self.read_links(seeded_top)
            self.measures[name].errors.update((await run_window(clients, seconds, request, expected)).errors)
        print(f"warmed up: {seconds:g} s of each kind, not measured", flush=True)

    async def rounds(self, count: int, seconds: float, seeded_top: int) -> None:
        for r in range(count):
            print(f"round {r + 1}/{count}", flush=True)
            app_first = r % 2 == 0
            for app_side, base_side in ((("page", self.page, 200), ("hello", self.hello, 200)),
                                        (("sign", self.sign, 303), ("insert", self.insert, 303))):
                for name, request, expected in (app_side, base_side) if app_first else (base_side, app_side):
                    clients = self.app_clients if name in ("page", "sign") else self.base_clients
                    await self.window(name, clients, request, expected, seconds)
            self.read_links(seeded_top)
            await self.window("confirm", self.app_clients, self.confirm, 200, seconds)

    async def limit_check(self) -> tuple[int, int]:
        """Sign 3 × LIMIT times from one address, spread over every instance; return how many got through, and
        how many got no answer in time."""
        answers = []
        for i in range(3 * LIMIT):
            client = self.app_clients[i % len(self.app_ports)]  # the first clients sit on different instances
            answers.append((await self.sign(client, forwarded_for="192.0.2.44")).status)
        unexpected = [a for a in answers if a not in (303, 429)]
        if unexpected:
            self.measures["limit"].errors.update(unexpected)
        return answers.count(303), answers.count(0)


def integrity(config: dict, seeded_top: int, signed: list[str], unanswered: list[str], confirmed: list[int]) -> dict:
    """Compare what the clients were told with what the database holds."""
    app = create_app({**config, "TESTING": True})
    with app.app_context():
        stored = db.session.execute(select(Signature.id, Signature.email_hash, Signature.status).where(
            Signature.id > seeded_top)).all()
        mailed = set(db.session.scalars(select(OutboxMessage.signature_id).where(
            OutboxMessage.signature_id > seeded_top, OutboxMessage.kind == "confirm")))
        expected = {crypto.email_hash(email) for email in signed}
        unknown = {crypto.email_hash(email) for email in unanswered}
        hashes = collections.Counter(row.email_hash for row in stored)
        status = {row.id: row.status for row in stored}
        result = {
            "lost": len(expected - set(hashes)),
            # rows beyond one per successful submission: a second row, or a row for a submission refused with an
            # answer (one the client gave up waiting for may have been stored: "unanswered_stored")
            "doubled": len(stored) - len(hashes) + len(set(hashes) - expected - unknown),
            "unanswered_stored": len(set(hashes) & unknown),
            "mail_missing": sum(1 for row in stored if row.id not in mailed),
            "confirm_lost": sum(1 for i in confirmed if status.get(i) is not SignatureStatus.CONFIRMED),
            "stored": len(stored),
        }
        db.session.remove()
        db.engine.dispose()
    return result


def baseline_count(uri: str) -> int:
    engine = create_engine(uri)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(baseline_rows))
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signatures", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--instances", type=int, default=1, help="gunicorn instances on their own ports")
    parser.add_argument("--workers", type=int, help="gunicorn workers per instance (default: gunicorn.conf.py)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one measuring window")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of app and baseline windows, alternating")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 s windows")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of each kind of request before measuring, unmeasured (0: none)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 2.0, 2
    if args.instances > 1 and args.database == "sqlite":
        parser.error("--instances 2 needs --database postgresql (several hosts cannot share a SQLite file)")

    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
        stack.callback(shutil.rmtree, folder, True)
        redis_url = stack.enter_context(servers.redis()).url() if servers.redis_available() else None
        if args.instances > 1 and not redis_url:
            raise SystemExit("--instances 2 needs redis-server for the shared rate limits")
        if args.database == "postgresql":
            pg = stack.enter_context(servers.postgres())
            uri, base_uri = pg.createdb("petitions"), pg.createdb("baseline")
        else:
            uri, base_uri = f"sqlite:///{folder / 'petitions.sqlite'}", f"sqlite:///{folder / 'baseline.sqlite'}"
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=servers.free_port())
        controller.start()
        stack.callback(controller.stop)
        config = app_config(uri, controller.port, redis_url or "memory://", redis_url)

        started = time.perf_counter()
        slug, seeded_top = seed(config, args.signatures)
        print(f"seeded {args.signatures} confirmed signatures in {time.perf_counter() - started:.1f} s", flush=True)
        create_schema(base_uri)
        instance = folder / "instance"
        instance.mkdir()
        (instance / "config.py").write_text("".join(f"{k} = {v!r}\n" for k, v in config.items()))

        app_ports = [servers.free_port() for _ in range(args.instances)]
        base_ports = [servers.free_port() for _ in range(args.instances)]
        processes = []
        for i, port in enumerate(app_ports):
            processes.append((port, f"/a/{slug}/thanks", folder / f"app{i}.log", gunicorn(
                "wsgi:app", port, args.workers, {"PETITIONS_INSTANCE_PATH": str(instance)}, folder / f"app{i}.log")))
        for i, port in enumerate(base_ports):
            processes.append((port, "/hello", folder / f"base{i}.log", gunicorn(
                "bench.baseline_app:app", port, args.workers, {"BASELINE_DATABASE_URI": base_uri},
                folder / f"base{i}.log")))
        for *_, process in processes:
            stack.callback(stop, process)
        for port, path, log, process in processes:
            wait_ready(port, path, process, log)

        # One page alone, before any load: what a single reader waits. The fastest of several (each worker's
        # first request also loads templates), within 30 s.
        alone, size, until = [], 0, time.monotonic() + 30
        while len(alone) < 15 and time.monotonic() < until:
            began = time.perf_counter()
            answer = asyncio.run(http(app_ports[0], "GET", f"/a/{slug}", {}))
            if answer.status == 200:
                alone.append(time.perf_counter() - began)
                size = len(answer.body)
        page_alone_ms = round(min(alone) * 1000, 1) if alone else None
        print(f"the appeal page alone: {page_alone_ms} ms, {size:,} bytes", flush=True)
        meter = CpuMeter([process.pid for port, _, _, process in processes if port in app_ports],
                         [process.pid for port, _, _, process in processes if port in base_ports])
        run = Run(app_ports, base_ports, slug, config, args.clients, meter)
        asyncio.run(run.prepare())
        print(f"{args.instances} instance(s), {args.clients} clients, {args.rounds} rounds of {args.seconds:g} s",
              flush=True)
        if args.warmup:
            asyncio.run(run.warm_up(args.warmup, seeded_top))
        asyncio.run(run.rounds(args.rounds, args.seconds, seeded_top))
        allowed, unanswered = asyncio.run(run.limit_check())
        for *_, process in processes:
            stop(process)
        checks = integrity(config, seeded_top, run.signed, run.unanswered, run.confirmed)
        inserted = baseline_count(base_uri)

    figures = {name: m.figures() for name, m in run.measures.items()}
    print(f"\n{'measure':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'n':>7} {'errors':>7}")
    for name, f in figures.items():
        print(f"{name:10} {f['rps']:8.1f} {f['p50_ms'] or 0:8.1f} {f['p99_ms'] or 0:8.1f} {f['n']:7} {f['errors']:7}")
    print("CPU ms per request, by process:")
    for name, m in run.measures.items():
        if m.cpu:
            shares = m.cpu_ms()
            print(f"  {name:8} total {sum(shares.values()):6.2f}  " + "  ".join(f"{g} {v}" for g, v in shares.items()))
    ratio = lambda a, b: round(figures[a]["rps"] / figures[b]["rps"], 3) if figures[b]["rps"] else None  # noqa: E731
    print(f"page/hello {ratio('page', 'hello')}  sign/insert {ratio('sign', 'insert')}  "
          f"confirm/insert {ratio('confirm', 'insert')}")
    print(f"rate limit: {allowed} of {3 * LIMIT} signs from one address got through, budget {LIMIT} "
          f"across {args.instances} instance(s); baseline rows {inserted} of {figures['insert']['n']} inserts; "
          f"checks {checks}")
    errors = sum(f["errors"] for f in figures.values())
    print(json.dumps({
        "signatures": args.signatures, "database": args.database, "instances": args.instances,
        "page_rps": figures["page"]["rps"], "page_p50_ms": figures["page"]["p50_ms"],
        "page_p99_ms": figures["page"]["p99_ms"], "page_alone_ms": page_alone_ms, "hello_rps": figures["hello"]["rps"],
        "sign_rps": figures["sign"]["rps"], "sign_p50_ms": figures["sign"]["p50_ms"],
        "sign_p99_ms": figures["sign"]["p99_ms"], "insert_rps": figures["insert"]["rps"],
        "insert_p99_ms": figures["insert"]["p99_ms"], "confirm_rps": figures["confirm"]["rps"],
        "confirm_p99_ms": figures["confirm"]["p99_ms"], "errors": errors, "lost": checks["lost"],
        "doubled": checks["doubled"], "mail_missing": checks["mail_missing"], "confirm_lost": checks["confirm_lost"],
        "limit_budget": LIMIT, "limit_allowed": allowed, "cpus": os.cpu_count(),
        "cpu_ms": {name: m.cpu_ms() for name, m in run.measures.items() if m.cpu},
    }))
    broken = [key for key in ("lost", "doubled", "mail_missing", "confirm_lost") if checks[key]]
    if broken or not allowed <= LIMIT <= allowed + unanswered:
        sys.exit(f"integrity check failed: {broken or 'rate-limit budget not shared'}")


if __name__ == "__main__":
    main()
