"""With JavaScript off (Tor Browser's safest mode) a signer can sign, confirm, withdraw and erase."""
import re

import pytest
from sqlalchemy import select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Signature, SignatureStatus, Visibility

from .browser import chromium, live_server
from .conftest import message_text, new_appeal

pytestmark = pytest.mark.e2e
URL_RE = re.compile(r"https?://[^\s<>\"]+")


@pytest.fixture
def site(make_app, smtp_server):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port)
    with app.app_context():
        owner = register_user("Owner", "owner@example.org", "a long password")
        appeal = new_appeal(owner, "Free the lawyers", "Council of Europe", "We call for their release.")
        appeal.publish()
        db.session.commit()
        slug = appeal.slug
        db.session.remove()
    yield app, sink, slug
    with app.app_context():
        db.engine.dispose()


def links_in(msg, base: str) -> list[str]:
    """Return the mail's links, pointed at the live server (mail built them on the request's host)."""
    return [base + re.sub(r"^https?://[^/]+", "", u) for u in URL_RE.findall(message_text(msg))]


def sign_and_confirm(page, base, sink, slug, name, email, visibility="addressees"):
    count = len(sink.messages)
    page.goto(f"{base}/a/{slug}")
    page.click("text=Sign this appeal")  # the form is a page of its own: the appeal page is shared by all
    page.fill("#full_name", name)
    page.fill("#affiliation", "Advocate")
    page.fill("#email", email)
    page.check(f"input[name=visibility][value={visibility}]")
    page.check("#consent")
    page.click("#submit")
    assert "Check your e-mail" in page.inner_text("h1")
    mail = sink.wait_for(count + 1)[-1]
    links = links_in(mail, base)
    page.goto(next(u for u in links if "/confirm/" in u))
    page.click("text=Confirm my signature")
    assert "confirmed" in page.inner_text("h1")
    return mail


def signature(app, name) -> Signature | None:
    with app.app_context():
        sig = db.session.scalar(select(Signature).where(Signature.full_name == name))
        db.session.expunge_all() if sig is not None else None
        return sig


def test_sign_confirm_and_erase_without_javascript(site):
    app, sink, slug = site
    with live_server(app) as base, chromium(java_script_enabled=False) as context:
        page = context.new_page()
        sign_and_confirm(page, base, sink, slug, "Vüsal Nəbiyev", "vusal@example.org")
        sig = signature(app, "Vüsal Nəbiyev")
        assert sig.status is SignatureStatus.CONFIRMED and sig.visibility is Visibility.ADDRESSEES
        page.goto(f"{base}/a/{slug}")
        assert "1" == page.inner_text(".glance-count strong") and "Vüsal" not in page.content()

        count = len(sink.messages)
        page.click("text=Signed already? See, correct or erase your data")
        page.fill("#email", "vusal@example.org")
        page.click("#submit")
        link = next(u for u in links_in(sink.wait_for(count + 1)[-1], base) if "/privacy/my-data/" in u)
        page.goto(link)
        assert "Vüsal Nəbiyev" in page.inner_text("main")
        page.click("summary:has-text('Correct')")  # <details> opens without JavaScript
        page.fill(f"#s{sig.id}-full_name", "Vüsal N.")
        page.click("text=Save corrections")
        assert "Saved" in page.inner_text("h1")
        page.goto(link)
        page.click("text=Erase this signature")
        page.check("#understood")
        page.click("#submit")
        assert "Erased" in page.inner_text("h1")
    assert signature(app, "Vüsal Nəbiyev") is None and signature(app, "Vüsal N.") is None


def test_withdraw_without_javascript(site):
    app, sink, slug = site
    with live_server(app) as base, chromium(java_script_enabled=False) as context:
        page = context.new_page()
        mail = sign_and_confirm(page, base, sink, slug, "Aygün Rəsulova", "aygun@example.org", "public")
        withdraw = [u for u in links_in(mail, base) if "withdraw" in u]
        if not withdraw:  # the link may come with the "confirmed" mail instead
            withdraw = [u for m in sink.messages for u in links_in(m, base) if "withdraw" in u]
        assert withdraw, "every mail carries a withdraw link"
        page.goto(withdraw[-1])
        page.click("form[method=post] [type=submit]")
    sig = signature(app, "Aygün Rəsulova")
    assert sig is None or sig.status is SignatureStatus.WITHDRAWN
