"""Threat: the dev outbox (every mail, with signers' confirmation links) open to anyone on the network."""
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from petitions.extensions import db
from petitions.mail import outbox
from petitions.signing import operations as signing

from .conftest import login

REMOTE = "203.0.113.7"


@pytest.fixture
def app(make_app):
    """The `make run` default: mail kept in the outbox table and shown on /dev/outbox."""
    app = make_app(MAIL_TRANSPORT="outbox", DEV_OUTBOX=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def stored_mail(app, world) -> int:
    signing.sign(world.appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
    db.session.commit()
    [mail] = outbox.stored()
    return mail.row.id


def get(app, path, remote_addr, headers=None):
    return app.test_client().get(path, environ_base={"REMOTE_ADDR": remote_addr}, headers=headers or {})


@pytest.mark.parametrize("remote_addr", ["127.0.0.1", "127.8.9.10", "::1"])
def test_this_machine_sees_the_outbox(app, stored_mail, remote_addr):
    page = get(app, "/dev/outbox/", remote_addr)
    assert page.status_code == 200 and "Please confirm your signature" in page.get_data(as_text=True)
    assert "Only requests from this machine" in page.get_data(as_text=True)  # the page says who may see it
    assert get(app, f"/dev/outbox/{stored_mail}", remote_addr).status_code == 200


@pytest.mark.parametrize("remote_addr", [REMOTE, "10.0.0.2", "192.168.1.20", "::ffff:203.0.113.7", "fe80::1",
                                         "0.0.0.0", ""])
def test_anyone_else_gets_not_found(app, stored_mail, remote_addr):
    for path in ("/dev/outbox/", f"/dev/outbox/{stored_mail}"):
        response = get(app, path, remote_addr)
        assert response.status_code == 404
        assert "confirm/" not in response.get_data(as_text=True)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_a_request_relayed_by_a_local_proxy_is_not_from_this_machine(app, stored_mail, header):
    value = f"for={REMOTE}" if header == "Forwarded" else REMOTE
    assert get(app, "/dev/outbox/", "127.0.0.1", {header: value}).status_code == 404


def test_behind_proxyfix_a_forged_loopback_address_is_not_trusted(app, stored_mail):
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    assert get(app, "/dev/outbox/", REMOTE, {"X-Forwarded-For": "127.0.0.1"}).status_code == 404
    assert get(app, "/dev/outbox/", REMOTE, {"X-Forwarded-For": "::1"}).status_code == 404


def test_a_logged_in_organizer_sees_it_from_anywhere(app, world, stored_mail):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = REMOTE
    assert client.get("/dev/outbox/").status_code == 404
    login(client, world.owner.email)
    assert client.get("/dev/outbox/").status_code == 200
    assert client.get(f"/dev/outbox/{stored_mail}").status_code == 200
