"""Follow docs/deploy.md from scratch on loopback and check that the deployment works; exit 1 if it does not.

    python scripts/deploy_check.py [--keep]

A throwaway PostgreSQL and Redis (tests/servers.py), the instance config written by `petitions.instance_setup`
and edited as the page says, the environment of /etc/petitions/env, `flask db upgrade`, `flask pdf keygen`, the
jobs worker, two gunicorn instances with gunicorn.conf.py, an SMTP server standing in for the mail relay. Then:
a signer signs on one instance and confirms with the mailed link on the other, and the other way round; one
client address gets one rate-limit budget across both instances; `scripts/backup.py` backs up the database and
restores it into a fresh one that holds the same signatures.
"""
import argparse
import email
import email.policy
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import select  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.appeals.models import Appeal  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db  # noqa: E402
from petitions.signing.models import Signature, SignatureStatus  # noqa: E402
from petitions.signing.rules import counted_total  # noqa: E402
from tests import servers  # noqa: E402
from tests.conftest import new_appeal  # noqa: E402

SIGN_LIMIT = 3  # per client address and hour, during the check
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HIDDEN_RE = re.compile(r'name="([a-z_]+)" type="hidden" value="([^"]*)"')
SIGN_MIN_SECONDS = 3  # the sign form refuses a submit sooner than this after it was shown (the default setting)
LINK_RE = re.compile(r"https?://\S+/confirm/\S+")
PYTHON = sys.executable
BIN = Path(PYTHON).parent


class CheckFailed(Exception):
    """The deployment does not do what docs/deploy.md promises."""


def step(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


class Relay:
    """The mail relay: an SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.arrived:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            self.arrived.notify_all()
        return "250 Message accepted"

    def link_for(self, address: str, timeout: float = 30.0) -> str:
        """Return the confirmation link mailed to address."""
        def found():
            for message in self.messages:
                if message["To"] == address:
                    return LINK_RE.search(message.get_body(preferencelist=("plain",)).get_content()).group(0)
            return None

        with self.arrived:
            if not self.arrived.wait_for(found, timeout):
                raise CheckFailed(f"no confirmation mail for {address} within {timeout:.0f} s")
            return found()


class Browser:
    """One visitor behind the reverse proxy: its cookies, and the address nginx would append."""

    def __init__(self, forwarded_for: str):
        self.forwarded_for = forwarded_for
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"X-Forwarded-For": self.forwarded_for})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def form_token(self, *urls: str) -> str:
        """Return the CSRF token of the first page among urls that has a form."""
        for url in urls:
            status, page = self.request(url)
            match = CSRF_RE.search(page) if status == 200 else None
            if match:
                return match.group(1)
        raise CheckFailed(f"no form at {urls}")

    def sign(self, base: str, slug: str, name: str, address: str) -> int:
        # The sign form has its own page once pages are cached; before that it sat on the appeal page.
        status, page = self.request(f"{base}/a/{slug}/sign")
        if status != 200:
            raise CheckFailed(f"the sign form answered {status}")
        hidden = dict(HIDDEN_RE.findall(page))  # the CSRF token and the form's signed time stamp
        time.sleep(SIGN_MIN_SECONDS)  # as a person takes a moment to fill it in
        status, _ = self.request(f"{base}/a/{slug}/sign", {**hidden, "full_name": name, "affiliation": "Journalist",
                                                           "email": address, "consent": "y"})
        return status

    def confirm(self, base: str, link: str) -> int:
        url = base + urllib.parse.urlsplit(link).path
        status, _ = self.request(url, {"csrf_token": self.form_token(url)})
        return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def run(command: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        raise CheckFailed(f"{what} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(f"{' '.join(process.args)} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise CheckFailed(f"nothing answers at {url}")


def write_instance(folder: Path, env: dict, relay_port: int) -> None:
    """Write the instance config as the page says: instance_setup, then drop the development lines, add mail."""
    run([PYTHON, "-m", "petitions.instance_setup", str(folder)], env, "instance_setup")
    path = folder / "config.py"
    kept = [line for line in path.read_text().splitlines()
            if line.strip() not in ('MAIL_TRANSPORT = "outbox"', "DEV_OUTBOX = True")]
    kept += ['MAIL_SERVER = "127.0.0.1"', f"MAIL_PORT = {relay_port}",
             'MAIL_DEFAULT_SENDER = "Petitions <petitions@deploy-check.example.org>"']
    path.write_text("\n".join(kept) + "\n")


def jobs_worker_command(env: dict) -> list[str]:
    """Return `flask jobs work`, or today's mail worker where the jobs commands are not there yet."""
    probe = subprocess.run([str(BIN / "flask"), "jobs", "--help"], cwd=ROOT, env=env, capture_output=True)
    if probe.returncode == 0:
        return [str(BIN / "flask"), "jobs", "work"]
    step("`flask jobs` is not available in this version: the worker is `flask mail work`")
    return [str(BIN / "flask"), "mail", "work"]


def create_open_appeal() -> tuple[str, dict]:
    """Register an organizer and publish an appeal with the deployment's configuration; return its slug and keys."""
    app = create_app()
    keys = {key: app.config[key] for key in ("SECRET_KEY", "EMAIL_HASH_KEY", "DATA_KEYS")}
    with app.app_context():
        owner = register_user("Deploy Check", "organizer@deploy-check.example.org", "a long password for the check")
        appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
        db.session.remove()
        db.engine.dispose()
    return slug, keys


def signatures_in(uri: str, slug: str, keys: dict) -> tuple[int, list[tuple[str, str]]]:
    """Return what the app reads in the database at uri: the count, and every signature's name and status."""
    app = create_app({**keys, "TESTING": True, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
        rows = [(s.full_name, s.status.value) for s in
                db.session.scalars(select(Signature).where(Signature.appeal_id == appeal.id).order_by(Signature.id))]
        total = counted_total(appeal)
        db.session.remove()
        db.engine.dispose()
    return total, rows


def check(folder: Path) -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        step("PostgreSQL and Redis on loopback")
        pg = stack.enter_context(servers.postgres())
        redis = stack.enter_context(servers.redis())
        relay = Relay()
        controller = Controller(relay, hostname="127.0.0.1", port=servers.free_port())
        controller.start()
        stack.callback(controller.stop)

        uri = pg.createdb("petitions")
        ports = [servers.free_port(), servers.free_port()]
        instance = folder / "instance"
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               # /etc/petitions/env of docs/deploy.md
               "PETITIONS_INSTANCE_PATH": str(instance), "FLASK_APP": "petitions",
               "FLASK_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}", "FLASK_SQLALCHEMY_DATABASE_URI": uri,
               "FLASK_REDIS_URL": redis.url(0), "FLASK_RATELIMIT_STORAGE_URI": redis.url(1),
               "FLASK_JOBS_BACKEND": "rq", "FLASK_MAIL_WORKER": "process", "FLASK_PDF_EXECUTOR": "worker",
               "FLASK_PROXY_FIX_X_FOR": "1", "FLASK_PROXY_FIX_X_PROTO": "1",
               # the check's own: a small budget to exhaust, a worker that looks often, few processes
               "FLASK_SIGN_RATE_LIMIT": f"{SIGN_LIMIT} per hour", "FLASK_MAIL_POLL_SECONDS": "1",
               "GUNICORN_WORKERS": "2"}
        os.environ.update({k: v for k, v in env.items() if k.startswith(("FLASK_", "PETITIONS_"))})

        step("instance config, flask db upgrade, flask pdf keygen")
        write_instance(instance, env, controller.port)
        run([str(BIN / "flask"), "db", "upgrade"], env, "flask db upgrade")
        run([str(BIN / "flask"), "pdf", "keygen"], env, "flask pdf keygen")
        slug, keys = create_open_appeal()

        step("jobs worker and two gunicorn instances (gunicorn.conf.py)")
        worker = start(jobs_worker_command(env), env, folder / "worker.log")
        stack.callback(stop, worker)
        bases = []
        for i, port in enumerate(ports):
            log = folder / f"web{i}.log"
            web = start([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                        {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, log)
            stack.callback(stop, web)
            bases.append((f"http://127.0.0.1:{port}", web, log))
        for base, web, log in bases:
            wait_for(f"{base}/a/{slug}/thanks", web, log)
        (a, *_), (b, *_) = bases

        step("sign on one instance, confirm with the mailed link on the other")
        names = {}
        for n, (sign_on, confirm_on) in enumerate(((a, b), (b, a))):
            browser = Browser(f"203.0.113.{n + 1}")
            name, address = f"Khadija Ismayilova {'AB'[n]}", f"signer{n}@deploy-check.example.org"
            if (status := browser.sign(sign_on, slug, name, address)) != 303:
                raise CheckFailed(f"signing on {sign_on} answered {status}")
            if (status := browser.confirm(confirm_on, relay.link_for(address))) != 200:
                raise CheckFailed(f"confirming on {confirm_on} answered {status}")
            names[name] = confirm_on
        for base in (a, b):
            status, page = Browser("203.0.113.9").request(f"{base}/a/{slug}")
            if status != 200 or not all(name in page for name in names):
                raise CheckFailed(f"{base}/a/{slug} does not show both confirmed signers")

        step(f"one client address, {3 * SIGN_LIMIT} signs across both instances: {SIGN_LIMIT} allowed")
        crowd = Browser("198.51.100.7")
        answers = [crowd.sign((a, b)[i % 2], slug, f"Repeat Signer {chr(65 + i)}",
                              f"repeat{i}@deploy-check.example.org") for i in range(3 * SIGN_LIMIT)]
        if answers.count(303) != SIGN_LIMIT or set(answers) != {303, 429}:
            raise CheckFailed(f"one budget across both instances expected, got {answers}")

        step("backup (scripts/backup.py) and restore into a fresh database")
        dump = folder / "petitions.dump"
        run([PYTHON, "scripts/backup.py", "backup", str(dump)], env, "backup")
        restored = pg.createdb("petitions_restored")
        run([PYTHON, "scripts/backup.py", "restore", str(dump), "--database", restored], env, "restore")
        live, copy = signatures_in(uri, slug, keys), signatures_in(restored, slug, keys)
        confirmed = [row for row in live[1] if row[1] == SignatureStatus.CONFIRMED.value]
        if live != copy or live[0] != 2 or sorted(n for n, _ in confirmed) != sorted(names):
            raise CheckFailed(f"restored {copy} differs from live {live}")
    step(f"deploy check passed in {time.monotonic() - started:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="petitions-deploy-check-"))
    try:
        check(folder)
    except CheckFailed as exc:
        print(f"deploy check FAILED: {exc}", file=sys.stderr)
        for log in sorted(folder.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-2000:]}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
