"""A signer who reads the Russian version stays in Russian: the pages on the way, the mail, its link (issue 13)."""
import re

import pytest
from flask_babel import force_locale, ngettext

from petitions.extensions import db

from .browser import chromium, live_server
from .conftest import message_text
from .i18n_data import VERSIONS, ensure_catalogs, multilingual_appeal

URL_RE = re.compile(r"https?://[^\s<>\"]+")
# Latin words that may stand on a Russian page: the signer's own address, typed by them.
SIGNER_EMAIL = "irina@advokat.example"
LOANWORDS = {"PDF"}  # Russian writes it so too


@pytest.fixture
def site(make_app, smtp_server):
    ensure_catalogs()
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port)
    with app.app_context():
        appeal, _ = multilingual_appeal(("ru", "en"))
        slug = appeal.slug
        db.session.remove()
    yield app, sink, slug
    with app.app_context():
        db.engine.dispose()


def assert_russian(page, where: str) -> None:
    """The document and its chrome say ru, and no interface word is left in English (Latin letters)."""
    assert page.get_attribute("html", "lang") == "ru", where
    for part in ("header.site", "footer.site"):
        assert page.get_attribute(part, "lang") == "ru", f"{where}: {part}"
    # What may stay in another script is marked so: names of languages and untranslated parts of the letter
    # carry their own lang, brand names translate="no". Everything else is the interface, in Russian.
    text = page.evaluate("""() => {
        const body = document.body.cloneNode(true);
        body.querySelectorAll('[translate="no"], [lang]:not([lang="ru"]), script, style').forEach(e => e.remove());
        return body.innerText;
    }""").replace(SIGNER_EMAIL, "")
    english = [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in LOANWORDS]
    assert english == [], f"{where}: {english}"
    assert re.search("[А-Яа-яЁё]{4,}", text), where


def test_a_signer_of_the_russian_version_sees_every_page_and_mail_in_russian(site):
    app, sink, slug = site
    with live_server(app) as base, chromium() as context:
        page = context.new_page()  # the browser asks for English (Accept-Language en-US)
        page.goto(f"{base}/a/{slug}/ru")
        assert VERSIONS["ru"]["title"] in page.inner_text("h1")
        assert_russian(page, "appeal page")
        page.click(f"a[href*='/a/{slug}/sign']")
        assert_russian(page, "sign page")
        page.fill("#full_name", "Ирина Жукова")
        page.fill("#affiliation", "Адвокат")
        page.fill("#email", SIGNER_EMAIL)
        page.check("#consent")
        page.click("#submit")
        page.wait_for_url("**/thanks**")
        assert_russian(page, "thanks page")

        [mail] = sink.wait_for(1, timeout=30)
        assert mail["Subject"] == f"Пожалуйста, подтвердите подпись: {VERSIONS['ru']['title']}"
        body = message_text(mail)
        assert "Здравствуйте" in body or "Ирина Жукова" in body
        links = [base + re.sub(r"^https?://[^/]+", "", u) for u in URL_RE.findall(body)]
        confirm = next(u for u in links if "/confirm/" in u)
        assert "lang=ru" in confirm and all("lang=ru" in u for u in links if "/withdraw/" in u)
        page.goto(confirm)
        assert_russian(page, "confirm page")
        with page.expect_navigation():
            page.locator("main form").locator("button[type='submit'], input[type='submit']").first.click()
        assert "Ирина Жукова" in page.inner_text("main")
        assert_russian(page, "confirmed page")


@pytest.mark.parametrize("language, counts", [
    ("fr", {1: "1 signature confirmée", 15: "15 signatures confirmées", 0: "0 signature confirmée"}),
    ("ru", {1: "1 подпись подтверждена", 3: "3 подписи подтверждены", 5: "5 подписей подтверждено",
            21: "21 подпись подтверждена", 11: "11 подписей подтверждено", 102: "102 подписи подтверждены"}),
])
def test_counts_take_the_plural_forms_of_the_language(app, client, language, counts):
    ensure_catalogs()
    with app.test_request_context(), force_locale(language):
        for n, expected in counts.items():
            assert ngettext("%(num)d confirmed signature", "%(num)d confirmed signatures", n) == expected
    with app.test_request_context(), force_locale("ru"):
        assert [ngettext("%(count)s signature", "%(count)s signatures", n, count=n) for n in (1, 3, 5)] == [
            "1 подпись", "3 подписи", "5 подписей"]


@pytest.mark.parametrize("language, one, many", [
    ("fr", "1 signature confirmée", "15 signatures confirmées"),
    ("ru", "1 подпись подтверждена", "15 подписей подтверждено"),
])
def test_the_front_page_counts_in_the_reader_s_plural(app, client, language, one, many):
    ensure_catalogs()
    with app.app_context():
        first, _ = multilingual_appeal(())
        second, _ = multilingual_appeal((), owner=first.owner)
        first.signature_count, second.signature_count = 1, 15
        db.session.commit()
    page = client.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
    assert one in page and many in page
