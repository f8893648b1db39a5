"""Import 100,000 offline lines into a temporary SQLite database and report time and peak memory.

Run from the repository root: python bench/import.py [--lines N]

Each variant runs in its own process, so its peak RSS (ru_maxrss) is its own:
  streaming  petitions.signatories.importing.import_list: rows parsed one by one, batches of 1,000 Core inserts
  naive      the baseline: parse_lines() into a list, one ORM object per row, a single flush and commit
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def write_list(path: Path, n: int) -> None:
    """Write n lines in the styles of the seed list, with spelling variants of earlier names."""
    from dedupe import synthetic  # bench/dedupe.py: names built like real Azerbaijani and Western ones

    dashes = [" – ", "- ", " - ", " — ", " –  "]
    with path.open("w", encoding="utf-8") as fh:
        for i, (name, affiliation) in enumerate(synthetic(n, seed=11)):
            email = f" <signer{i}@example.org>" if i % 5 == 0 else ""
            fh.write(f"{name}{dashes[i % len(dashes)]}{affiliation or 'Volunteer'}{email}\n")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str, listing: Path, db_path: Path) -> dict:
    """Import the list one way in this process and return the figures."""
    from cryptography.fernet import Fernet
    from flask_migrate import upgrade

    from petitions import create_app
    from petitions.appeals import services as appeals
    from petitions.auth.services import register_user
    from petitions.extensions import db, utcnow
    from petitions.signatories import importing
    from petitions.signatories.parsing import parse_lines
    from petitions.signing.models import Level, Signature, SignatureStatus

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench",
                      "DATA_KEYS": [Fernet.generate_key().decode()], "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})
    with app.app_context():
        upgrade()
        owner = register_user("Bench Owner", "owner@bench.example", "a long password")
        appeal = appeals.create_appeal(owner, {"title": "Bench appeal", "body": "Body"})
        appeals.publish_appeal(appeal)
        db.session.commit()
        text = listing.read_text(encoding="utf-8")
        before = peak_rss_mb()
        start = time.perf_counter()
        if variant == "streaming":
            result = importing.import_list(appeal, owner, text, "lines", "vouched", skip_existing=True)
            created = result.created
        else:
            rows = parse_lines(text)
            now = utcnow()
            from petitions import crypto

            db.session.add_all([Signature(
                appeal=appeal, full_name=r.name, affiliation=r.affiliation, text_hash=appeal.content_hash,
                consent_at=now, status=SignatureStatus.CONFIRMED, level=Level.VOUCHED, source="import",
                email_hash=crypto.email_hash(r.email) if r.email else None,
                email_encrypted=crypto.encrypt(r.email) if r.email else None) for r in rows if r.name])
            db.session.flush()
            created = len(rows)
        db.session.commit()
        elapsed = time.perf_counter() - start
        return {"variant": variant, "created": created, "seconds": round(elapsed, 1),
                "rss_before_mb": round(before, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--listing", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, Path(args.listing), Path(args.db))))
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        listing = tmp / "list.txt"
        write_list(listing, args.lines)
        print(f"list: {args.lines} lines, {listing.stat().st_size / 1e6:.1f} MB")
        results = []
        for variant in ("streaming", "naive"):
            out = subprocess.run([sys.executable, __file__, "--variant", variant, "--listing", str(listing),
                                  "--db", str(tmp / f"{variant}.sqlite")], capture_output=True, text=True,
                                 env={**os.environ, "PYTHONWARNINGS": "ignore"}, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{'variant':10} {'rows':>7} {'seconds':>8} {'RSS before MB':>14} {'peak RSS MB':>12} {'growth MB':>10}")
        for r in results:
            print(f"{r['variant']:10} {r['created']:7d} {r['seconds']:8.1f} {r['rss_before_mb']:14.1f} "
                  f"{r['peak_rss_mb']:12.1f} {r['peak_rss_mb'] - r['rss_before_mb']:10.1f}")
        print(json.dumps({"lines": args.lines, "results": results}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
