"""End to end in headless Chromium, as a newcomer would click through `make run`."""
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from petitions.auth.services import register_user
from petitions.extensions import db

from .browser import chromium, live_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def outbox_app(make_app):
    app = make_app(MAIL_TRANSPORT="outbox", DEV_OUTBOX=True)
    with app.app_context():
        register_user("Rəna Organizer", "rena@example.org", "a long password")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_draft_publish_sign_confirm_download(outbox_app, tmp_path):
    requests = []
    with live_server(outbox_app) as base, chromium() as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))

        page.goto(f"{base}/auth/login")
        page.fill("#email", "rena@example.org")
        page.fill("#password", "a long password")
        page.click("#submit")
        page.wait_for_url(f"{base}/organizer/")

        page.click("text=New appeal")
        page.click("text=Blank letter")
        page.fill("#title", "Release Vüqar Həsənli")
        page.fill("#addressees-0-name", "Secretary General of the Council of Europe")
        page.fill("#body", "We call for the **immediate** release of a jailed reporter.")
        page.click("#preview")
        assert page.inner_html(".preview .body strong") == "immediate"
        page.click("#save")
        page.click("button:has-text('Publish')")
        assert "open for signatures" in page.inner_text(".flash")
        page.click("text=Public page")
        page.click("text=Sign this appeal")

        page.fill("#full_name", "Şəbnəm İsmayılova")
        page.fill("#affiliation", "Journalist")
        page.fill("#email", "shabnam@example.org")
        page.check("#consent")
        page.click("#submit")
        assert "Check your e-mail" in page.inner_text("h1")

        page.click("text=Dev outbox")
        page.click("a[href*='/confirm/']")
        page.click("text=Confirm my signature")
        assert "confirmed" in page.inner_text("h1")

        page.click("text=My appeals")
        page.click("text=Release Vüqar Həsənli")
        with page.expect_download() as info:
            page.click("text=Download PDF")
        path = tmp_path / "appeal.pdf"
        info.value.save_as(path)

    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
    assert "Şəbnəm İsmayılova – Journalist" in text
    assert requests and all(url.startswith(base) for url in requests), "a page asked a third party"


def login(page, base, email, password="a long password"):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/organizer/")


def test_template_live_preview_publish_and_co_organizer_edits(outbox_app):
    with outbox_app.app_context():
        register_user("Co Editor", "editor@example.org", "a long password")
        db.session.commit()
    requests = []
    with live_server(outbox_app) as base, chromium() as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        login(page, base, "rena@example.org")
        page.click("text=New appeal")
        page.click("text=Appeal for the release of a prisoner")
        assert page.input_value("#title") == "Release [full name of the prisoner]"
        assert "[Position]" in page.input_value("#addressees-0-title")

        page.fill("#title", "Release Aynur Məlikova")
        page.fill("#body", "Aynur Məlikova has been held for **nine months** without trial.")
        # The live preview re-renders on the server as the organizer types, without pressing Preview.
        expect(page.locator("#preview-body .body strong")).to_have_text("nine months")
        assert page.inner_text("#preview-body h1") == "Release Aynur Məlikova"
        page.click("#save")
        page.wait_for_url("**/organizer/appeals/release-aynur-malikova")
        page.click("button:has-text('Publish')")
        # The template's other placeholders are still there: publishing names them instead of opening.
        assert "[Position]" in page.inner_text(".flash")
        page.click("a.button:text-is('Edit')")
        for selector, value in (("#subject", "Detention of Aynur Məlikova, journalist, since March"),
                                ("#addressees-0-name", "Minister of Justice"), ("#addressees-0-title", "Minister"),
                                ("#addressees-0-institution", "Ministry of Justice"),
                                ("#addressees-0-salutation", "Dear Minister,"),
                                ("#demands", "Release Aynur Məlikova immediately."), ("#place", "Baku"),
                                ("#senders", "Free Press Coalition")):
            page.fill(selector, value)
        page.click("#save")
        page.click("button:has-text('Publish')")
        assert "open for signatures" in page.inner_text(".flash")

        page.click("text=Co-organizers")
        page.fill("#email", "editor@example.org")
        page.select_option("#role", "editor")
        page.click("text=Send invitation")
        assert "Invitation sent" in page.inner_text(".flash")
        page.click("text=Log out")

        login(page, base, "editor@example.org")
        page.goto(f"{base}/dev/outbox/")
        page.click("a[href*='/organizer/invitations/']")
        page.click("text=Accept")
        assert "joined" in page.inner_text(".flash")
        page.click("a.button:text-is('Edit')")
        page.fill("#subject", "Nine months without trial")
        page.click("#save")
        assert "revision 2" in page.inner_text(".flash")
        # An editor may not publish: the button is not offered.
        assert page.locator("button:has-text('Publish the amendment')").count() == 0
        assert page.locator("button:has-text('Close signing')").count() == 0

    assert all(url.startswith(base) for url in requests), "a page asked a third party"
