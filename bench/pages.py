"""Time the pages many people read, and the PDF's freshness check, at N signatures (temporary SQLite database).

Run from the repository root: python bench/pages.py [--signatures N]

Each page is rendered cold (the rendered-page cache is off), so the figures are what a new list version costs;
the freshness check is timed against what it replaced: describing the whole document and hashing it.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.appeals import services  # noqa: E402
from petitions.appeals.models import Appeal  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db, utcnow  # noqa: E402
from petitions.pdf import jobs  # noqa: E402
from petitions.signing.models import Signature  # noqa: E402
from petitions.signing.rules import lists_changed  # noqa: E402


def timed(call) -> float:
    """Return the milliseconds one call takes."""
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=100_000)
    n = parser.parse_args().signatures
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench",
                          "DATA_KEYS": [Fernet.generate_key().decode()], "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "PAGE_CACHE_ENTRIES": 0,
                          "PUBLIC_URL": "http://localhost", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            owner = register_user("Owner", "owner@example.org", "a long password")
            appeal = services.create_appeal(owner, {"title": "Bench", "addressees": [], "body": "Text."})
            appeal.publish()
            db.session.commit()
            now = utcnow()
            for start in range(0, n, 20_000):
                db.session.execute(insert(Signature), [dict(
                    appeal_id=appeal.id, full_name=f"Signer {i}", affiliation="Lawyer", country="", text_hash="",
                    consent_at=now, status="confirmed", level="email", visibility="public", review="unreviewed",
                    kind="person", organization_name="", signer_role="", confirmed_at=now, email_hash=f"{i:064d}",
                    flags=[], wants_updates=False) for i in range(start, min(n, start + 20_000))])
            lists_changed([appeal.id])
            db.session.commit()
            client, slug = app.test_client(), appeal.slug
            for path in ("/a/{}", "/a/{}/signatories", "/api/v1/appeals/{}", "/api/v1/appeals/{}/signatures"):
                url = path.format(slug)
                client.get(url)  # warm the templates and the connection
                print(f"{n} signatures: GET {path.format('<slug>')}: {timed(lambda: client.get(url)):.1f} ms")
            appeal = db.session.get(Appeal, appeal.id)
            print(f"{n} signatures: freshness check (jobs.freshness_key): "
                  f"{timed(lambda: jobs.freshness_key(appeal, 'addressees', 'standard')):.1f} ms")
            print(f"{n} signatures: the check it replaced (document_for + source_hash): "
                  f"{timed(lambda: jobs.document_for(appeal, 'addressees', 'standard').source_hash()):.1f} ms")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
