"""Threat: a CR/LF, NUL or direction override typed into a letter field reaches mail headers.

Both ends are tried: the letter form and services refuse such characters in single-line fields (422 with a
message), and every mail the app builds has safe headers even when a poisoned title is already stored.
"""
import email
import email.policy
import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from petitions.members import services as members
from petitions.appeals import services
from petitions.appeals.models import Appeal
from petitions.members.models import Role
from petitions.extensions import db
from petitions.mail import outbox, sending
from petitions.privacy import selfservice
from petitions.signatories import importing
from petitions.signing import operations as signing

from ..conftest import ON_POSTGRES, csrf_token, new_appeal

INJECTED = "\r\nBcc: evil@attacker.example\r\nX-Injected: yes"
# (what an attacker stores as the title, what the reader must see of it in a subject)
POISONED_TITLES = [
    ("Free the journalists" + INJECTED, "Free the journalists Bcc: evil@attacker.example X-Injected: yes"),
    ("Free the journalists\nBcc: evil@attacker.example", "Free the journalists Bcc: evil@attacker.example"),
    ("Free the journalists\rBcc: evil@attacker.example", "Free the journalists Bcc: evil@attacker.example"),
    pytest.param("Free the\x00 journalists", "Free the  journalists",
                 marks=pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL cannot store a NUL in text at all")),
    ("Free the \u202estsilanruoj", "Free the stsilanruoj"),
    ("Free the \u2066journalists\u2069\u200b", "Free the journalists"),
    ("Free the journalists\u2028Bcc: evil@attacker.example", "Free the journalists Bcc: evil@attacker.example"),
    ("Free the journalists\x85\x1b[31m", "Free the journalists [31m"),
]
HEADER_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b\ufeff]")
ALLOWED_HEADERS = {"content-type", "mime-version", "content-transfer-encoding", "subject", "from", "to", "date",
                   "message-id"}
NON_ASCII_TITLES = [
    "Jurnalistləri dərhal azad edin: Xədicə İsmayılova, Sevinc Vaqifqızı və Ülvi Həsənli üçün ədalət",
    "Освободите журналистов немедленно: свобода слова не преступление, а право каждого человека",
    "Ազատե՛ք լրագրողներին անհապաղ․ խոսքի ազատությունը հանցագործություն չէ",
    "გაათავისუფლეთ ჟურნალისტები დაუყოვნებლივ: სიტყვის თავისუფლება დანაშაული არ არის",
    "أطلقوا سراح الصحفيين فوراً: حرية التعبير ليست جريمة بل حق لكل إنسان",
]


@pytest.fixture(params=["smtp", "outbox"])
def app(request, make_app, smtp_server):
    """The cast's app with mail over real SMTP, or stored by the outbox transport."""
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, MAIL_TRANSPORT=request.param, DEV_OUTBOX=request.param == "outbox")
    app.transport, app.smtp_sink = request.param, sink
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def received(app) -> list[email.message.EmailMessage]:
    """Return every message that left, as the recipient's mail program parses it."""
    sending.wait_idle(app)
    if app.transport == "smtp":
        return list(app.smtp_sink.messages)
    return [m.message for m in reversed(outbox.stored()) if m.message is not None]


def poison(appeal: Appeal, title: str) -> None:
    """Store a title as it could be from before the fix, or through a path that skips the form."""
    appeal.title = title
    revision = appeal.published_revision
    revision.content = {**revision.content, "title": title}
    db.session.commit()


def sign_over_http(app, appeal, name, address):
    client = app.test_client()
    token = csrf_token(client, f"/a/{appeal.slug}/sign")
    response = client.post(f"/a/{appeal.slug}/sign", data={"full_name": name, "affiliation": "", "email": address,
                                                           "consent": "y", "csrf_token": token})
    assert response.status_code == 303


def send_every_kind(app, world, title) -> int:
    """Make the app send each kind of mail while the appeal's title is poisoned; return how many were sent."""
    appeal = world.appeal
    poison(appeal, title)
    sign_over_http(app, appeal, "Leyla Məmmədova", "pending@example.org")  # confirmation, background sender
    done = signing.sign(appeal, "Kamran Əliyev", "", "done@example.org").signature  # confirmation
    db.session.commit()
    signing.confirm(signing.confirmation_token(done))
    db.session.commit()
    signing.sign(appeal, "Kamran Əliyev", "", "done@example.org")  # already signed
    db.session.commit()
    pending = db.session.scalar(select(signing.Signature).where(signing.Signature.id != done.id))
    pending.created_at -= timedelta(days=2)
    db.session.commit()
    assert signing.remind_unconfirmed(appeal, None) == 1  # reminder
    db.session.commit()
    result = importing.import_list(appeal, world.owner, "Nərmin Həsənova invited@example.org", "lines", "invite")
    assert result.invited == 1  # import invitation
    db.session.commit()
    members.invite(appeal, world.owner, "coorganizer@example.org", Role.EDITOR)  # co-organizer invitation
    db.session.commit()
    services.save_text(appeal, world.owner, appeal.content() | {"title": "Amended", "body": "Amended text."})
    services.publish_revision(appeal, world.owner)
    db.session.commit()
    poison(appeal, title)
    assert signing.request_reconfirmation(appeal, world.owner) == 1  # re-confirmation
    db.session.commit()
    selfservice.request_link("done@example.org")  # self-service link
    selfservice.request_link("nobody@example.org")  # self-service, no signature
    db.session.commit()
    return 9


def assert_safe(msg, expected_to: set[str]):
    names = {k.lower() for k in msg.keys()}
    assert names <= ALLOWED_HEADERS, names - ALLOWED_HEADERS
    assert len(msg.get_all("Subject")) == 1 and len(msg.get_all("To")) == 1
    assert "evil@attacker.example" not in str(msg["To"]) and str(msg["To"]) in expected_to
    assert not HEADER_UNSAFE.search(str(msg["Subject"])), repr(str(msg["Subject"]))


@pytest.mark.parametrize("title,shown", POISONED_TITLES)
def test_a_poisoned_title_adds_no_header_to_any_mail_kind(app, world, title, shown):
    sent = send_every_kind(app, world, title)
    messages = received(app)
    assert len(messages) == sent  # none lost to a BadHeaderError
    addresses = {"pending@example.org", "done@example.org", "invited@example.org", "coorganizer@example.org",
                 "nobody@example.org"}
    for msg in messages:
        assert_safe(msg, addresses)
    with_title = [str(m["Subject"]) for m in messages if not str(m["Subject"]).startswith("Your signatures")]
    assert len(with_title) == 7
    for subject in with_title:
        assert subject.endswith(": " + shown), subject


@pytest.mark.parametrize("address", [
    "victim@example.org" + INJECTED, "victim@example.org\nBcc: evil@attacker.example",
    "victim@example.org, evil@attacker.example", "Victim <evil@attacker.example>", "victim@example.org\x00",
])
def test_a_recipient_that_is_not_one_plain_address_gets_no_mail(app, world, address):
    selfservice.request_link(address)
    db.session.commit()
    for msg in received(app):
        assert_safe(msg, set())  # nothing may arrive, and surely nothing with an injected header


@pytest.mark.parametrize("title", NON_ASCII_TITLES)
def test_non_ascii_subjects_decode_back_exactly(app, world, title):
    poison(world.appeal, title)
    signing.sign(world.appeal, "Aytən Quliyeva", "", "ayten@example.org")
    db.session.commit()
    sign_over_http(app, world.appeal, "Rəşad Nəbiyev", "reshad@example.org")
    messages = received(app)
    assert [str(m["Subject"]) for m in messages] == ["Please confirm your signature: " + title] * 2
    for msg in messages:
        assert_safe(msg, {"ayten@example.org", "reshad@example.org"})


# The form end: single-line fields refuse every line break and control; all fields refuse controls/overrides.

SINGLE_LINE_FIELDS = ["title", "subject", "place", "addressees-0-name", "addressees-0-title",
                      "addressees-0-institution", "addressees-0-salutation"]
MULTI_LINE_FIELDS = ["body", "demands", "closing", "senders", "addressees-0-postal_address"]
LINE_BREAKS = ["\r\n", "\n", "\r", "\t", "\x0b", "\x0c", "\u2028", "\u2029"]
CONTROLS = ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069",
            "\u200b", "\ufeff"]


def letter_data(client, appeal, **changes) -> dict:
    data = {"title": "Free the journalists", "subject": "Appeal", "body": "We ask for their release.",
            "addressees-0-name": "Secretary General", "place": "Baku", "base_revision": str(appeal.revision_count),
            "save": "Save", "csrf_token": csrf_token(client, f"/organizer/appeals/{appeal.slug}/edit")}
    data.update(changes)
    return data


def revision_count(appeal) -> int:
    db.session.expire_all()
    return db.session.get(Appeal, appeal.id).revision_count


def refused_messages() -> set[str]:
    """Return the opening words of both refusals in every interface language (a page may be in any)."""
    from flask import current_app
    from flask_babel import force_locale, gettext

    out = set()
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            out.add(gettext("This field must be one line: remove the line break or tab at position %(n)d.",
                            n=1).split("1")[0][:30])
            out.add(gettext("This field contains an invisible or control character at position %(n)d, often left "
                            "by copying and pasting. Please type it again.", n=1).split("1")[0][:30])
    return out


def assert_refused(response):
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, response.status_code
    assert any(m in page for m in refused_messages()), "no message says what is wrong"


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
@pytest.mark.parametrize("field", SINGLE_LINE_FIELDS)
def test_single_line_letter_fields_refuse_line_breaks_and_controls(app, world, client_as, field):
    client = client_as(world.owner)
    before = revision_count(world.appeal)
    for char in LINE_BREAKS + CONTROLS:
        value = f"Secretary{char}Bcc: evil@attacker.example"
        response = client.post(f"/organizer/appeals/{world.appeal.slug}/edit",
                               data=letter_data(client, world.appeal, **{field: value}))
        assert_refused(response)
    assert revision_count(world.appeal) == before  # nothing stored


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
@pytest.mark.parametrize("field", MULTI_LINE_FIELDS)
def test_multi_line_letter_fields_keep_lines_but_refuse_controls(app, world, client_as, field):
    client = client_as(world.owner)
    before = revision_count(world.appeal)
    for char in CONTROLS:
        response = client.post(f"/organizer/appeals/{world.appeal.slug}/edit",
                               data=letter_data(client, world.appeal, **{field: f"First line{char}second"}))
        assert_refused(response)
    assert revision_count(world.appeal) == before
    response = client.post(f"/organizer/appeals/{world.appeal.slug}/edit",
                           data=letter_data(client, world.appeal, **{field: "First line\r\nSecond line"}))
    assert response.status_code == 303
    assert revision_count(world.appeal) == before + 1


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
def test_new_appeal_and_autosave_refuse_a_title_with_a_line_break(app, world, client_as):
    client = client_as(world.owner)
    appeals = db.session.scalar(select(func.count(Appeal.id)))
    token = csrf_token(client, "/organizer/appeals/new?start=blank")
    response = client.post("/organizer/appeals/new", data={"title": "Title" + INJECTED, "body": "Text.",
                                                           "save": "Save", "csrf_token": token})
    assert_refused(response)
    assert db.session.scalar(select(func.count(Appeal.id))) == appeals
    draft = new_appeal(world.owner, "A draft", "Minister")
    db.session.commit()
    token = csrf_token(client, f"/organizer/appeals/{draft.slug}/edit")
    response = client.post(f"/organizer/appeals/{draft.slug}/autosave", data={
        "title": "A draft\u202e", "body": "Text.", "base_revision": str(draft.revision_count), "csrf_token": token})
    assert response.status_code == 422 and "title" in response.get_json()["fields"]
    assert revision_count(draft) == 1


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
def test_services_refuse_what_the_form_refuses(app, world):
    with pytest.raises(services.InvalidContent):
        new_appeal(world.owner, "Title" + INJECTED)
    with pytest.raises(services.InvalidContent):
        services.save_text(world.appeal, world.owner, world.appeal.content() | {"place": "Baku\nBcc: x@y.z"})
    with pytest.raises(services.InvalidContent):
        services.save_text(world.appeal, world.owner,
                           world.appeal.content() | {"addressees": [{"name": "Minister\u202e"}]})


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
@pytest.mark.parametrize("title", ["می‌خواهیم آزاد شوند", "حرية\u200f الصحفيين (الآن)", *NON_ASCII_TITLES])
def test_letters_in_every_script_are_still_accepted(app, world, client_as, title):
    client = client_as(world.owner)
    response = client.post(f"/organizer/appeals/{world.appeal.slug}/edit",
                           data=letter_data(client, world.appeal, title=title))
    assert response.status_code == 303


@pytest.mark.parametrize("app", ["smtp"], indirect=True)
def test_a_translated_title_is_refused_the_same_way(app, world, client_as):
    """A language version's title reaches the confirmation subject of signers who read that version."""
    client = client_as(world.owner)
    url = f"/organizer/appeals/{world.appeal.slug}/translations/ru"
    for title in ("Освободите журналистов" + INJECTED, "Освободите \u202eвотсиланруж"):
        response = client.post(url, data={"csrf_token": csrf_token(client, url), "title": title, "subject": "",
                                          "body": "Мы просим их освободить.", "demands": "", "closing": "",
                                          "save": "1"})
        assert_refused(response)
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "title": "Освободите журналистов",
                                      "subject": "", "body": "Мы просим их освободить.", "demands": "",
                                      "closing": "", "save": "1"})
    assert response.status_code == 303
