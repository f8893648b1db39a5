"""Right-to-left in real Chromium: the Arabic version, self-hosted fonts, mixed-direction signer lines."""
import pytest

from petitions.extensions import db
from petitions.signing import operations as signing

from .browser import chromium, live_server
from .i18n_data import VERSIONS, ensure_catalogs, multilingual_appeal

pytestmark = pytest.mark.e2e


@pytest.fixture
def rtl_app(make_app):
    ensure_catalogs()
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        appeal, _ = multilingual_appeal()
        sig = signing.sign(appeal, "Anna Petrosyan", "Lawyer for مريم علي, 2019–2024", "anna@example.org",
                           language="ar").signature
        db.session.commit()
        app.test_data = {"slug": appeal.slug, "token": signing.confirmation_token(sig)}
    yield app
    with app.app_context():
        db.engine.dispose()


def test_arabic_version_is_right_to_left_with_self_hosted_fonts(rtl_app):
    requests, fonts = [], []
    with live_server(rtl_app) as base, chromium() as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("response", lambda r: fonts.append((r.url, r.status)) if "/fonts/" in r.url else None)
        page.goto(f"{base}/a/{rtl_app.test_data['slug']}/ar")
        page.evaluate("document.fonts.ready")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("document.documentElement.lang") == "ar"
        assert page.evaluate("getComputedStyle(document.querySelector('.letter')).direction") == "rtl"
        assert page.inner_text(".letter h1") == VERSIONS["ar"]["title"]
        # Right to left for real: the title hugs the right edge of the letter.
        letter = page.eval_on_selector(".letter", "e => e.getBoundingClientRect().toJSON()")
        title = page.eval_on_selector(".letter h1", """h => { const r = document.createRange();
            r.selectNodeContents(h); return r.getBoundingClientRect().toJSON(); }""")
        assert letter["right"] - title["right"] < 60 < title["left"] - letter["left"]
        # The Arabic glyphs come from our own /fonts/ URL, and nothing left the machine.
        assert page.evaluate("""[...document.fonts].some(f => f.family === 'Petitions Serif' && f.status === 'loaded'
                                && f.unicodeRange.includes('U+600-6FF'))""")
        assert any("NotoNaskhArabic" in url and status == 200 for url, status in fonts), fonts
        assert requests and all(u.startswith(base) or u.startswith("data:") for u in requests), requests


def test_arabic_name_inside_an_english_affiliation_keeps_its_order(rtl_app):
    js = """sel => { const el = document.querySelector(sel);
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); const boxes = {};
        for (let n; (n = walker.nextNode());) for (const word of ['Lawyer', 'مريم', '2019', 'Anna']) {
            const i = n.data.indexOf(word); if (i < 0) continue;
            const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + word.length);
            boxes[word] = r.getBoundingClientRect().left; }
        return boxes; }"""
    with live_server(rtl_app) as base, chromium() as context:
        page = context.new_page()
        page.goto(f"{base}/confirm/{rtl_app.test_data['token']}")
        page.wait_for_selector(".signer bdi")
        # Control: the same line as plain text shows the year pulled to the left of the Arabic name.
        page.evaluate("""() => { const p = document.createElement('p'); p.id = 'plain';
            p.textContent = 'Anna Petrosyan – Lawyer for مريم علي, 2019–2024';
            document.querySelector('.signer').after(p); }""")
        plain = page.evaluate(js, "#plain")
        isolated = page.evaluate(js, ".signer")
        assert plain["2019"] < plain["مريم"]  # what goes wrong without isolation
        assert isolated["Anna"] < isolated["Lawyer"] < isolated["مريم"] < isolated["2019"]
