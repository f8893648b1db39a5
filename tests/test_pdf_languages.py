"""One PDF per language version, and a combined one with the translations as annexes."""
import io

from pypdf import PdfReader

from petitions.translations import services as translations

from .conftest import csrf_token
from .i18n_data import ORIGINAL, PASSWORD, VERSIONS, multilingual_appeal
from .pdf_files import rendered_pdf


def text_of(data: bytes) -> tuple[str, list[str]]:
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return " ".join(" ".join(pages).split()), pages


def test_each_language_version_has_its_own_pdf(app):
    appeal, _ = multilingual_appeal(languages=("ru", "hy"))
    ru, _ = text_of(rendered_pdf(appeal, variant="lang:ru"))
    assert VERSIONS["ru"]["title"] in ru and ORIGINAL["title"] not in ru
    hy, _ = text_of(rendered_pdf(appeal, variant="lang:hy"))
    assert VERSIONS["hy"]["title"] in hy


def test_combined_pdf_has_the_original_first_and_marked_translations_with_continuous_pages(app):
    appeal, owner = multilingual_appeal(languages=("ru", "en", "ka"))
    # An outdated translation must not be printed: unapprove one by saving it again.
    translations.save_translation(appeal, "ka", VERSIONS["ka"] | {"title": "ახალი სათაური"}, owner)
    text, pages = text_of(rendered_pdf(appeal, variant="combined"))
    assert text.index(ORIGINAL["title"]) < text.index(VERSIONS["ru"]["title"])
    assert text.index(ORIGINAL["title"]) < text.index(VERSIONS["en"]["title"])
    assert "ახალი სათაური" not in text and VERSIONS["ka"]["title"] not in text
    from flask_babel import gettext

    from petitions.i18n import language_name, with_locale

    with with_locale("az"):  # the combined PDF speaks the original's language
        for code in ("ru", "en"):
            mark = gettext("Annex: %(language)s version. Translation of revision %(n)s of the original text; "
                           "the original above is the text that was signed.",
                           language=language_name(code, "az"), n=1)
            assert " ".join(mark.split()) in text
    for number, page in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in page or f"{number} of {len(pages)}" in page, page[-80:]


def test_organizer_downloads_a_language_version_and_the_combined_pdf(app, client):
    appeal, _ = multilingual_appeal(languages=("ru",))
    client.post("/auth/login", data={"email": "coalition@example.org", "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})
    status = client.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert f"/organizer/appeals/{appeal.slug}/pdf/version/ru" in status
    response = client.get(f"/organizer/appeals/{appeal.slug}/pdf/version/ru")
    assert response.status_code == 200 and VERSIONS["ru"]["title"] in text_of(response.data)[0]
    assert client.get(f"/organizer/appeals/{appeal.slug}/pdf/version/fr").status_code == 404
    combined = client.get(f"/organizer/appeals/{appeal.slug}/pdf/combined")
    assert combined.status_code == 200 and VERSIONS["ru"]["title"] in text_of(combined.data)[0]


def test_a_language_version_carries_a_qr_link_and_verifies_as_genuine(app, client):
    import io as _io

    appeal, _ = multilingual_appeal(languages=("ru",))
    client.post("/auth/login", data={"email": "coalition@example.org", "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})
    data = client.get(f"/organizer/appeals/{appeal.slug}/pdf/version/ru").data
    assert "/verify/" in text_of(data)[0].replace(" ", "")
    token = csrf_token(client, "/verify/")
    page = client.post("/verify/", data={"csrf_token": token, "file": (_io.BytesIO(data), "ru.pdf")},
                       content_type="multipart/form-data")
    assert "<h2>Genuine</h2>" in page.get_data(as_text=True)
    again = client.get(f"/organizer/appeals/{appeal.slug}/pdf/version/ru")
    assert again.data == data  # unchanged list and text: the stored version is served, not re-rendered
