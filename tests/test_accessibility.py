"""axe-core (WCAG 2.1 A and AA) finds no serious or critical violation on the public and organizer pages."""
import json
import os
from pathlib import Path

import pytest

from petitions.extensions import db

from .browser import CHROMIUM, CHROMIUM_ARGS, live_server
from .conftest import drop_database
from .security import _seed
from .security.conftest import PASSWORD

pytestmark = pytest.mark.e2e

# Installed by `make install-test` (npm, into an ignored folder): third-party code never enters the repository.
AXE = Path(os.environ.get("AXE_CORE_PATH")
           or Path(__file__).resolve().parents[1] / ".cache/npm/node_modules/axe-core/axe.min.js")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

PUBLIC = {
    "front page": "/",
    "appeal page": "/a/{slug}",
    "language version": "/a/{slug}/{language}",
    "signatories list": "/a/{slug}/signatories",
    "sign form": "/a/{slug}/sign",
    "thanks page": "/a/{slug}/thanks",
    "confirm page": "/confirm/{confirm}",
    "withdraw page": "/withdraw/{withdraw}",
    "privacy notice": "/privacy",
    "embed": "/a/{slug}/embed",
    "verify page": "/verify/",
    "verified document": "/verify/{pdf_document_id}",
}
ORGANIZER = {
    "dashboard": "/organizer/",
    "appeal overview": "/organizer/appeals/{slug}",
    "editor": "/organizer/appeals/{slug}/edit",
    "review queue": "/organizer/appeals/{slug}/review",
    "PDF page": "/organizer/appeals/{slug}/pdf/status",
    "translations page": "/organizer/appeals/{slug}/translations/",
    "signer settings": "/organizer/appeals/{slug}/privacy",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory, migrated_db):
    """Serve a copy of the rich seeded database; yield (base URL, its values)."""
    if not AXE.exists():
        pytest.skip(f"axe-core missing at {AXE}: run `make install-test`")
    seeded = _seed.seed_template(tmp_path_factory, migrated_db, "a11y")
    app = _seed.open_copy(seeded, tmp_path_factory.mktemp("a11y-copy") / "db.sqlite")
    with live_server(app) as base:
        yield base, seeded
    with app.app_context():
        db.engine.dispose()
    drop_database(app.config["SQLALCHEMY_DATABASE_URI"])


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser):
    # The pages' CSP admits only their own scripts: bypassed so that the test may inject axe.
    return browser.new_context(bypass_csp=True)


@pytest.fixture(scope="module")
def visitor(browser):
    context = _context(browser)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def organizer(browser, site):
    base, seeded = site
    context = _context(browser)
    page = context.new_page()
    page.goto(f"{base}/auth/login")
    page.fill("#email", seeded.emails["owner"])
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/organizer/")
    yield page
    context.close()


def _url(base: str, seeded, path: str) -> str:
    a = seeded.a
    return base + path.format(slug=a.slug, language=a.language, pdf_document_id=a.pdf_document_id, **a.tokens)


def violations(page) -> list[dict]:
    """Run axe-core on the page as it stands; return the serious and critical violations, printing all."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    for v in result["violations"]:
        for node in v["nodes"]:
            print(f"{page.url}: {v['impact']} {v['id']}: {json.dumps(node['target'])} {v['help']}")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _assert_clean(page):
    found = violations(page)
    assert not found, "\n".join(f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]} — {v['help']}"
                                for v in found)


@pytest.mark.parametrize("name", list(PUBLIC))
def test_public_page_has_no_serious_violation(site, visitor, name):
    base, seeded = site
    response = visitor.goto(_url(base, seeded, PUBLIC[name]))
    assert response.status == 200, (name, response.status)
    _assert_clean(visitor)


def test_sign_form_with_errors_has_no_serious_violation(site, visitor):
    base, seeded = site
    visitor.goto(_url(base, seeded, "/a/{slug}/sign"))
    with visitor.expect_response(lambda r: r.request.method == "POST") as answer:
        visitor.click("#submit")  # everything empty
    assert answer.value.status == 422
    visitor.wait_for_load_state()
    assert visitor.locator("[aria-invalid=true]").count() > 0
    _assert_clean(visitor)


def test_confirmed_page_has_no_serious_violation(site, visitor):
    base, seeded = site
    visitor.goto(_url(base, seeded, "/confirm/{confirm}"))
    visitor.click("text=Confirm my signature")
    visitor.wait_for_load_state()
    assert "confirmed" in visitor.inner_text("h1").lower()
    _assert_clean(visitor)


@pytest.mark.parametrize("name", list(ORGANIZER))
def test_organizer_page_has_no_serious_violation(site, organizer, name):
    base, seeded = site
    response = organizer.goto(_url(base, seeded, ORGANIZER[name]))
    assert response.status == 200, (name, response.status)
    _assert_clean(organizer)


def test_the_checker_finds_a_violation(browser):
    """axe here really reports: a page with an unlabeled field and grey-on-white text fails."""
    if not AXE.exists():
        pytest.skip(f"axe-core missing at {AXE}: run `make install-test`")
    context = _context(browser)
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><head><title>t</title></head><body><main>'
                         '<p style="color:#bbb;background:#fff">faint</p><input type="text"></main></body></html>')
        found = {v["id"] for v in violations(page)}
    finally:
        context.close()
    assert {"color-contrast", "label"} <= found, found
