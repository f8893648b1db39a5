"""Profile an anonymous GET of the public appeal page in-process: statements, median ms, top functions.

    .venv/bin/python bench/profile_page.py [--signatures 1000] [--requests 300] [--rounds 3]

Two apps on one migrated SQLite database with an open appeal and N confirmed signatures: one checks the page's
ETag on every request (`PAGE_FRESH_SECONDS = 0`: reads the appeal, its versions, deliveries, then serves the
kept copy), the other serves a copy younger than two seconds without a query (the default). Rounds alternate
between them; the ratio of their medians is printed, then cProfile's top functions of each.
"""
import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.auth.services import register_user  # noqa: E402
from petitions.extensions import db, utcnow  # noqa: E402
from petitions.signing.models import Signature, Visibility  # noqa: E402
from tests.conftest import base_config, new_appeal  # noqa: E402


def build(path: str, signatures: int) -> str:
    app = create_app({**base_config(path), "MAIL_WORKER": "process", "JOBS_WORKER": "process"})
    with app.app_context():
        upgrade()
        owner = register_user("Owner", "owner@example.org", "a long password")
        appeal = new_appeal(owner, "Release the journalists", "UN", "We ask.")
        appeal.publish()
        for n in range(signatures):
            signature = Signature(appeal=appeal, full_name=f"Signer {n}", affiliation="Lawyer",
                                  email_hash=f"{n:064d}", text_hash=appeal.content_hash, consent_at=utcnow(),
                                  visibility=Visibility.PUBLIC)
            signature.confirm()
            db.session.add(signature)
        db.session.commit()
        return appeal.slug


def app_for(path: str, fresh: float):
    app = create_app({**base_config(path), "TESTING": False, "MAIL_WORKER": "process", "JOBS_WORKER": "process",
                      "PAGE_FRESH_SECONDS": fresh})
    app.instance_path = os.path.dirname(path)
    return app


def statements(app, client, url: str) -> int:
    seen = []
    with app.app_context():
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        client.get(url)
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def timed(client, url: str, requests: int) -> list[float]:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signatures", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = os.path.join(tempfile.mkdtemp(prefix="bench-page-"), "db.sqlite")
    url = f"/a/{build(path, args.signatures)}"
    sides = {"checked": app_for(path, 0), "recent": app_for(path, 2.0)}
    clients = {name: app.test_client() for name, app in sides.items()}
    for client in clients.values():
        client.get(url)  # render once: both serve a kept page from here on
    medians = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name in sides:
            medians[name].append(statistics.median(timed(clients[name], url, args.requests)))
    print(f"{args.signatures} signatures, {args.requests} requests x {args.rounds} rounds, interleaved")
    for name, app in sides.items():
        print(f"  {name:8} statements {statements(app, clients[name], url):2}  median ms "
              + " ".join(f"{m:.2f}" for m in medians[name]))
    checked, recent = statistics.median(medians["checked"]), statistics.median(medians["recent"])
    print(f"recent / checked: {recent / checked:.2f}")
    for name in sides:
        profile = cProfile.Profile()
        profile.enable()
        timed(clients[name], url, args.requests)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats("petitions", 8)
        print(f"\n--- {name}: top petitions functions (cumulative)")
        print("\n".join(line for line in out.getvalue().splitlines() if "petitions/" in line))


if __name__ == "__main__":
    main()
