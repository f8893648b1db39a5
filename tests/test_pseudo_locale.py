"""Nothing user-facing is left out of the catalogs: the pseudo-locale crawl (issue 13, point 4).

A catalog generated from the marked strings, every message as ⟦msgid⟧ (`tests/pseudo_locale.py`), is compiled at
test time and chosen as the interface language. Then every GET route of `app.url_map` (public and organizer,
anonymous and logged in as the owner, every parameter given a real value by `tests/security/_seed.py`), every
kind of mail (as `tests/test_mail_subjects.py` makes them) and the PDF's own words must show no word outside ⟦…⟧
that is not people's content, locale data (dates, language names, numbers) or a technical value.

To make a new template pass: put its words through `_()`/`ngettext()` (Python: `_l`), or, for text that is content
the site did not write (a sample, a literal value), mark its element with `data-user`; see tests/pseudo_locale.py.
"""
import re

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import OutboxMessage

from . import pseudo_locale
from .conftest import csrf_token, fresh_requests, message_text
from .pdf_files import rendered_pdf
from .security import _seed
from .security.conftest import build_world, login
from .test_mail_subjects import SUBJECTS, send_every_kind
from .test_pdf import pdf_text

# Routes whose answers are not pages of words: files, fonts, JSON, redirects only.
NOT_PAGES = {"static", "fonts.font", "language.choose"}
# Tables whose text is the site's own bookkeeping, not people's content (it must not excuse a word).
NOT_CONTENT = {"audit_events", "jobs", "outbox_messages", "pdf_jobs", "alembic_version"}


@pytest.fixture(scope="module")
def pseudo_dir(tmp_path_factory):
    return pseudo_locale.build_catalog(tmp_path_factory.mktemp("pseudo-catalog"))


def pseudo_config(folder, only=False) -> dict:
    """Settings that make the pseudo-locale an interface language (the only one, for mail outside requests)."""
    languages = [pseudo_locale.PSEUDO] if only else ["en", "fr", "de", "ru", "az", "tr", "hy", pseudo_locale.PSEUDO]
    return {"LANGUAGES": languages, "BABEL_TRANSLATION_DIRECTORIES": f"i18n_catalogs;{folder}",
            **({"BABEL_DEFAULT_LOCALE": pseudo_locale.PSEUDO} if only else {})}


def content_words() -> set[str]:
    """Return every word people typed into the database (appeals, letters, names, organizations...)."""
    found: set[str] = set()
    db.session.expire_all()
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in NOT_CONTENT:
                continue
            for row in connection.execute(select(table)):
                found |= pseudo_locale.words_of([v for v in row if isinstance(v, (str, dict, list))])
    return found


@pytest.fixture(scope="module")
def crawl(tmp_path_factory, migrated_db, pseudo_dir):
    app = _seed.module_app(tmp_path_factory, migrated_db, "pseudo", **pseudo_config(pseudo_dir))
    with app.app_context():
        world = build_world()
        data = _seed.enrich(world.appeal, world.owner, world.editor, "a", render_pdf=True)
        allowed = content_words() | pseudo_locale.locale_words()
        owner_email = world.owner.email
        db.session.remove()
    fresh_requests(app)
    yield app, data, allowed, owner_email


def _clients(app, owner_email):
    anonymous, owner = app.test_client(), app.test_client()
    assert login(owner, owner_email).status_code in (302, 303)
    for client in (anonymous, owner):
        client.set_cookie("ui_lang", pseudo_locale.PSEUDO)
    return {"anonymous": anonymous, "owner": owner}


def test_the_pseudo_catalog_is_used(crawl):
    app, data, allowed, owner_email = crawl
    page = _clients(app, owner_email)["anonymous"].get("/").get_data(as_text=True)
    assert "⟦Petitions⟧" in page
    # The check itself finds a word that did not come through the catalog.
    assert pseudo_locale.untranslated("<p>⟦Sign⟧ <b>⟦as ⟦editor⟧⟧</b> Withdraw</p>", allowed) == [
        "'Withdraw' in …Withdraw…"]


def test_every_page_is_translatable(crawl):
    app, data, allowed, owner_email = crawl
    clients = _clients(app, owner_email)
    problems, pages = {}, 0
    for rule, _method in _seed.route_rules(app, {"GET"}):
        if rule.endpoint in NOT_PAGES or rule.endpoint.startswith("api_v1."):
            continue
        for url in _seed.fill(rule, data):
            for who, client in clients.items():
                response = client.get(url)
                if response.mimetype != "text/html" or response.status_code in (301, 302, 303, 304):
                    continue
                pages += 1
                found = pseudo_locale.untranslated(response.get_data(as_text=True), allowed)
                if found:
                    problems[f"{who} GET {url} ({response.status_code})"] = found
    assert pages > 60
    assert not problems, "\n".join(f"{url}:\n  " + "\n  ".join(found) for url, found in problems.items())


def test_every_mail_kind_is_translatable(make_app, smtp_server, pseudo_dir):
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, **pseudo_config(pseudo_dir, only=True))
    with app.app_context():
        title = "Azadlıq jurnalistlərə"
        send_every_kind(title)
        sending.wait_idle(app)
        kinds = dict(db.session.execute(select(OutboxMessage.message_id, OutboxMessage.kind)).all())
        allowed = (content_words() | pseudo_locale.locale_words()
                   | pseudo_locale.words_of(["Dear Secretary-General, Please read the attached letter.",
                                             "This domain is ours.", "Noted.", "bar-association.example"]))
        received = sink.wait_for(len(kinds))
        seen, problems = set(), {}
        for msg in received:
            kind = kinds[msg["Message-ID"]]
            seen.add(kind)
            subject = str(msg["Subject"])
            # The cover letter's subject is the appeal's title: people's content, nothing to translate.
            assert kind == "cover" or pseudo_locale.OPEN in subject, (kind, subject)
            # A message spans lines: the whole text at once, so ⟦ and ⟧ on different lines pair up.
            words = pseudo_locale.leftover(subject + "\n" + message_text(msg), allowed)
            if words:
                problems.setdefault(kind, set()).update(words)
        db.session.remove()
    assert seen == set(SUBJECTS)
    assert not problems, problems


def _glued(word: str, allowed: set[str]) -> bool:
    word = word.casefold()
    return any(word[:i] in allowed and word[i:] in allowed for i in range(1, len(word)))


def test_the_pdf_words_come_from_the_catalog(make_app, pseudo_dir):
    # The PDF takes its own words (headings, annex, legend, page stamps) from the interface catalog of the
    # document's language; with the pseudo-locale as the only interface language, every one is wrapped.
    app = make_app(**pseudo_config(pseudo_dir, only=True))
    with app.app_context():
        world = build_world()
        _seed.enrich(world.appeal, world.owner, world.editor, "a")
        texts = {audience: pdf_text(rendered_pdf(world.appeal, audience)) for audience in ("addressees", "public")}
        # After rendering: the document's id is printed in it. The letter's date is in the letter's language
        # (English here): its month names are locale data too.
        allowed = content_words() | pseudo_locale.locale_words() | pseudo_locale.locale_words("en")
        problems = {}
        for audience, text in texts.items():
            # Text extraction reads the bold face's ⟧ back as ⟦ at the end of a heading (its ToUnicode map),
            # so a line's last mark closes; and it glues the running title to the coalition's name.
            text = re.sub(f"{pseudo_locale.OPEN}$", pseudo_locale.CLOSE, text, flags=re.M)
            problems[audience] = [w for w in pseudo_locale.leftover(text, allowed) if not _glued(w, allowed)]
        db.session.remove()
    assert pseudo_locale.OPEN in text
    assert not any(problems.values()), problems


# Pages shown after a POST, or only when something goes wrong: the GET crawl above never reaches them.

@pytest.fixture
def pseudo_app(make_app, pseudo_dir):
    app = make_app(**pseudo_config(pseudo_dir))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _pseudo_client(app):
    client = app.test_client()
    client.set_cookie("ui_lang", pseudo_locale.PSEUDO)
    return client


def _assert_translated(response, allowed, status=200):
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert pseudo_locale.OPEN in page
    found = pseudo_locale.untranslated(page, allowed)
    assert not found, "\n".join(found)
    return page


def _delivered_signer():
    """An appeal delivered to its addressees with one public, counted signature; return it and its link."""
    from petitions import crypto
    from petitions.auth.services import register_user
    from petitions.extensions import utcnow
    from petitions.privacy import selfservice
    from petitions.signing.models import Signature, Visibility

    from .conftest import new_appeal

    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free the reporters", "Council of Europe", "We ask.")
    appeal.publish()
    email = "leyla@example.org"
    signature = Signature(appeal=appeal, full_name="Leyla Məmmədova", affiliation="Editor", country="Azerbaijan",
                          email_hash=crypto.email_hash(email), email_encrypted=crypto.encrypt(email),
                          text_hash=appeal.content_hash, consent_at=utcnow(), visibility=Visibility.PUBLIC)
    signature.confirm()
    db.session.add(signature)
    db.session.flush()
    appeal.close()
    appeal.mark_delivered()
    db.session.commit()
    assert selfservice.in_delivered_letter(signature)
    return signature, f"/privacy/my-data/{selfservice.make_token(signature.email_hash)}"


def _correct_data(signature, token, **changes) -> dict:
    fields = {"full_name": signature.full_name, "affiliation": signature.affiliation, "country": signature.country,
              "visibility": signature.visibility.value, "kind": signature.kind.value, **changes}
    return {f"s{signature.id}-{k}": v for k, v in {"csrf_token": token, **fields}.items()}


def test_self_service_results_are_translatable(pseudo_app):
    signature, link = _delivered_signer()
    allowed = content_words() | pseudo_locale.locale_words()
    client = _pseudo_client(pseudo_app)
    token = csrf_token(client, "/privacy/my-data")  # one token per session, whatever the form

    same = client.post(f"{link}/{signature.id}/correct", data=_correct_data(signature, token))
    assert "⟦Nothing changed⟧" in _assert_translated(same, allowed)
    saved = client.post(f"{link}/{signature.id}/correct",
                        data=_correct_data(signature, token, full_name="Leyla M."))
    page = _assert_translated(saved, allowed | pseudo_locale.words_of(["Leyla M."]))
    assert "⟦Saved⟧" in page and "keeps the earlier wording" in page

    erased = client.post(f"{link}/{signature.id}/erase", data={"understood": "y", "csrf_token": token})
    page = _assert_translated(erased, allowed)
    assert "⟦Erased⟧" in page and "cannot be recalled" in page and "outside our control" in page
    assert "⟦name⟧" in page and "⟦e-mail address⟧" in page


def test_bad_and_expired_self_service_links_are_translatable(pseudo_app):
    signature, link = _delivered_signer()
    allowed = content_words() | pseudo_locale.locale_words()
    client = _pseudo_client(pseudo_app)
    token = csrf_token(client, "/privacy/my-data")
    page = _assert_translated(client.get(link[:-4] + "AAAA"), allowed, 400)
    assert "⟦This link does not work⟧" in page
    _assert_translated(client.post(f"{link[:-4]}AAAA/{signature.id}/erase",
                                   data={"understood": "y", "csrf_token": token}), allowed, 400)
    pseudo_app.config["SELF_SERVICE_TOKEN_MAX_AGE"] = -1
    page = _assert_translated(client.get(link), allowed, 410)
    assert "Sign again" not in page


def test_verify_errors_are_translatable(pseudo_app, monkeypatch):
    import io

    from petitions.pdf.forms import VerifyForm

    allowed = content_words() | pseudo_locale.locale_words()
    client = _pseudo_client(pseudo_app)

    def upload(data: bytes):
        token = csrf_token(client, "/verify/")
        return client.post("/verify/", data={"csrf_token": token, "file": (io.BytesIO(data), "letter.pdf")},
                           content_type="multipart/form-data")

    assert "⟦Choose a PDF file to check.⟧" in _assert_translated(upload(b""), allowed, 400)
    assert "⟦This file is not a PDF.⟧" in _assert_translated(upload(b"GIF89a not a pdf"), allowed, 422)
    monkeypatch.setattr(VerifyForm, "validate_on_submit", lambda self: False)
    _assert_translated(upload(b"%PDF-1.7"), allowed, 400)


def test_a_failed_render_is_translatable(pseudo_app, tmp_path):
    # The organizer's download renders here and fails (a plain file stands where the chunk cache goes): the
    # error page, then the status page that shows the error the job row stored.
    from .security.conftest import PASSWORD

    world = build_world()
    _seed.enrich(world.appeal, world.owner, world.editor, "a")
    allowed = content_words() | pseudo_locale.locale_words()
    email, slug = world.owner.email, world.appeal.slug
    db.session.commit()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    pseudo_app.config["PDF_CACHE_DIR"] = str(blocker / "cache")
    client = _pseudo_client(pseudo_app)
    assert login(client, email, PASSWORD).status_code in (302, 303)
    page = _assert_translated(client.get(f"/organizer/appeals/{slug}/pdf"),
                              allowed | pseudo_locale.words_of(["Not a directory", "Errno"]), 503)
    assert "⟦PDF not generated⟧" in page and "⟦The PDF could not be written" in page
    page = _assert_translated(client.get(f"/organizer/appeals/{slug}/pdf/status"),
                              allowed | pseudo_locale.words_of(["Not a directory", "Errno"]))
    assert "⟦The last render failed" in page
