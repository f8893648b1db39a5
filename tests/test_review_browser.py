"""The review pages in headless Chromium: import a pasted list, vouch a page, merge a duplicate."""
import os

import pytest
from sqlalchemy import select

from petitions.appeals import services as appeals
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.models import Level, Signature

from .browser import chromium, live_server
from .conftest import new_appeal

pytestmark = pytest.mark.e2e

LIST = """Nərmin Quliyeva – Jurnalist, “Yeni Səs” qəzeti
Elchin Sadigov-Lawyer, Member of Bar Association
Elçin Sadıqov – Lawyer, Member of the Bar Association
Anna Müller-Lüdenscheidt – Journalist
www.buy-followers.example – Marketing
"""


@pytest.fixture
def review_app(make_app):
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        owner = register_user("Rəna Organizer", "rena@example.org", "a long password")
        appeal = new_appeal(owner, "Release the students", "UN", "We ask for their release.")
        appeals.publish_appeal(appeal)
        db.session.commit()
        app.slug = appeal.slug
    yield app
    with app.app_context():
        db.engine.dispose()


def test_import_vouch_and_merge_in_the_browser(review_app, tmp_path):
    requests = []
    shots = os.environ.get("REVIEW_SCREENSHOTS")  # a folder to keep the pictures in, for a human to look at
    with live_server(review_app) as base, chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{base}/auth/login")
        page.fill("#email", "rena@example.org")
        page.fill("#password", "a long password")
        page.click("#submit")
        page.goto(f"{base}/organizer/appeals/{review_app.slug}")
        page.click("text=Review signatories")
        page.click("nav.tabs >> text=Import a list")

        page.fill("#text", LIST)
        page.click("button:has-text('Preview')")
        assert "5 rows read" in page.inner_text(".preview-summary")
        assert "a web address, not a name" in page.inner_text("table.import")
        if shots:
            page.screenshot(path=f"{shots}/import-preview.png", full_page=True)
        assert not page.is_checked("#include-5")  # a flagged row is left out unless ticked
        page.check("#include-5")
        page.click("button:has-text('Import')")
        assert "Imported 5 signatories" in page.inner_text(".flash")

        page.check("#select-all")  # review.js ticks every row of the page
        page.fill("#text", "Known from the conference")
        page.click("#approve")
        assert "Approve: 5 signature(s)" in page.inner_text(".flash")
        page.select_option("select[name=flag]", "url")
        page.click("button:has-text('Filter')")
        assert page.locator("table.queue tbody tr").count() == 1
        page.goto(f"{base}/organizer/appeals/{review_app.slug}/review")
        if shots:
            page.screenshot(path=f"{shots}/queue.png", full_page=True)

        page.click("nav.tabs >> text=Duplicates")
        page.click("button:has-text('Scan for duplicates')")
        assert "New candidate pairs: 1" in page.inner_text(".flash")
        if shots:
            page.screenshot(path=f"{shots}/duplicates.png", full_page=True)
        page.click("button:has-text('Merge')")
        assert "counts once" in page.inner_text(".flash")

        page.click("nav.tabs >> text=Organizations")
        page.fill("#org-name", "Bar Association of the Republic")
        page.fill("#org-aliases", "Bar Association")
        page.fill("#org-domains", "bar.example")
        page.click("#org-submit")
        assert "Organization added" in page.inner_text(".flash")
        if shots:
            page.screenshot(path=f"{shots}/organizations.png", full_page=True)

    assert all(url.startswith(base) or url.startswith("data:") for url in requests), requests
    with review_app.app_context():
        sigs = db.session.scalars(select(Signature).order_by(Signature.id)).all()
        assert [s.level for s in sigs] == [Level.VOUCHED] * 5
        assert sum(1 for s in sigs if s.merged_into_id) == 1
        assert {s.full_name for s in sigs if s.merged_into_id} <= {"Elchin Sadigov", "Elçin Sadıqov"}
