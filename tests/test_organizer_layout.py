"""Organizer pages fit a 360 px phone and a 1280 px screen (Chromium, no horizontal scroll); the dashboard
chart labels its axes and gives its numbers as text."""
import os
import re
from datetime import date

import pytest
from sqlalchemy import select

from petitions.appeals import services as appeals
from petitions.auth.models import User
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.signatories.queue import scan_duplicates
from petitions.signatories import importing
from petitions.signing import operations as signing
from petitions.signing.models import Signature

from .browser import chromium, live_server
from .conftest import csrf_token, new_appeal

PASSWORD = "a long password"
# Long words and addresses are what pushes a table wider than a phone.
LIST = "\n".join([
    "Nərmin Quliyeva – Jurnalist, “Yeni Səs” qəzeti, Azərbaycan Respublikası Jurnalistlər Birliyinin üzvü",
    "Elchin Sadigov-Lawyer, Member of the Bar Association of the Republic <elchin.sadigov.lawyer@barassociation-example.org>",
    "Elçin Sadıqov – Lawyer, Member of the Bar Association",
    "Anna Müller-Lüdenscheidt – Internationale Menschenrechtsorganisationsvertreterin",
    "Zülfiyyə Axundova-Nəsirova – Researcher, Institute of Philosophy and Sociology",
    "http://www.buy-followers-and-likes-cheaply.example.com/very/long/path",
])


@pytest.fixture
def site(make_app):
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        owner = register_user("Rəna Organizer", "rena@example.org", PASSWORD)
        appeal = new_appeal(owner, "Release the students of the Azerbaijan State University of Economics",
                            "UN Working Group on Arbitrary Detention", "We ask for their release.")
        appeals.publish_appeal(appeal)
        db.session.commit()
        importing.import_list(appeal, owner, LIST, "lines", "vouched", skip_existing=False)
        signing.sign(appeal, "Gülnarə Məmmədova-Hacıyeva", "Azərbaycan Dövlət İqtisad Universiteti (UNEC)",
                     "gulnara.mammadova-hajiyeva@university-example.az")
        registry.add_organization("Bar Association of the Republic of Azerbaijan", ["Bar Association"],
                                  ["barassociation-example.org"], created_by=owner)
        scan_duplicates(appeal, None)
        db.session.commit()
        app.slug = appeal.slug
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


# The elements that stick out on the right, for the failure message.
OFFENDERS = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5
  && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 0.5)).slice(0, 5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + (e.id ? '#' + e.id : ''))"""
PAGES = ["", "/review", "/duplicates", "/import", "/members", "/organizations", "/pdf/status", "/edit",
         "/translations/", "/history"]


@pytest.mark.e2e
@pytest.mark.parametrize("width", [360, 1280])
def test_organizer_pages_have_no_horizontal_scroll(site, width):
    shots = os.environ.get("LAYOUT_SCREENSHOTS")  # a folder to keep the pictures in, for a human to look at
    wide = {}
    with live_server(site) as base, chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}/auth/login")
        page.fill("#email", "rena@example.org")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        for path in PAGES + ["/import#preview"]:
            url = f"{base}/organizer/appeals/{site.slug}{path.split('#')[0]}"
            response = page.goto(url)
            assert response.status == 200, (path, response.status)
            if path.endswith("#preview"):
                page.fill("#text", LIST)
                with page.expect_navigation():
                    page.click("button:has-text('Preview')")
                assert page.locator("table.import").count() == 1
            sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if sizes[0] > sizes[1]:
                wide[path or "/"] = sizes + page.evaluate(OFFENDERS)
            if shots:
                name = (path.strip("/").replace("/", "-").replace("#", "-") or "overview")
                height = min(page.evaluate("document.documentElement.scrollHeight"), 1800)  # small files
                page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True,
                                clip={"x": 0, "y": 0, "width": width, "height": height})
    assert wide == {}, wide


def test_dashboard_chart_labels_its_axes_and_gives_the_numbers_as_text(site):
    with site.app_context():
        client = site.test_client()
        client.post("/auth/login", data={"email": "rena@example.org", "password": PASSWORD,
                                         "csrf_token": csrf_token(client, "/auth/login")})
        # One vouched signature rejected and one merged: they do not count, here as everywhere else.
        sigs = db.session.scalars(select(Signature).where(Signature.source == "import").order_by(Signature.id)).all()
        owner = db.session.get(User, sigs[0].vouched_by_id)
        sigs[0].reject(owner, "not a real person")
        sigs[2].merge_into(sigs[1])
        db.session.commit()
        counted = len(sigs) - 2
        for url in ("/organizer/", f"/organizer/appeals/{site.slug}"):
            html = client.get(url).get_data(as_text=True)
            svg = html[html.index("<svg class=\"chart\""):html.index("</svg>")]
            title = re.search(r'<title id="([\w-]+)">([^<]+)</title>', svg)
            desc = re.search(r'<desc id="([\w-]+)">([^<]+)</desc>', svg)
            assert title and desc and f'aria-labelledby="{title.group(1)} {desc.group(1)}"' in svg
            assert f"{counted} in all" in desc.group(2)
            today = date.today()
            labels = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
            assert "0" in labels and str(counted) in labels and "signatures per day" in labels  # the y axis
            assert f"{today:%b} {today.day}, {today.year}" in labels  # the x axis ends today
            table = html[html.index('<div class="chart-data"><table>'):]
            table = table[:table.index("</table>")]
            cells = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table)
            assert len(cells) == 30 and cells[-1] == (f"{today:%b} {today.day}, {today.year}", str(counted))
            assert sum(int(n) for _d, n in cells) == counted
