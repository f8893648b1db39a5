"""The public appeal page: goal and progress, deadline, addressees, share links, meta tags, the Mastodon page."""
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from petitions.appeals import services
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature

from .browser import chromium, live_server
from .conftest import csrf_token, new_appeal
from .i18n_data import multilingual_appeal

TITLE = "Free Nərmin & the reporters?"


@pytest.fixture
def app(make_app):
    app = make_app(PUBLIC_URL="https://petitions.example.org")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def published(title=TITLE, goal=None, deadline_days=None, **content):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = services.create_appeal(owner, {
        "title": title, "body": "We ask for **their** release.\n\nNow.",
        "addressees": [{"name": "Secretary General", "institution": "Council of Europe"},
                       {"name": "Committee of Ministers"}, {"postal_address": "Nowhere"}], **content})
    appeal.signature_goal = goal
    if deadline_days is not None:
        appeal.deadline = utcnow().replace(hour=23, minute=59, second=59, microsecond=0) + timedelta(days=deadline_days)
    appeal.publish()
    db.session.commit()
    return appeal


def sign(appeal, n):
    for i in range(n):
        signature = Signature(appeal=appeal, full_name=f"Signer {i}", email_hash=f"{i:064d}",
                              text_hash=appeal.content_hash, consent_at=utcnow())
        signature.confirm()
        db.session.add(signature)
    db.session.commit()


def meta(page: str) -> dict[str, str]:
    found = {}
    for attr, name, value in re.findall(r'<meta (property|name)="([^"]+)" content="([^"]*)"', page):
        found.setdefault(name, unescape(value))
    return found


def test_meta_tags_are_absolute_on_public_url_with_the_share_image(app):
    appeal = published()
    page = app.test_client().get(f"/a/{appeal.slug}", base_url="http://evil.example").get_data(as_text=True)
    tags = meta(page)
    canonical = f"https://petitions.example.org/a/{appeal.slug}/en"
    assert f'<link rel="canonical" href="{canonical}">' in page
    assert tags["og:url"] == canonical and tags["og:title"] == TITLE and tags["twitter:title"] == TITLE
    assert tags["og:description"] == "We ask for their release. Now." == tags["twitter:description"]
    assert tags["og:locale"] == "en_US" and tags["og:type"] == "website"
    assert tags["twitter:card"] == "summary_large_image"
    image = urlsplit(tags["og:image"])
    assert (image.scheme, image.netloc, image.path) == ("https", "petitions.example.org", f"/a/{appeal.slug}/share.png")
    assert parse_qs(image.query)["lang"] == ["en"] and tags["twitter:image"] == tags["og:image"]
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert "evil.example" not in page


def test_progress_towards_the_goal_has_a_text_equivalent(app):
    appeal = published(goal=8)
    sign(appeal, 3)
    page = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    glance = page[page.index('<section class="glance"'):page.index("</section>", page.index('<section class="glance"'))]
    assert '<progress id="goal-progress" max="8" value="3">37%</progress>' in glance
    assert "3 of 8 signatures (37% of the goal)" in glance  # down, not up: 37.5% is not yet 38%
    assert page.count("<progress") == 1  # the sign box beside it does not repeat the count
    form = app.test_client().get(f"/a/{appeal.slug}/sign").get_data(as_text=True)
    assert '<label for="sign-goal-progress">3 of 8 signatures (37% of the goal)</label>' in form
    assert form.count("<progress") == 1 and 'id="sign-goal-progress"' in form


def test_progress_never_passes_the_bar(app):
    appeal = published(goal=2)
    sign(appeal, 3)
    page = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert '<progress id="goal-progress" max="2" value="2">150%</progress>' in page


def test_deadline_shows_the_days_left_and_addressees_at_a_glance(app):
    appeal = published(deadline_days=3)
    page = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "3 days left." in page and "Signing closes on" in page
    assert re.search(r"Addressed to:\s*<span[^>]*><bdi dir=\"ltr\">Secretary General</bdi>, "
                     r"<bdi dir=\"ltr\">Council of Europe</bdi>; <bdi dir=\"ltr\">Committee of Ministers</bdi>", page)


def test_an_untranslated_addressee_at_a_glance_is_marked_in_the_original_s_language(app):
    appeal, _ = multilingual_appeal(("ru",))
    page = app.test_client().get(f"/a/{appeal.slug}/ru").get_data(as_text=True)
    glance = re.search(r'<p class="glance-addressees">.*?</p>', page, re.S).group(0)
    assert '<bdi lang="az" dir="ltr">Avropa Şurası Nazirlər Komitəsi</bdi>' in glance


def test_last_day_and_a_new_day_makes_a_new_etag(app):
    appeal = published(deadline_days=0)
    client = app.test_client()
    first = client.get(f"/a/{appeal.slug}")
    assert "Today is the last day." in first.get_data(as_text=True)
    appeal.deadline = appeal.deadline + timedelta(days=1)  # as if a day passed: "1 day left" becomes today's page
    db.session.commit()
    second = client.get(f"/a/{appeal.slug}")
    assert "1 day left." in second.get_data(as_text=True) and second.headers["ETag"] != first.headers["ETag"]


def test_share_links_are_url_encoded_plain_links(app):
    appeal = published()
    page = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    url = f"https://petitions.example.org/a/{appeal.slug}/en"
    links = {cls: unescape(href) for cls, href in re.findall(r'<a class="share-(\w+)" href="([^"]+)"', page)}
    assert set(links) == {"email", "telegram", "whatsapp", "signal", "x", "facebook", "bluesky", "mastodon"}
    assert links["email"] == f"mailto:?subject={quote(TITLE)}&body={quote(TITLE + chr(10) * 2 + url)}"
    assert links["telegram"] == f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(TITLE, safe='')}"
    assert parse_qs(urlsplit(links["whatsapp"]).query) == {"text": [f"{TITLE} {url}"]}
    assert parse_qs(urlsplit(links["x"]).query) == {"text": [TITLE], "url": [url]}
    assert parse_qs(urlsplit(links["facebook"]).query) == {"u": [url]}
    assert parse_qs(urlsplit(links["bluesky"]).query) == {"text": [f"{TITLE} {url}"]}
    for service in ("telegram", "whatsapp", "x", "facebook", "bluesky"):
        assert " " not in links[service] and "&t" not in links[service].split("?", 1)[1].replace("&text=", "")
    assert links["signal"] == "#share-url" and links["mastodon"] == f"/a/{appeal.slug}/share?lang=en#mastodon"
    assert f'<input type="text" id="share-url" class="share-url" readonly value="{url}"' in page
    assert '<button type="button" class="copy" data-copy="share-url" hidden>' in page
    assert "<script" not in page.replace('<script src="/static/share.js" defer></script>', "")


def test_print_stylesheet_hides_sharing_and_signing(app):
    appeal = published()
    page = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/print.css">' in page
    css = app.test_client().get("/static/print.css").get_data(as_text=True)
    rule = css[css.index("@media print"):]
    assert "aside.sign" in rule and "section.share" in rule and "display: none" in rule


def mastodon_post(client, appeal, instance):
    token = csrf_token(client, f"/a/{appeal.slug}/share")
    return client.post(f"/a/{appeal.slug}/share", data={"instance": instance, "csrf_token": token})


@pytest.mark.parametrize("typed, host", [("mastodon.social", "mastodon.social"),
                                         ("https://Mastodon.Social/", "mastodon.social"),
                                         ("@me@fosstodon.org", "fosstodon.org"),
                                         ("мастодон.рф", "xn--80aiwgdbsi.xn--p1ai")])
def test_mastodon_share_goes_to_the_instance_share_page(app, typed, host):
    appeal = published()
    answer = mastodon_post(app.test_client(), appeal, typed)
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", host, "/share")
    assert parse_qs(target.query) == {"text": [f"{TITLE} https://petitions.example.org/a/{appeal.slug}/en"]}


@pytest.mark.parametrize("typed", ["evil.example/phish", "evil.example:8080", "127.0.0.1", "user@evil.example",
                                   "//evil.example", "javascript:alert(1)", "localhost", "evil.example?x=1",
                                   "a" * 300, "exa mple.org", "\u202eevil.example", ""])
def test_mastodon_share_refuses_what_is_not_a_domain_name(app, typed):
    appeal = published()
    answer = mastodon_post(app.test_client(), appeal, typed)
    assert answer.status_code == 422 and "Location" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-store"
    if typed:
        assert "Type the name of your instance" in answer.get_data(as_text=True)


def test_mastodon_share_needs_the_csrf_token(app):
    appeal = published()
    answer = app.test_client().post(f"/a/{appeal.slug}/share", data={"instance": "mastodon.social"})
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_share_page_lists_every_way_and_is_not_found_for_a_draft(app):
    appeal = published()
    client = app.test_client()
    page = client.get(f"/a/{appeal.slug}/share")
    assert page.status_code == 200 and 'id="mastodon"' in page.get_data(as_text=True)
    assert 'class="share-telegram"' in page.get_data(as_text=True)
    draft = new_appeal(appeal.owner, "Draft", body="Not yet.")
    db.session.commit()
    assert client.get(f"/a/{draft.slug}/share").status_code == 404
    assert client.get(f"/a/{draft.slug}/share.png").status_code == 404


@pytest.fixture
def site(make_app):
    app = make_app()
    with app.app_context():
        appeal = published(goal=10)
        slug = appeal.slug
        db.session.remove()
    yield app, slug
    with app.app_context():
        db.engine.dispose()


@pytest.mark.e2e
def test_in_chromium_without_js_the_link_is_there_and_mastodon_works(site):
    app, slug = site
    with live_server(app) as base, chromium(java_script_enabled=False) as context:
        page = context.new_page()
        page.goto(f"{base}/a/{slug}")
        assert page.input_value("#share-url") == f"{base}/a/{slug}/en"
        assert not page.is_visible("button.copy")  # a button that could do nothing without JS stays hidden
        assert page.get_attribute("#goal-progress", "value") == "0"
        page.route("https://mastodon.social/**", lambda route: route.fulfill(body="instance"))  # never the network
        page.click("a.share-mastodon")
        page.fill("#instance", "mastodon.social")
        # The page's policy lets this one form lead to an https instance (form-action holds redirects too).
        with page.expect_request("https://mastodon.social/**") as shared:
            page.click("#submit")
        assert parse_qs(urlsplit(shared.value.url).query)["text"] == [f"{TITLE} {base}/a/{slug}/en"]


@pytest.mark.e2e
def test_in_chromium_copy_link_copies_the_address(site):
    app, slug = site
    with live_server(app) as base, chromium() as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(exc))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(f"{base}/a/{slug}")
        page.click("button.copy")
        page.wait_for_function("document.querySelector('.copy-status').textContent.length > 0")
        assert page.inner_text(".copy-status") == "Link copied"
        assert page.evaluate("navigator.clipboard.readText()") == f"{base}/a/{slug}/en"
        assert not errors  # the CSP let the self-hosted script run
