"""Language versions: staleness after a new revision, approval, the text per language, the editor."""
import pytest

from petitions.appeals import services as appeals
from petitions.appeals.models import IllegalTransition
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.translations import services

from .conftest import csrf_token
from .i18n_data import ORIGINAL, PASSWORD, VERSIONS, multilingual_appeal


def amend(appeal, owner, **changes):
    appeals.save_text(appeal, owner, appeal.content() | changes)
    appeals.publish_revision(appeal, owner)
    db.session.commit()


def test_new_published_revision_makes_translations_outdated_with_the_diff(app):
    appeal, owner = multilingual_appeal(("ru",))
    ru = services.translation_for(appeal, "ru")
    assert services.state(ru) == "approved" and services.published_languages(appeal) == ["az", "ru"]
    assert ru.source_revision.number == 1

    # A saved but unpublished amendment changes nothing for signers, so the translation stays current.
    appeals.save_text(appeal, owner, appeal.content() | {"body": ORIGINAL["body"] + " Ailəsi narahatdır."})
    db.session.commit()
    assert services.state(ru) == "approved"

    appeals.publish_revision(appeal, owner)
    db.session.commit()
    assert services.state(ru) == "outdated" and services.is_outdated(ru)
    assert services.published_languages(appeal) == ["az"]
    changes = services.changes_since(ru)
    assert [label for label, _ in changes] == ["Text"]
    assert any(c.op == "insert" and "Ailəsi narahatdır" in c.text for c in changes[0][1])
    # Never the stale text: the Russian version now gives the original back.
    content, is_translation, number = services.localized_content(appeal, "ru")
    assert not is_translation and content["title"] == ORIGINAL["title"] and number == 2


def test_outdated_translation_cannot_be_approved_until_updated(app):
    appeal, owner = multilingual_appeal(("ru",), approve=False)
    amend(appeal, owner, title="Rəşad Əliyevə dərhal azadlıq")
    ru = services.translation_for(appeal, "ru")
    with pytest.raises(IllegalTransition):
        services.approve(ru, owner)
    assert ru.approved_at is None
    services.save_translation(appeal, "ru", VERSIONS["ru"] | {"title": "Немедленно освободить Рашада Алиева"}, owner)
    assert services.state(ru) == "draft" and ru.source_revision.number == 2
    services.approve(ru, owner)
    db.session.commit()
    assert services.state(ru) == "approved"
    content, is_translation, number = services.localized_content(appeal, "ru")
    assert is_translation and number == 2 and content["title"] == "Немедленно освободить Рашада Алиева"


def test_saving_an_approved_translation_needs_a_new_approval(app):
    appeal, owner = multilingual_appeal(("en",))
    en = services.translation_for(appeal, "en")
    services.save_translation(appeal, "en", VERSIONS["en"] | {"closing": "Sincerely"}, owner)
    assert services.state(en) == "draft" and "en" not in services.published_languages(appeal)


def test_localized_content_takes_translated_parts_and_keeps_the_rest(app):
    appeal, _ = multilingual_appeal(("hy",))
    content, is_translation, number = services.localized_content(appeal, "hy")
    assert is_translation and number == 1
    assert content["title"] == VERSIONS["hy"]["title"] and content["demands"] == VERSIONS["hy"]["demands"]
    assert content["addressees"] == ORIGINAL["addressees"]  # not translated: from the original
    assert services.localized_content(appeal, "az")[1] is False
    assert services.localized_content(appeal, "fr")[0]["title"] == ORIGINAL["title"]  # no French version


@pytest.mark.parametrize("lang, message", [("az", "original"), ("xx", "not a language"), ("ar", None)])
def test_refuses_bad_translations(app, lang, message):
    appeal, owner = multilingual_appeal(())
    content = VERSIONS["ar"] if message is None else VERSIONS["ru"]
    if message is None:
        content = content | {"body": "  "}
        message = "title and a text"
    with pytest.raises(services.TranslationError, match=message):
        services.save_translation(appeal, lang, content, owner)


def test_one_list_of_signatures_across_versions(app):
    from petitions.signing import operations as signing
    from petitions.signing.models import Signature

    appeal, _ = multilingual_appeal(("ru", "ar"))
    signing.sign(appeal, "Olga Smirnova", "", "olga@example.org", language="ru")
    signing.sign(appeal, "Leyla Haddad", "", "leyla@example.org", language="ar")
    db.session.commit()
    assert appeals.signature_counts([appeal.id])[appeal.id]["pending"] == 2  # one count for every version
    signatures = db.session.scalars(db.select(Signature).where(Signature.appeal_id == appeal.id))
    assert sorted(s.language for s in signatures) == ["ar", "ru"]


def login(client, email):
    client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})


def test_side_by_side_editor_saves_publishes_and_shows_what_changed(app, client):
    appeal, owner = multilingual_appeal(())
    login(client, owner.email)
    url = f"/organizer/appeals/{appeal.slug}/translations/ru"
    page = client.get(url).get_data(as_text=True)
    assert ORIGINAL["body"] in page and 'lang="az"' in page and 'name="body"' in page
    data = {"csrf_token": csrf_token(client, url), "title": VERSIONS["ru"]["title"], "subject": "",
            "body": VERSIONS["ru"]["body"], "demands": "Освободить его.\nРасследовать арест.", "closing": "",
            "save_approve": "1"}
    response = client.post(url, data=data)
    assert response.status_code == 303
    ru = services.translation_for(appeal, "ru")
    assert ru.content["demands"] == ["Освободить его.", "Расследовать арест."] and services.state(ru) == "approved"
    assert client.get(f"/a/{appeal.slug}/ru").get_data(as_text=True).count(VERSIONS["ru"]["title"]) >= 1

    amend(appeal, owner, body=ORIGINAL["body"] + " Yeni cümlə.")
    page = client.get(url).get_data(as_text=True)
    assert "outdated" in page and "<ins>" in page and "Yeni cümlə" in page
    listing = client.get(f"/organizer/appeals/{appeal.slug}/translations/").get_data(as_text=True)
    assert 'class="state outdated"' in listing


def test_editor_bad_input_and_permissions(app, client):
    appeal, owner = multilingual_appeal(())
    register_user("Outsider", "out@example.org", PASSWORD)
    db.session.commit()
    login(client, owner.email)
    url = f"/organizer/appeals/{appeal.slug}/translations/ru"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "title": "", "body": "", "save": "1"})
    assert response.status_code == 422 and services.translation_for(appeal, "ru") is None
    assert client.get(f"/organizer/appeals/{appeal.slug}/translations/zz").status_code == 404
    assert client.get(f"/organizer/appeals/{appeal.slug}/translations/az").status_code == 404  # the original
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "out@example.org")
    assert client.get(url).status_code == 404


def test_approval_is_a_state_move_of_the_translation(app):
    appeal, owner = multilingual_appeal(("ru",))
    ru = services.translation_for(appeal, "ru")
    with pytest.raises(IllegalTransition, match="already approved"):
        ru.approve(owner)
    ru.withdraw_approval()
    assert not ru.is_approved
    with pytest.raises(IllegalTransition, match="not approved"):
        ru.withdraw_approval()
    other = appeals.create_appeal(owner, {"title": "Other", "body": "Text."})
    with pytest.raises(IllegalTransition, match="own appeal"):
        ru.follow(ru.content, appeals.latest_revision(other))
