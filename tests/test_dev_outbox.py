"""The dev outbox page reads the outbox table (issue 12, point 1): status, kind, attempts, last error, the copy."""
import html
import re

import pytest

from petitions.extensions import db
from petitions.mail import outbox
from petitions.signing import operations as signing

from .conftest import LINK_RE
from .security.conftest import build_world


@pytest.fixture
def page_of(make_app):
    """Return a function: sign once on an app with this config; return the row, the outbox page and the mail's
    page, as text."""
    apps = []

    def factory(**config):
        app = make_app(DEV_OUTBOX=True, **config)
        apps.append(app)
        ctx = app.app_context()
        ctx.push()
        world = build_world()
        signing.sign(world.appeal, "Leyla Məmmədova", "Journalist", "leyla@example.org")
        db.session.commit()
        [mail] = outbox.stored()
        client = app.test_client()
        pages = [html.unescape(re.sub("<[^>]+>", "", client.get(path).get_data(as_text=True)))
                 for path in ("/dev/outbox/", f"/dev/outbox/{mail.row.id}")]
        ctx.pop()
        return mail, *pages

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_make_run_outbox_shows_each_mail_with_its_link_and_status(page_of):
    mail, index, shown = page_of(MAIL_TRANSPORT="outbox")
    link = LINK_RE.search(shown).group(0)
    assert mail.row.status == "sent" and link in index
    for page in (index, shown):
        assert "Please confirm your signature: Free the journalists" in page
        assert "leyla@example.org" in page and "confirm" in page and "Status: sent" in page
    assert "Leyla Məmmədova" in shown  # the decrypted text itself


def test_a_mail_the_server_refused_to_take_shows_its_attempts_and_last_error(page_of):
    mail, index, shown = page_of(MAIL_TRANSPORT="smtp", MAIL_PORT=1)  # nothing listens there
    assert mail.row.status == "retrying" and mail.row.attempts == 1
    for page in (index, shown):
        assert "Status: retrying" in page and "Attempts: 1" in page
        assert "Last error: " + mail.row.last_error in page
        assert LINK_RE.search(page)  # still held, so still readable here


def test_a_mail_handed_over_keeps_no_copy_and_says_so(page_of, smtp_server):
    _sink, port = smtp_server
    mail, index, shown = page_of(MAIL_TRANSPORT="smtp", MAIL_PORT=port)
    assert mail.row.status == "sent" and mail.message is None
    for page in (index, shown):
        assert "Status: sent" in page and "the stored copy was dropped" in page
        assert not LINK_RE.search(page) and "leyla@example.org" not in page
