"""On PostgreSQL too: after signing, neither the raw IP nor the plaintext e-mail is anywhere in a dump."""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from petitions import create_app
from petitions.auth.services import register_user
from petitions.extensions import db

from .conftest import base_config, csrf_token, free_port, message_text, new_appeal

IP = "198.51.100.23"
EMAIL = "Pg.Signer@Example.org"


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def as_cluster_owner(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; as root we run it as the "postgres" system user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres():
    """Start a throwaway cluster listening only on a unix socket in a temporary folder."""
    initdb, pg_ctl, pg_dump = pg_bin("initdb"), pg_bin("pg_ctl"), pg_bin("pg_dump")
    if not (initdb and pg_ctl and pg_dump):
        pytest.skip("PostgreSQL binaries not installed (`make test` installs them via scripts/install-system.sh)")
    pytest.importorskip("psycopg", reason="psycopg[binary] is a test dependency")
    root = tempfile.mkdtemp(prefix="petitions-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = os.path.join(root, "data"), free_port()
    subprocess.run(as_cluster_owner([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync",
                                     "-E", "UTF8", "--locale=C"]), check=True, capture_output=True)
    subprocess.run(as_cluster_owner([pg_ctl, "-D", data, "-w", "-l", os.path.join(root, "log"), "-o",
                                     f"-k {root} -c listen_addresses='' -p {port} -c fsync=off", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run(as_cluster_owner([pg_bin("createdb") or "createdb", "-h", root, "-p", str(port), "-U",
                                         "postgres", "petitions"]), check=True, capture_output=True)
        yield {"uri": f"postgresql+psycopg://postgres@/petitions?host={root}&port={port}",
               "dump": as_cluster_owner([pg_dump, "-h", root, "-p", str(port), "-U", "postgres", "petitions"])}
    finally:
        subprocess.run(as_cluster_owner([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_no_raw_ip_and_no_plaintext_email_in_a_postgres_dump(postgres, smtp_server, tmp_path):
    from flask_migrate import upgrade

    sink, port = smtp_server
    app = create_app({**base_config(tmp_path / "unused.sqlite"), "SQLALCHEMY_DATABASE_URI": postgres["uri"],
                      "MAIL_PORT": port})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        upgrade()
        owner = register_user("Owner", "owner@example.org", "a long password")
        appeal = new_appeal(owner, "Free the students", "UN", "We ask.")
        appeal.publish()
        db.session.commit()
        web = app.test_client()
        web.environ_base["REMOTE_ADDR"] = IP
        token = csrf_token(web, f"/a/{appeal.slug}")
        assert web.post(f"/a/{appeal.slug}/sign", data={
            "full_name": "Orxan Postgresov", "affiliation": "Student", "email": EMAIL, "visibility": "anonymous",
            "consent": "y", "csrf_token": token}).status_code == 303
        link = re.search(r"https?://\S+/confirm/\S+", message_text(sink.wait_for(1)[0])).group(0)
        path = link.split("localhost", 1)[-1]
        assert web.post(path, data={"csrf_token": csrf_token(web, path)}).status_code == 200
        db.session.remove()
        db.engine.dispose()
    dump = subprocess.run(postgres["dump"], check=True, capture_output=True).stdout
    assert b"Orxan Postgresov" in dump and b"confirmed" in dump  # the dump does hold the signature
    for text in (EMAIL, EMAIL.lower(), IP):
        assert text.encode() not in dump, text
