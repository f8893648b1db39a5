"""Every part of the letter translatable (addressees, salutation, senders, place), visible fallbacks, closed appeals."""
import io

import pytest
from pypdf import PdfReader

from petitions.appeals import services as appeals
from petitions.appeals.models import IllegalTransition
from petitions.audit import events_for
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.pdf.mapping import catalog_for
from petitions.translations import services as translations

from .conftest import csrf_token
from .i18n_data import ensure_catalogs
from .pdf_files import rendered_pdf

PASSWORD = "a long password"
ORIGINAL = {"title": "Free the journalists", "place": "Strasbourg", "senders": "Press Freedom Coalition",
            "addressees": [{"name": "Secretary General", "institution": "Council of Europe",
                            "salutation": "Dear Secretary General,"}],
            "body": "The journalists have been held for eight months.", "demands": ["Release them."],
            "closing": "Respectfully"}
RUSSIAN = {"title": "Свободу журналистам", "body": "Журналисты находятся под стражей восемь месяцев.",
           "demands": ["Освободите их."], "closing": "С уважением", "place": "Страсбург",
           "senders": "Коалиция за свободу прессы",
           "addressees": [{"name": "Генеральный секретарь", "institution": "Совет Европы",
                           "salutation": "Уважаемый господин Генеральный секретарь!"}]}


@pytest.fixture
def app(make_app):
    ensure_catalogs()
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        yield app


def appeal_with(version, language="ru"):
    owner = register_user("Coalition", "coalition@example.org", PASSWORD)
    appeal = appeals.create_appeal(owner, ORIGINAL, language="en")
    appeals.publish_appeal(appeal)
    translations.approve(translations.save_translation(appeal, language, version, owner), owner)
    db.session.commit()
    return appeal, owner


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_translated_salutation_addressees_and_senders_in_the_russian_pdf_and_page(app):
    appeal, _ = appeal_with(RUSSIAN)
    content, is_translation, _n = translations.localized_content(appeal, "ru")
    assert is_translation and content["untranslated"] == []
    text = pdf_text(rendered_pdf(appeal, variant="lang:ru"))
    for part in ("Уважаемый господин Генеральный секретарь!", "Генеральный секретарь", "Совет Европы",
                 "Страсбург", "Коалиция за свободу прессы"):
        assert part in text, part
    assert "Dear Secretary General" not in text and "Council of Europe" not in text
    page = app.test_client().get(f"/a/{appeal.slug}/ru").get_data(as_text=True)
    assert "Уважаемый господин Генеральный секретарь!" in page and "Dear Secretary General" not in page
    assert "Совет Европы" in page and "Коалиция за свободу прессы" in page


def test_an_old_translation_without_the_new_parts_falls_back_visibly(app):
    old = {k: RUSSIAN[k] for k in ("title", "body", "demands", "closing")}  # as saved before the parts existed
    appeal, _ = appeal_with(old)
    content, is_translation, _n = translations.localized_content(appeal, "ru")
    assert is_translation
    assert set(content["untranslated"]) == {"place", "senders", "addressees.0.name", "addressees.0.institution",
                                            "addressees.0.salutation"}
    assert content["addressees"][0]["salutation"] == "Dear Secretary General,"
    page = app.test_client().get(f"/a/{appeal.slug}/ru").get_data(as_text=True)
    assert '<bdi lang="en" dir="ltr">Dear Secretary General,</bdi>' in page
    assert "untranslated" in page
    text = pdf_text(rendered_pdf(appeal, variant="lang:ru"))
    marker = f"({catalog_for('ru').gettext('not translated')})"  # the PDF's words are the version's language
    assert marker != "(not translated)"
    assert RUSSIAN["title"] in text and "Dear Secretary General," in text and marker in text
    # The original's own PDF marks nothing.
    assert "(not translated)" not in pdf_text(rendered_pdf(appeal))


def test_editor_shows_missing_parts_and_saves_addressee_blocks(app):
    old = {k: RUSSIAN[k] for k in ("title", "body", "demands", "closing")}
    appeal, _ = appeal_with(old)
    client = app.test_client()
    client.post("/auth/login", data={"email": "coalition@example.org", "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})
    url = f"/organizer/appeals/{appeal.slug}/translations/ru"
    page = client.get(url).get_data(as_text=True)
    assert "addressees.0.salutation" in page and 'name="addressees-0-salutation"' in page
    data = {"csrf_token": csrf_token(client, url), "title": RUSSIAN["title"], "body": RUSSIAN["body"],
            "demands": "\n".join(RUSSIAN["demands"]), "closing": RUSSIAN["closing"], "place": RUSSIAN["place"],
            "senders": RUSSIAN["senders"], "save_approve": "1",
            **{f"addressees-0-{k}": v for k, v in RUSSIAN["addressees"][0].items()}}
    assert client.post(url, data=data).status_code == 303
    db.session.expire_all()
    assert translations.localized_content(appeal, "ru")[0]["untranslated"] == []
    assert "addressees.0.salutation" not in client.get(url).get_data(as_text=True)
    # A block the original has no addressee for is refused, nothing stored.
    assert client.post(url, data=data | {"addressees-1-name": "Лишний"}).status_code == 400


def test_closed_appeal_translation_is_brought_up_to_date_and_marked(app):
    appeal, owner = appeal_with(RUSSIAN)
    appeals.save_text(appeal, owner, ORIGINAL | {"body": "The journalists have been held for nine months."})
    appeals.publish_revision(appeal, owner)
    appeals.close_appeal(appeal)
    db.session.commit()
    translation = translations.translation_for(appeal, "ru")
    assert translations.is_outdated(translation)
    updated = RUSSIAN | {"body": "Журналисты находятся под стражей девять месяцев."}
    translations.approve(translations.save_translation(appeal, "ru", updated, owner), owner)
    db.session.commit()
    assert appeal.status.value == "closed" and translation.translated_after_close
    assert any(e.action == "translation_saved" and e.detail.get("after_close") for e in events_for(appeal))
    text = pdf_text(rendered_pdf(appeal, variant="lang:ru"))
    assert "девять месяцев" in text and catalog_for("ru").gettext("Translated after signing closed") in text
    page = app.test_client().get(f"/a/{appeal.slug}/ru").get_data(as_text=True)
    assert "девять месяцев" in page and catalog_for("ru").gettext("Translated after signing closed") in page


def test_a_delivered_appeal_keeps_its_versions(app):
    appeal, owner = appeal_with(RUSSIAN)
    appeals.close_appeal(appeal)
    appeal.mark_delivered()
    db.session.commit()
    with pytest.raises(IllegalTransition):
        translations.save_translation(appeal, "ru", RUSSIAN | {"title": "Другое"}, owner)
    assert translations.translation_for(appeal, "ru").content["title"] == RUSSIAN["title"]


def test_the_cover_mail_greets_in_the_version_language(app):
    from petitions.delivery import operations as delivery

    appeal, owner = appeal_with(RUSSIAN)
    _subject, body = delivery.cover_text(appeal, delivery.addressee(appeal, 0), "ru", owner)
    assert body.startswith("Уважаемый господин Генеральный секретарь!") and "Dear Secretary General" not in body
    _subject, body = delivery.cover_text(appeal, delivery.addressee(appeal, 0), "en", owner)
    assert body.startswith("Dear Secretary General,")


def test_the_cover_mail_of_an_old_translation_does_not_greet_in_the_original(app):
    from petitions.delivery import operations as delivery

    appeal, owner = appeal_with({k: RUSSIAN[k] for k in ("title", "body", "demands", "closing")})
    _subject, body = delivery.cover_text(appeal, delivery.addressee(appeal, 0), "ru", owner)
    assert "Dear Secretary General" not in body.splitlines()[0] and "Secretary General" in body.splitlines()[0]
