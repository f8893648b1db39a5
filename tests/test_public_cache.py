"""Public pages for many readers: shared copies with validators, the list a page at a time, the sign form apart."""
import logging
import re
import time
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import event, text

from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature, Visibility
from petitions.signing.rules import listed_signatures

from .conftest import csrf_token, new_appeal


def published():
    appeal = new_appeal(register_user("Owner", "owner@example.org", "a long password"), "Free the reporters",
                        "PACE", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    return appeal


@pytest.fixture
def appeal(app):
    return published()


def add(appeal, n: int, visibility=Visibility.PUBLIC, confirmed=True) -> Signature:
    signature = Signature(appeal=appeal, full_name=f"Signer Nümunə {n}", affiliation="Lawyer",
                          email_hash=f"{n:064d}", text_hash=appeal.content_hash, consent_at=utcnow(),
                          visibility=visibility)
    if confirmed:
        signature.confirm()
    db.session.add(signature)
    return signature


def login(client, email="owner@example.org", password="a long password"):
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_token(client, "/auth/login")})


SHARED = ["/", "/a/{slug}", "/a/{slug}/signatories", "/api/v1/appeals/{slug}", "/api/v1/appeals/{slug}/signatures"]


@pytest.mark.parametrize("path", SHARED)
def test_anonymous_readers_get_a_shared_copy_and_304_when_it_is_current(app, appeal, path):
    add(appeal, 1)
    db.session.commit()
    client = app.test_client()
    url = path.format(slug=appeal.slug)
    first = client.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=30"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "Set-Cookie" not in first.headers and "csrf_token" not in first.get_data(as_text=True)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data and again.headers["ETag"] == first.headers["ETag"]
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    add(appeal, 2)  # one more signature: every copy of these pages is out of date
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_a_change_to_a_listed_line_alone_changes_the_page(app, appeal):
    signature = add(appeal, 1)
    db.session.commit()
    client = app.test_client()
    before = client.get(f"/a/{appeal.slug}")
    signature.affiliation = "Journalist"  # same count, same text
    db.session.commit()
    after = client.get(f"/a/{appeal.slug}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and "Signer Nümunə 1 – Journalist" in re.sub(
        r"</?bdi[^>]*>", "", after.get_data(as_text=True))


def test_each_language_has_its_own_copy(app, appeal):
    client = app.test_client()
    english = client.get(f"/a/{appeal.slug}")
    russian = client.get(f"/a/{appeal.slug}?lang=ru")
    assert english.headers["ETag"] != russian.headers["ETag"]
    assert client.get(f"/a/{appeal.slug}?lang=ru", headers={"If-None-Match": english.headers["ETag"]}
                      ).status_code == 200
    assert "Accept-Language" in english.headers["Vary"]


def test_logged_in_organizers_get_a_private_fresh_page(app, appeal):
    client = app.test_client()
    login(client)
    page = client.get(f"/a/{appeal.slug}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in page.headers and "Log out" in page.get_data(as_text=True)


def test_the_sign_form_is_a_private_page_of_its_own(app, appeal):
    client = app.test_client()
    public = client.get(f"/a/{appeal.slug}?lang=ru").get_data(as_text=True)
    assert f'href="/a/{appeal.slug}/sign?lang=en"' in public  # no Russian version: the original is signed
    form = client.get(f"/a/{appeal.slug}/sign")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store" and "ETag" not in form.headers
    assert 'name="csrf_token"' in form.get_data(as_text=True) and "Set-Cookie" in form.headers
    refused = client.post(f"/a/{appeal.slug}/sign", data={"full_name": "", "email": "nope",
                                                          "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign")})
    assert refused.status_code == 422 and refused.headers["Cache-Control"] == "no-store"
    assert 'name="full_name"' in refused.get_data(as_text=True) and "Please correct" in refused.get_data(as_text=True)
    assert db.session.query(Signature).count() == 0


def test_a_closed_appeal_links_to_no_form(app, appeal):
    appeal.close()
    db.session.commit()
    client = app.test_client()
    assert f"/a/{appeal.slug}/sign" not in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    form = client.get(f"/a/{appeal.slug}/sign")
    assert form.status_code == 200 and 'name="full_name"' not in form.get_data(as_text=True)


@contextmanager
def appeal_signed(make_app, count: int, odd_one: int, visibility: Visibility, **config):
    """Yield an app and its appeal signed by `count` people, all public but the odd one."""
    app = make_app(**config)
    with app.app_context():
        appeal = published()
        for n in range(count):
            add(appeal, n, visibility=visibility if n == odd_one else Visibility.PUBLIC)
        db.session.commit()
        yield app, appeal
        db.session.remove()


def test_the_appeal_page_shows_the_newest_signatories_and_links_to_the_list(make_app):
    with appeal_signed(make_app, 6, 5, Visibility.ADDRESSEES, PUBLIC_LATEST_SIGNATORIES=3) as (app, appeal):
        html = re.sub(r"</?bdi[^>]*>", "", app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True))
        shown = re.findall(r"Signer Nümunə (\d)", html)
        assert shown == ["4", "3", "2"]  # newest first; number 5 is for the addressees only
        assert "6</strong> confirmed signatures" in html and "See all 5 listed signatories" in html
        assert f"/a/{appeal.slug}/signatories?lang=en" in html and "1 more signatory is counted" in html


def test_the_full_list_pages_through_every_listed_signatory_once(make_app):
    with appeal_signed(make_app, 8, 2, Visibility.ANONYMOUS, SIGNATORIES_PAGE_SIZE=3) as (app, appeal):
        client, url, seen, pages = app.test_client(), f"/a/{appeal.slug}/signatories?lang=ru", [], 0
        while url:
            page = client.get(url)
            assert page.status_code == 200 and page.headers["Content-Language"] == "en"
            html = re.sub(r"</?bdi[^>]*>", "", page.get_data(as_text=True))
            assert 'lang="ru"' in html  # the reader's interface language, the letter's title in the original
            seen += re.findall(r"<li[^>]*>([^<]+)</li>", html)
            found = re.search(r'<a rel="next" href="([^"]+)"', html)
            url = found.group(1).replace("&amp;", "&") if found else None
            pages += 1
        assert seen == [e.display_line for e in listed_signatures(appeal, "public_page")] and pages == 3


@pytest.mark.parametrize("after", ["x", "20260101T000000.000000", "20261399T000000.000000_4", "1" * 200])
def test_a_broken_cursor_is_a_clear_400(client, appeal, after):
    page = client.get(f"/a/{appeal.slug}/signatories", query_string={"after": after})
    assert page.status_code == 400 and "Start again from the first page" in page.get_data(as_text=True)


def test_rendered_pages_are_kept_in_this_process_by_their_etag(app, appeal):
    add(appeal, 1)
    db.session.commit()
    client = app.test_client()
    assert "Signer Nümunə 1" in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    # Written around every rule on purpose: nothing tells the page its list changed, so the kept copy is served.
    db.session.execute(text("UPDATE signatures SET full_name = 'Changed Behind'"))
    db.session.commit()
    assert "Signer Nümunə 1" in client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    add(appeal, 2)  # a change through the rules is a new key
    db.session.commit()
    assert "Changed Behind" in client.get(f"/a/{appeal.slug}").get_data(as_text=True)


def test_rendered_pages_are_shared_in_redis_and_an_outage_only_means_rendering(make_app, redis_server, caplog):
    redis.Redis.from_url(redis_server.url(3)).flushdb()
    app = make_app(PAGE_CACHE_URL=redis_server.url(3))
    with app.app_context():
        appeal = published()
        add(appeal, 1)
        db.session.commit()
        client = app.test_client()
        first = client.get(f"/a/{appeal.slug}")
        assert first.status_code == 200
        assert redis.Redis.from_url(redis_server.url(3)).exists(f"page:{first.headers['ETag'].strip(chr(34))}")
        other_worker = make_app(PAGE_CACHE_URL=redis_server.url(3)).test_client()  # its own database copy
        assert other_worker.get("/").status_code == 200
        redis_server.stop()
        try:
            with caplog.at_level(logging.WARNING, logger="petitions.cache"):
                add(appeal, 2)
                db.session.commit()
                page = client.get(f"/a/{appeal.slug}")
            assert page.status_code == 200 and "2</strong> confirmed signatures" in page.get_data(as_text=True)
            assert "page cache unavailable" in caplog.text
        finally:
            redis_server.start_again()
        db.session.remove()


def test_a_page_asked_for_with_an_unknown_query_is_answered_but_not_kept(make_app, redis_server):
    store = redis.Redis.from_url(redis_server.url(4))
    store.flushdb()
    app = make_app(PAGE_CACHE_URL=redis_server.url(4))
    with app.app_context():
        appeal = published()
        client = app.test_client()
        for n in range(5):  # a script busting the cache: each answer is right, none is stored
            assert client.get(f"/a/{appeal.slug}?x={n}").status_code == 200
        assert store.dbsize() == 0
        assert client.get(f"/a/{appeal.slug}?lang=en").status_code == 200
        assert store.dbsize() == 1  # the parameters the pages read are kept as before
        db.session.remove()
        db.engine.dispose()


def test_within_page_fresh_seconds_anonymous_readers_get_the_copy_without_a_query(make_app):
    app = make_app(PAGE_FRESH_SECONDS=0.5)
    with app.app_context():
        appeal = published()
        add(appeal, 1)
        db.session.commit()
        slug = appeal.slug
        reader = app.test_client()
        first = reader.get(f"/a/{slug}")
        assert first.status_code == 200 and first.headers["Cache-Control"].startswith("public")
        add(appeal, 2)
        db.session.commit()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            again = reader.get(f"/a/{slug}")
            revalidated = reader.get(f"/a/{slug}", headers={"If-None-Match": first.headers["ETag"]})
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert statements == []  # the wave's readers cost no query
        assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
        assert revalidated.status_code == 304
        assert "Signer Nümunə 2" not in again.get_data(as_text=True)
        assert "Signer Nümunə 2" in reader.get(f"/a/{slug}?x=1").get_data(as_text=True)  # not a kept query
        login(reader)
        assert "Signer Nümunə 2" in reader.get(f"/a/{slug}").get_data(as_text=True)  # organizers: fresh
        time.sleep(0.6)
        assert "Signer Nümunə 2" in app.test_client().get(f"/a/{slug}").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_a_recent_copy_answers_validators_as_the_checked_page_does(make_app):
    app = make_app(PAGE_FRESH_SECONDS=30)
    with app.app_context():
        appeal = published()
        slug = appeal.slug
        reader = app.test_client()
        first = reader.get(f"/a/{slug}")
        etag, stamp = first.headers["ETag"], first.headers["Last-Modified"]
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            weak = reader.get(f"/a/{slug}", headers={"If-None-Match": f"W/{etag}"})
            since = reader.get(f"/a/{slug}", headers={"If-Modified-Since": stamp})
            other = reader.get(f"/a/{slug}", headers={"If-None-Match": '"another"', "If-Modified-Since": stamp})
            older = reader.get(f"/a/{slug}", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert statements == []  # all four from the copy kept in this process
        # If-None-Match is compared weakly (RFC 9110 13.1.2); a 304 carries the validators and no body.
        assert weak.status_code == 304 and weak.headers["ETag"] == etag and weak.get_data() == b""
        assert weak.headers["Cache-Control"] == first.headers["Cache-Control"]
        assert since.status_code == 304 and since.headers["ETag"] == etag
        assert other.status_code == 200  # a sent If-None-Match decides alone, however recent the date
        assert older.status_code == 200 and older.get_data() == first.get_data()
        assert older.headers["ETag"] == etag and older.headers["Content-Language"] == first.headers["Content-Language"]
        assert older.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
        db.session.remove()
        db.engine.dispose()


def test_a_recent_copy_stays_in_the_process_while_pages_are_shared_in_redis(make_app, redis_server, caplog):
    store = redis.Redis.from_url(redis_server.url(5))
    store.flushdb()
    app = make_app(PAGE_CACHE_URL=redis_server.url(5), PAGE_FRESH_SECONDS=30)
    with app.app_context():
        appeal = published()
        reader = app.test_client()
        first = reader.get(f"/a/{appeal.slug}")
        assert first.status_code == 200
        assert [key.decode() for key in store.keys()] == [f"page:{first.headers['ETag'].strip(chr(34))}"]
        redis_server.stop()
        try:
            with caplog.at_level(logging.WARNING, logger="petitions.cache"):
                again = reader.get(f"/a/{appeal.slug}")
            # Served from this process's copy: Redis was not asked, so its outage went unnoticed.
            assert again.get_data() == first.get_data() and "page cache unavailable" not in caplog.text
        finally:
            redis_server.start_again()
        db.session.remove()
        db.engine.dispose()
