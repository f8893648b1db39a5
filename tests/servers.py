"""Throwaway PostgreSQL and Redis servers on loopback, for the tests, the benchmarks and the deploy check.

Each starts in a temporary folder of its own, listens only on 127.0.0.1 (and a unix socket in that folder),
and is stopped and removed on leaving the `with` block. No pytest here: bench/ and scripts/ use it too.
"""
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str | None:
    """Return the path of a PostgreSQL program (Debian keeps them out of PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; as root it runs as the "postgres" system user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Postgres:
    host: str  # the socket folder
    port: int
    root: str

    def uri(self, database: str = "petitions") -> str:
        """Return the SQLAlchemy URI of a database on this server (TCP on 127.0.0.1)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def command(self, program: str, *args: str) -> list[str]:
        """Return the command line of a client program (psql, pg_dump, createdb...) against this server."""
        return _as_cluster_owner([pg_bin(program) or program, "-h", self.host, "-p", str(self.port),
                                  "-U", "postgres", *args])

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(program, *args), check=True, capture_output=True, **kwargs)

    def createdb(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally a copy of a template) and return its URI."""
        self.run("createdb", *(["-T", template] if template else []), name)
        return self.uri(name)

    def dropdb(self, name: str) -> None:
        subprocess.run(self.command("dropdb", "--if-exists", "--force", name), capture_output=True)


def postgres_available() -> bool:
    return all(pg_bin(p) for p in ("initdb", "pg_ctl", "createdb", "pg_dump"))


@contextlib.contextmanager
def postgres(max_connections: int = 200) -> Iterator[Postgres]:
    """Run a throwaway PostgreSQL cluster (fsync off: nothing in it outlives the run)."""
    if not postgres_available():
        raise RuntimeError("PostgreSQL is not installed (scripts/install-system.sh test installs it)")
    root = tempfile.mkdtemp(prefix="petitions-pg-")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = os.path.join(root, "data"), free_port()
    subprocess.run(_as_cluster_owner([pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
                                      "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
    options = (f"-k {root} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c max_connections={max_connections}")
    subprocess.run(_as_cluster_owner([pg_bin("pg_ctl"), "-D", data, "-w", "-l", os.path.join(root, "log"),
                                      "-o", options, "start"]), check=True, capture_output=True)
    server = Postgres(host=root, port=port, root=root)
    try:
        yield server
    finally:
        subprocess.run(_as_cluster_owner([pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Redis:
    port: int
    root: str
    process: subprocess.Popen

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        """Stop the server (to test an outage); `start_again` brings it back on the same port."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def start_again(self) -> None:
        self.stop()
        self.process = _spawn_redis(self.port, self.root)


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def _spawn_redis(port: int, root: str) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", root, "--save", "",
         "--appendonly", "no", "--protected-mode", "yes", "--logfile", os.path.join(root, "log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.sendall(b"PING\r\n")
            if conn.recv(16).startswith(b"+PONG"):
                return process
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


@contextlib.contextmanager
def redis() -> Iterator[Redis]:
    """Run a throwaway redis-server on 127.0.0.1 (no persistence)."""
    if not redis_available():
        raise RuntimeError("redis-server is not installed (scripts/install-system.sh test installs it)")
    root = tempfile.mkdtemp(prefix="petitions-redis-")
    port = free_port()
    server = Redis(port=port, root=root, process=_spawn_redis(port, root))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
