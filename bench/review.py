"""Time the review queue on 100,000 signatures in a temporary SQLite database.

Run from the repository root: python bench/review.py [--signatures N] [--repeat R]

Measures the first page, a deep page and a filtered page of the keyset queue (services.queue_page,
which also counts the matches), the whole HTTP page, and a naive baseline in the same run: LIMIT/OFFSET
ordered by the unindexed created_at column, with one query per row for the names shown (N+1).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.extensions import db, utcnow  # noqa: E402

FLAGS = [[], [], [], [], [], [], [], [], [], ["url"], ["single_word"], ["digits"]]


def build(path: Path, n: int):
    """Create an app on a migrated database holding one appeal with n signatures."""
    from flask_migrate import upgrade

    from petitions.appeals import services as appeals
    from petitions.auth.services import register_user
    from petitions.signing.models import Level, Review, Signature, SignatureStatus

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench",
                      "DATA_KEYS": [Fernet.generate_key().decode()], "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        owner = register_user("Bench Owner", "owner@bench.example", "a long password")
        appeal = appeals.create_appeal(owner, {"title": "Bench appeal", "body": "Body"})
        appeals.publish_appeal(appeal)
        db.session.commit()
        rng = random.Random(5)
        levels, statuses = list(Level), [SignatureStatus.CONFIRMED] * 8 + [SignatureStatus.PENDING] * 2
        now = utcnow()
        batch = []
        for i in range(n):
            status = rng.choice(statuses)
            batch.append({
                "appeal_id": appeal.id, "full_name": f"Signer {i:06d} Example", "affiliation": "Volunteer",
                "country": "", "email_hash": f"{i:064d}", "email_encrypted": None, "status": status,
                "level": Level.UNCONFIRMED if status is SignatureStatus.PENDING else rng.choice(levels[1:]),
                "review": Review.UNREVIEWED, "review_reason": "", "flags": rng.choice(FLAGS), "name_key": "",
                "language": rng.choice(["en", "en", "az", "ru"]), "text_hash": appeal.content_hash,
                "consent_at": now, "consent_version": "", "source": "web", "official": False, "vouch_note": "",
                "created_at": now, "visibility": "public",
            })
            if len(batch) == 5000:
                db.session.execute(insert(Signature), batch)
                batch = []
        if batch:
            db.session.execute(insert(Signature), batch)
        db.session.commit()
        return app, appeal.slug


def timed(fn, repeat: int) -> float:
    """Return the median wall time of fn() in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def naive_page(appeal_id: int, offset: int) -> int:
    """The baseline: OFFSET paging on an unindexed column, then a query per row for the names (N+1)."""
    rows = db.session.execute(text(
        "SELECT id, organization_id, vouched_by_id, reviewed_by_id FROM signatures WHERE appeal_id = :a "
        "AND status != 'withdrawn' ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET :o"),
        {"a": appeal_id, "o": offset}).all()
    total = db.session.execute(text("SELECT count(*) FROM signatures WHERE appeal_id = :a"), {"a": appeal_id})
    for row in rows:
        for table, key in (("organizations", row[1]), ("users", row[2]), ("users", row[3])):
            db.session.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": key}).all()
    return len(rows) + total.scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from petitions.appeals.models import Appeal
    from petitions.signatories import queue as review

    tmp = Path(tempfile.mkdtemp(prefix="bench-review-"))
    try:
        start = time.perf_counter()
        app, slug = build(tmp / "bench.sqlite", args.signatures)
        print(f"filled {args.signatures} signatures in {time.perf_counter() - start:.1f} s")
        with app.app_context():
            appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
            everything = review.QueueFilter()
            ids = db.session.scalars(select(text("id")).select_from(text("signatures")).order_by(text("id desc")))
            ids = list(ids)
            deep_before = ids[len(ids) - 1000]  # a page near the oldest signatures
            deep_offset = len(ids) - 1000
            plan = db.session.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM signatures WHERE appeal_id = :a AND status != 'withdrawn' "
                "AND id < :b ORDER BY id DESC LIMIT 51"), {"a": appeal.id, "b": deep_before}).all()
            results = {
                "first_page_ms": timed(lambda: review.queue_page(appeal, everything), args.repeat),
                "deep_page_ms": timed(lambda: review.queue_page(appeal, everything, before=deep_before), args.repeat),
                "flag_url_page_ms": timed(lambda: review.queue_page(appeal, review.QueueFilter(flag="url")),
                                          args.repeat),
                "level_vouched_page_ms": timed(
                    lambda: review.queue_page(appeal, review.QueueFilter(level="vouched")), args.repeat),
                "baseline_first_page_ms": timed(lambda: naive_page(appeal.id, 0), args.repeat),
                "baseline_deep_page_ms": timed(lambda: naive_page(appeal.id, deep_offset), args.repeat),
            }
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(appeal.owner_id)
                session["_fresh"] = True
            url = f"/organizer/appeals/{slug}/review"
            assert client.get(url).status_code == 200
            results["http_first_page_ms"] = timed(lambda: client.get(url), args.repeat)
            results["http_deep_page_ms"] = timed(lambda: client.get(f"{url}?before={deep_before}"), args.repeat)
        print("query plan of the keyset page:", "; ".join(row[-1] for row in plan))
        print(f"{'measure':28} {'median ms':>10}")
        for key, value in results.items():
            print(f"{key:28} {value:10.1f}")
        print(json.dumps({"signatures": args.signatures, **{k: round(v, 1) for k, v in results.items()}}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
