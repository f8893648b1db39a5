"""Time failed logins for a real and an unknown account with the production hash (scrypt).

Run from the repository root: python bench/login_timing.py [--repeat R]

Prints the median time of a wrong-password login for an existing account, of a login for an address
without an account, and their ratio; near 1.0 means the answer time tells nothing about who has an account.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from petitions import create_app  # noqa: E402
from petitions.extensions import db  # noqa: E402

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from flask_migrate import upgrade

    from petitions.auth.services import register_user

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SECRET_KEY": "bench", "EMAIL_HASH_KEY": "bench", "DATA_KEYS": [Fernet.generate_key().decode()],
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "scrypt",
        })
        with app.app_context():
            upgrade()
            register_user("Real", "real@example.org", "a long password")
            db.session.commit()
        timings: dict[str, list[float]] = {"existing": [], "unknown": []}
        for _ in range(args.repeat):
            for kind, email in (("existing", "real@example.org"), ("unknown", "nobody@example.org")):
                with app.app_context():
                    client = app.test_client()
                    token = CSRF_RE.search(client.get("/auth/login").get_data(as_text=True)).group(1)
                    start = time.perf_counter()
                    response = client.post("/auth/login", data={"email": email, "password": "wrong password",
                                                                "csrf_token": token})
                    timings[kind].append(time.perf_counter() - start)
                    assert response.status_code == 401, response.status_code
        existing, unknown = (statistics.median(timings[k]) * 1000 for k in ("existing", "unknown"))
        print(json.dumps({"existing_ms": round(existing, 1), "unknown_ms": round(unknown, 1),
                          "ratio_unknown_to_existing": round(unknown / existing, 2)}))


if __name__ == "__main__":
    main()
