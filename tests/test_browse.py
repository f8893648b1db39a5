"""The front page: open appeals by default, search in titles and texts, language and status filters, pages."""
import re

import pytest

from petitions.appeals.models import AppealStatus
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.translations import services as translations

from .conftest import new_appeal


@pytest.fixture
def owner(app):
    return register_user("Owner", "owner@example.org", "a long password")


def published(owner, title, body="We ask for their release.", language="en", goal=None):
    appeal = new_appeal(owner, title, "PACE", body)
    appeal.original_language, appeal.signature_goal = language, goal
    appeal.publish()
    db.session.commit()
    return appeal


def titles(answer) -> list[str]:
    assert answer.status_code == 200, answer.status_code
    return re.findall(r'<li class="card">\s*<h2><a href="[^"]+">([^<]+)</a>', answer.get_data(as_text=True))


def test_open_appeals_by_default_newest_first(client, owner):
    published(owner, "First")
    published(owner, "Second")
    closed = published(owner, "Closed one")
    closed.close()
    db.session.commit()
    assert titles(client.get("/")) == ["Second", "First"]
    assert titles(client.get("/?status=closed")) == ["Closed one"]
    assert titles(client.get("/?status=delivered")) == []
    assert titles(client.get("/?status=draft")) == ["Second", "First"]  # not a public status: the default


def test_search_in_title_and_text_any_unicode(client, owner):
    published(owner, "Освободите журналистов", body="Письмо в Совет Европы.")
    published(owner, "Free Nərmin Qasımlı", body="A letter about 100% of the cases_2026.")
    published(owner, "أطلقوا سراح الصحفيين", body="نص الرسالة")
    assert titles(client.get("/?q=Nərmin")) == ["Free Nərmin Qasımlı"]
    assert titles(client.get("/?q=Совет")) == ["Освободите журналистов"]  # in the text
    assert titles(client.get("/?q=سراح")) == ["أطلقوا سراح الصحفيين"]
    assert titles(client.get("/?q=free")) == ["Free Nərmin Qasımlı"]  # case does not matter (ASCII at least)
    # LIKE's wildcards are searched for as themselves
    assert titles(client.get("/?q=100%25")) == ["Free Nərmin Qasımlı"]
    assert titles(client.get("/?q=%25")) == ["Free Nərmin Qasımlı"]
    assert titles(client.get("/?q=_")) == ["Free Nərmin Qasımlı"]
    assert titles(client.get("/?q=s_2026")) == ["Free Nərmin Qasımlı"]
    assert titles(client.get("/?q=e_s")) == []
    assert "No appeal matches your search." in client.get("/?q=nothing-like-this").get_data(as_text=True)


@pytest.mark.parametrize("q", ["", " ", "🙂" * 50, "\u202e\u0301", "'; DROP TABLE appeals; --",
                               "x" * 10_000, "Ə" * 10_000, "\\", "%%%%", "\ud7ff"])
def test_any_search_is_a_result_page(client, owner, q):
    published(owner, "Free the reporters")
    answer = client.get("/", query_string={"q": q})
    assert answer.status_code == 200
    if len(q) > 200:
        assert "only its first 200 characters were searched for" in answer.get_data(as_text=True)
        assert f'value="{q[:200]}"' in answer.get_data(as_text=True)


def test_bad_bytes_in_the_query_string_are_a_result_page(client, owner):
    published(owner, "Free the reporters")
    assert titles(client.get("/?q=%FF%FE&page=%F0&language=%C3&status=%E2%82")) == []
    assert titles(client.get("/?q=&page=%F0&language=%C3&status=%E2%82")) == ["Free the reporters"]


def test_nul_in_a_search_is_refused_with_a_message(client, owner):
    published(owner, "Free the reporters")
    answer = client.get("/", query_string={"q": "a\x00b"})  # the app's rule for every query (petitions/http.py)
    assert answer.status_code == 400 and "NUL" in answer.get_data(as_text=True)


def test_language_filter_original_or_published_translation(client, owner):
    published(owner, "English only")
    russian = published(owner, "Русский оригинал", language="ru")
    translated = published(owner, "Translated to Russian")
    draft_translation = published(owner, "Translation not approved")
    done = translations.save_translation(translated, "ru", {"title": "Переведено", "body": "Текст"}, owner)
    translations.approve(done, owner)
    translations.save_translation(draft_translation, "ru", {"title": "Черновик", "body": "Текст"}, owner)
    db.session.commit()
    assert titles(client.get("/?language=ru")) == ["Translated to Russian", russian.title]
    assert titles(client.get("/?language=en")) == ["Translation not approved", "Translated to Russian",
                                                  "English only"]
    assert titles(client.get("/?language=xx")) == titles(client.get("/"))  # unknown: no filter


def test_pages_are_bounded(make_app):
    app = make_app(BROWSE_PAGE_SIZE=2)
    with app.app_context():
        owner = register_user("Owner", "owner@example.org", "a long password")
        for n in range(5):
            published(owner, f"Appeal {n}")
        client = app.test_client()
        first = client.get("/")
        assert titles(first) == ["Appeal 4", "Appeal 3"]
        page = first.get_data(as_text=True)
        assert 'rel="next" href="/?page=2"' in page and 'rel="prev"' not in page
        assert titles(client.get("/?page=2")) == ["Appeal 2", "Appeal 1"]
        last = client.get("/?page=3")
        assert titles(last) == ["Appeal 0"] and 'rel="next"' not in last.get_data(as_text=True)
        assert 'rel="prev" href="/?page=2"' in last.get_data(as_text=True)
        for odd in ("0", "-1", "abc", "٣", "99999999999999999999999", "501"):
            assert titles(client.get(f"/?page={odd}")) == ["Appeal 4", "Appeal 3"]
        assert titles(client.get("/?page=9")) == []
        kept = client.get("/?q=Appeal&status=open&page=2").get_data(as_text=True)
        assert 'href="/?page=3&amp;q=Appeal"' in kept or 'href="/?q=Appeal&amp;page=3"' in kept
        db.session.remove()
        db.engine.dispose()


def test_cards_show_count_and_progress(client, owner):
    appeal = published(owner, "With a goal", goal=40)
    appeal.signature_count = 10
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "10 confirmed signatures" in page
    assert '<progress max="40" value="10" aria-label="Progress towards the goal">25%</progress>' in page
    assert "25% of the goal of 40" in page


def test_the_front_page_changes_with_the_filters(client, owner):
    published(owner, "Free the reporters")
    etags = {client.get(url).headers["ETag"] for url in ("/", "/?q=free", "/?status=closed", "/?language=ru")}
    assert len(etags) == 4
    assert AppealStatus.OPEN.value == "open"
