"""Back up or restore the petitions database: PostgreSQL with pg_dump -Fc / pg_restore, SQLite with its online backup.

    python scripts/backup.py backup  FILE [--database URI]
    python scripts/backup.py restore FILE [--database URI]

Without --database the app's own setting is used (instance/config.py, FLASK_SQLALCHEMY_DATABASE_URI). SQLite is
copied with `sqlite3.Connection.backup` (a consistent copy while the app runs, no sqlite3 CLI needed). A backup
holds signers' encrypted addresses: keep it as safe as the instance folder, and keep DATA_KEYS and EMAIL_HASH_KEY
(instance/config.py) with it, or the restored addresses cannot be read. Stop the app before a restore.
"""
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import URL, make_url  # noqa: E402

from petitions import create_app  # noqa: E402


def _program(name: str) -> str:
    # PG_BINDIR picks the client matching the server's major version when several are installed.
    folder = os.environ.get("PG_BINDIR")
    found = os.path.join(folder, name) if folder else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install postgresql-client or set PG_BINDIR")
    return found


def _libpq(url: URL) -> tuple[str, dict]:
    """Return a libpq connection string without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where `ps` would show it
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise SystemExit("an in-memory SQLite database cannot be backed up")
    return url.database


def _copy_sqlite(source: str, target: str) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def backup(uri: str, path: str) -> None:
    """Write a backup of the database at uri to path."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not os.path.exists(source):
            raise SystemExit(f"no database at {source}")
        _copy_sqlite(source, path)
    elif url.get_backend_name() == "postgresql":
        conninfo, env = _libpq(url)
        subprocess.run([_program("pg_dump"), "-Fc", "--no-owner", "-f", path, "-d", conninfo], check=True, env=env)
    else:
        raise SystemExit(f"unsupported database: {url.get_backend_name()}")
    os.chmod(path, 0o600)


def restore(path: str, uri: str) -> None:
    """Replace the database at uri by the backup in path."""
    if not os.path.exists(path):
        raise SystemExit(f"no backup at {path}")
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(path, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        conninfo, env = _libpq(url)
        subprocess.run([_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--exit-on-error", "-d", conninfo, path], check=True, env=env)
    else:
        raise SystemExit(f"unsupported database: {url.get_backend_name()}")


def configured_uri() -> str:
    """Return the database URI the app itself would use."""
    return create_app().config["SQLALCHEMY_DATABASE_URI"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("file", help="the backup file (written by backup, read by restore)")
    parser.add_argument("--database", help="SQLAlchemy URI (default: the app's SQLALCHEMY_DATABASE_URI)")
    args = parser.parse_args(argv)
    uri = args.database or configured_uri()
    if args.action == "backup":
        backup(uri, args.file)
    else:
        restore(args.file, uri)
    where = make_url(uri).render_as_string(hide_password=True)
    print(f"{args.action}: {where} {'->' if args.action == 'backup' else '<-'} {args.file}")


if __name__ == "__main__":
    main()
