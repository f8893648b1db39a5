"""The embeddable widget: language and latest names, the 404 widget, the generator on the organizer page."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature, Visibility
from petitions.translations import services as translations

from .conftest import csrf_token, new_appeal


@pytest.fixture
def app(make_app):
    app = make_app(PUBLIC_URL="https://petitions.example.org")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def appeal(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free the reporters", "PACE", "We ask for their release.")
    appeal.signature_goal = 10
    appeal.publish()
    translation = translations.save_translation(appeal, "ru", {"title": "Освободите журналистов", "body": "Текст"},
                                                owner)
    translations.approve(translation, owner)
    for i, visibility in enumerate([Visibility.PUBLIC, Visibility.PUBLIC, Visibility.ANONYMOUS]):
        signature = Signature(appeal=appeal, full_name=f"Signer Nümunə {i}", email_hash=f"{i:064d}",
                              text_hash=appeal.content_hash, consent_at=utcnow(), visibility=visibility)
        signature.confirm()
        db.session.add(signature)
    db.session.commit()
    return appeal


def test_the_embed_shows_count_progress_and_may_be_framed(client, appeal):
    answer = client.get(f"/a/{appeal.slug}/embed")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "X-Frame-Options" not in answer.headers
    assert "<strong>3</strong> confirmed signatures" in page
    assert '<progress max="10" value="3"' in page and "30% of the goal of 10" in page
    assert "Signer Nümunə" not in page  # names only when asked for
    assert 'href="https://petitions.example.org/a/%s/en"' % appeal.slug in page


def test_the_embed_in_a_language_with_the_latest_names(client, appeal):
    page = client.get(f"/a/{appeal.slug}/embed?lang=ru&names=1").get_data(as_text=True)
    assert "<h1>Освободите журналистов</h1>" in page and '<html lang="ru"' in page
    assert "Signer Nümunə 1" in page and "Signer Nümunə 0" in page
    assert "Signer Nümunə 2" not in page  # anonymous: never named in public
    assert 'href="https://petitions.example.org/a/%s/ru"' % appeal.slug in page


def test_an_unknown_appeal_gets_a_small_404_widget(client, appeal):
    answer = client.get("/a/no-such-appeal/embed")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404 and "This appeal does not exist (any more)." in page
    assert "X-Frame-Options" not in answer.headers  # it is shown inside the partner's page
    assert "<header" not in page and len(page) < 2000


def login(client):
    client.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                     "csrf_token": csrf_token(client, "/auth/login")})


def snippet(page: str) -> str:
    return unescape(re.search(r'<pre class="embed-code"><code>(.*?)</code></pre>', page, re.S).group(1))


def test_the_generator_makes_the_iframe_code_without_js(client, appeal):
    login(client)
    code = snippet(client.get(f"/organizer/appeals/{appeal.slug}").get_data(as_text=True))
    src = re.search(r'src="([^"]+)"', code).group(1)
    assert src == f"https://petitions.example.org/a/{appeal.slug}/embed?lang=en"
    assert 'width="360" height="220"' in code
    page = client.get(f"/organizer/appeals/{appeal.slug}?embed_width=500&embed_height=300&embed_lang=ru"
                      "&embed_names=1").get_data(as_text=True)
    code = snippet(page)
    src = urlsplit(unescape(re.search(r'src="([^"]+)"', code).group(1)))
    assert parse_qs(src.query) == {"lang": ["ru"], "names": ["1"]} and 'width="500" height="300"' in code
    assert client.get(src.path + "?" + src.query).status_code == 200
    assert 'name="embed_names" value="1" checked' in page


@pytest.mark.parametrize("query", ["embed_width=5&embed_height=99999", "embed_width=abc&embed_height=-3",
                                   "embed_lang=xx&embed_width=%F0", 'embed_lang="><script>'])
def test_the_generator_keeps_its_choices_within_bounds(client, appeal, query):
    login(client)
    answer = client.get(f"/organizer/appeals/{appeal.slug}?{query}")
    assert answer.status_code == 200
    code = snippet(answer.get_data(as_text=True))
    assert re.fullmatch(r'<iframe src="https://petitions\.example\.org/a/[\w-]+/embed\?lang=en" width="360" '
                        r'height="220" style="border:0" loading="lazy" referrerpolicy="no-referrer"></iframe>', code)
