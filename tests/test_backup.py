"""scripts/backup.py: a backup restored into a fresh database gives the app the same signatures (SQLite, PostgreSQL)."""
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from petitions import crypto
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail.models import OutboxMessage
from petitions.signing import operations
from petitions.signing.models import Signature
from petitions.signing.rules import counted_total, line_text, listed_signatures

from .conftest import new_appeal

ROOT = Path(__file__).resolve().parent.parent
SIGNERS = [("Leyla Yunus", "Institute for Peace and Democracy", "leyla@example.org"),
           ("Арзу Абдуллаева", "Helsinki Citizens' Assembly", "arzu@example.org"),
           ("Anar Mammadli", "Election Monitoring Centre", "anar@example.org")]


def _script(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "backup.py"), *args], check=True, capture_output=True,
                   cwd=ROOT)


def _fill(app) -> str:
    """Migrate, publish an appeal, sign it three times and confirm two; return its slug."""
    with app.app_context():
        upgrade()
        appeal = new_appeal(register_user("Owner", "owner@example.org", "a long password"), "Free the journalists")
        appeal.publish()
        with app.test_request_context():
            made = [operations.sign(appeal, full_name=name, affiliation=affiliation, email=email).signature
                    for name, affiliation, email in SIGNERS]
            db.session.commit()
            for signature in made[:2]:
                operations.confirm(operations.confirmation_token(signature))
            db.session.commit()
        slug = appeal.slug
        db.session.remove()
        db.engine.dispose()
    return slug


def _what_the_app_reads(app, slug: str) -> dict:
    from petitions.appeals.models import Appeal

    with app.app_context():
        appeal = db.session.scalar(db.select(Appeal).where(Appeal.slug == slug))
        signatures = db.session.scalars(db.select(Signature).order_by(Signature.id)).all()
        seen = {
            "counted": counted_total(appeal),
            "public_lines": [line_text(*entry.line_parts()) for entry in listed_signatures(appeal, "public_page")],
            "rows": [(s.full_name, s.affiliation, s.status.value, crypto.decrypt(s.email_encrypted), s.email_hash)
                     for s in signatures],
            "queued_mails": sorted(m.signature_id for m in db.session.scalars(db.select(OutboxMessage))),
        }
        db.session.remove()
        db.engine.dispose()
    return seen


def _round_trip(make_app, source_uri: str, target_uri: str, backup_file: Path) -> tuple[dict, dict]:
    source = make_app(SQLALCHEMY_DATABASE_URI=source_uri, MAIL_WORKER="process")  # mails stay in the outbox
    slug = _fill(source)
    before = _what_the_app_reads(source, slug)
    _script("backup", str(backup_file), "--database", source_uri)
    _script("restore", str(backup_file), "--database", target_uri)
    # The restored database is read with the same keys, as the deployment keeps them with its backups.
    keys = {key: source.config[key] for key in ("SECRET_KEY", "DATA_KEYS", "EMAIL_HASH_KEY")}
    return before, _what_the_app_reads(make_app(SQLALCHEMY_DATABASE_URI=target_uri, **keys), slug)


def test_a_sqlite_backup_restores_the_same_signatures_into_a_fresh_database(make_app, tmp_path):
    backup_file = tmp_path / "petitions.backup"
    before, after = _round_trip(make_app, f"sqlite:///{tmp_path / 'live.sqlite'}",
                                f"sqlite:///{tmp_path / 'fresh.sqlite'}", backup_file)
    assert before["counted"] == len(before["public_lines"]) == 2 and len(before["rows"]) == 3
    assert len(before["queued_mails"]) == 3
    assert [row[3] for row in before["rows"]] == [email for _, _, email in SIGNERS]
    assert after == before
    assert backup_file.stat().st_mode & 0o077 == 0  # it holds signers' data: readable by its owner only


def test_a_postgres_dump_restores_the_same_signatures_into_a_fresh_database(make_app, postgres_server, tmp_path):
    pytest.importorskip("psycopg", reason="psycopg[binary] is a test dependency")
    for name in ("backup_live", "backup_fresh"):
        postgres_server.dropdb(name)
    source_uri, target_uri = postgres_server.createdb("backup_live"), postgres_server.createdb("backup_fresh")
    try:
        backup_file = tmp_path / "petitions.dump"
        before, after = _round_trip(make_app, source_uri, target_uri, backup_file)
        assert backup_file.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format (-Fc)
        assert before["counted"] == 2 and len(before["rows"]) == 3
        assert after == before
    finally:
        for name in ("backup_live", "backup_fresh"):
            postgres_server.dropdb(name)


def test_restoring_a_missing_backup_says_so_and_leaves_the_database_alone(make_app, tmp_path):
    live = tmp_path / "live.sqlite"
    slug = _fill(make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{live}", MAIL_WORKER="process"))
    before = live.read_bytes()
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "backup.py"), "restore",
                             str(tmp_path / "nothing-here"), "--database", f"sqlite:///{live}"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "no backup at" in result.stderr
    assert live.read_bytes() == before and slug
