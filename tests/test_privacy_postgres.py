"""On PostgreSQL too: after signing, neither the raw IP nor the plaintext e-mail is anywhere in a dump."""
import re
import subprocess

import pytest

from petitions import create_app
from petitions.auth.services import register_user
from petitions.extensions import db

from .conftest import base_config, csrf_token, message_text, new_appeal

IP = "198.51.100.23"
EMAIL = "Pg.Signer@Example.org"


@pytest.fixture
def postgres(postgres_server):
    """A fresh database on the session's throwaway PostgreSQL server."""
    pytest.importorskip("psycopg", reason="psycopg[binary] is a test dependency")
    postgres_server.dropdb("privacy")
    uri = postgres_server.createdb("privacy")
    yield {"uri": uri, "dump": postgres_server.command("pg_dump", "privacy")}
    postgres_server.dropdb("privacy")


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
        token = csrf_token(web, f"/a/{appeal.slug}/sign")
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
