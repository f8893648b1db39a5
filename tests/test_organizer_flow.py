"""What a new organizer trips over: guarded publishing, invitations through registration, letter details, preview."""
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from petitions.members import services as membership
from petitions.appeals import services
from petitions.appeals.models import Appeal, AppealStatus
from petitions.audit.models import AuditEvent
from petitions.members.models import AppealInvitation, Role
from petitions.appeals import starters
from petitions.appeals.starters import BUILTIN
from petitions.auth.models import User
from petitions.extensions import db, utcnow
from petitions.mail import sending

from .conftest import csrf_token, message_text, new_appeal
from .security.conftest import login

PASSWORD = "a long password"


def _owner(email="owner@coalition.example"):
    from petitions.auth.services import register_user

    user = register_user("Owner", email, PASSWORD)
    db.session.commit()
    return user


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _logged_in(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code in (302, 303)
    return client


# --- 5. publishing is guarded -----------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(BUILTIN))
def test_publishing_a_starter_unchanged_is_refused_and_names_the_placeholders(app, key):
    owner = _owner()
    appeal = services.create_appeal(owner, dict(BUILTIN[key]["content"]))
    db.session.commit()
    client = _logged_in(app, owner)
    page = f"/organizer/appeals/{appeal.slug}"
    response = _post(client, f"{page}/publish", page)
    assert response.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Published" not in shown
    assert "Replace the template placeholders" in shown
    first_part, first_placeholder = starters.content_placeholders(BUILTIN[key]["content"])[0]
    assert first_placeholder in shown
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status is AppealStatus.DRAFT


def test_every_bracket_of_the_starters_is_a_placeholder():
    for template in BUILTIN.values():
        content = template["content"]
        texts = [content[k] for k in ("title", "subject", "body", "closing", "place", "senders")]
        texts += content["demands"] + [v for a in content["addressees"] for v in a.values()]
        brackets = [m for t in texts for m in re.findall(r"\[[^\]]*\]", t)]
        assert brackets and len(starters.content_placeholders(content)) == len(brackets)


@pytest.mark.parametrize("text", ["As the Court held [1], and again [12, 14-16].", "See [the report](https://x.example/r).",
                                  "See [the report][2].\n\n[2]: https://x.example/r", "“[T]he detention [sic] …”",
                                  "He said: “we will […] decide”.", "Emphasis [emphasis added].", "[1]: https://x.example"])
def test_legitimate_brackets_are_not_placeholders(text):
    assert starters.placeholders(text) == []


@pytest.mark.parametrize("text", ["Dear [Name]:", "[Institution]", "held since [date].", "[Город]", "[NAME]",
                                  "[condemn / express concern about]", "x [Name]y"])
def test_placeholders_are_found(text):
    assert starters.placeholders(text)


def test_a_letter_with_citations_and_links_publishes(app):
    owner = _owner()
    appeal = new_appeal(owner, "Free them", "Secretary General",
                        "As the Court held [1], see [the report](https://x.example/r). “[T]he state [sic] …”")
    db.session.commit()
    client = _logged_in(app, owner)
    page = f"/organizer/appeals/{appeal.slug}"
    _post(client, f"{page}/publish", page)
    assert "Published: the appeal is open for signatures." in client.get(page).get_data(as_text=True)


def test_publishing_past_the_deadline_is_refused_and_says_what_to_fix(app):
    owner = _owner()
    appeal = new_appeal(owner, "Free them", "Secretary General", "We ask for their release.")
    services.set_goal_and_deadline(appeal, None, (utcnow() - timedelta(days=2)).date())
    db.session.commit()
    client = _logged_in(app, owner)
    page = f"/organizer/appeals/{appeal.slug}"
    _post(client, f"{page}/publish", page)
    shown = client.get(page).get_data(as_text=True)
    assert "Published" not in shown
    assert "The deadline" in shown and "has passed" in shown
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).status is AppealStatus.DRAFT


def test_an_amendment_with_a_placeholder_is_not_published(app):
    owner = _owner()
    appeal = new_appeal(owner, "Free them", "Secretary General", "We ask for their release.")
    appeal.publish()
    first = appeal.published_revision.number
    services.save_text(appeal, owner, appeal.content() | {"demands": ["Release [name] now."]})
    db.session.commit()
    client = _logged_in(app, owner)
    page = f"/organizer/appeals/{appeal.slug}"
    _post(client, f"{page}/publish-revision", page)
    shown = client.get(page).get_data(as_text=True)
    assert "[name]" in shown and "Replace the template placeholders" in shown
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).published_revision.number == first == 1


# --- 7. letter details on the public page -----------------------------------------------------------

def test_public_letter_keeps_line_breaks_and_writes_the_date_in_the_page_language(app):
    owner = _owner()
    appeal = services.create_appeal(owner, {
        "title": "Free them", "body": "We ask for their release.",
        "addressees": [{"name": "Secretary General", "postal_address": "Palais des Nations\n1211 Geneva 10"}],
        "closing": "We remain at your disposal.\nRespectfully,\n\nThe coalition",
        "letter_date": "2026-12-01", "place": "Geneva"})
    appeal.publish()
    db.session.commit()
    html = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert re.search(r"Palais des Nations\s*<br>\s*1211 Geneva 10", html)
    assert re.search(r"disposal\.<br>\s*Respectfully,</p>\s*<p>The coalition", html)
    assert "December 1, 2026" in html and ">2026-12-01<" not in html


def test_the_letter_date_follows_the_letter_language(app):
    owner = _owner()
    appeal = services.create_appeal(owner, {"title": "Freiheit", "body": "Wir fordern.", "letter_date": "2026-12-01"},
                                    language="de")
    appeal.publish()
    db.session.commit()
    html = app.test_client().get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "1. Dezember 2026" in html


# --- 10. the editor's preview shows the draft when the page opens -----------------------------------

def test_editor_shows_the_preview_of_the_saved_draft_on_open(app):
    owner = _owner()
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "They were held **nine months**.")
    db.session.commit()
    client = _logged_in(app, owner)
    html = client.get(f"/organizer/appeals/{appeal.slug}/edit").get_data(as_text=True)
    preview = html[html.index('id="preview-body"'):]
    assert "<strong>nine months</strong>" in preview and "Free the journalists" in preview
    started = client.get("/organizer/appeals/new?start=prisoner").get_data(as_text=True)
    assert "Release [full name of the prisoner]" in started[started.index('id="preview-body"'):]


# --- 6. invitations: pending list, revoke, replace, through registration ----------------------------

@pytest.fixture
def invited(smtp_app):
    """An owner's open appeal with a pending invitation to a new address; the link from the real SMTP sink."""
    owner = _owner()
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
    appeal.publish()
    db.session.commit()
    client = _logged_in(smtp_app, owner)
    page = f"/organizer/appeals/{appeal.slug}/members"
    response = _post(client, page, page, email="newcomer@coalition.example", role="editor")
    assert response.status_code == 303
    sending.wait_idle()
    msg = smtp_app.smtp_sink.wait_for(1)[-1]
    link = re.search(r"http://\S+/organizer/invitations/\S+", message_text(msg)).group(0)
    return owner, appeal, client, page, link


def test_owner_sees_pending_invitations_and_revokes_one(invited, smtp_app):
    owner, appeal, client, page, link = invited
    shown = client.get(page).get_data(as_text=True)
    assert "Pending invitations" in shown and "newcomer@coalition.example" in shown and "expires" in shown
    assert "Invited by Owner" in shown
    invitation = db.session.scalars(db.select(AppealInvitation)).one()
    response = _post(client, f"/organizer/appeals/{appeal.slug}/invitations/{invitation.id}/revoke", page)
    assert response.status_code == 303
    assert "newcomer@coalition.example" not in client.get(page).get_data(as_text=True).split("Pending invitations")[1] \
        .split("Invite a co-organizer")[0]
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "invitation_revoked")) is not None
    from petitions.auth.services import register_user

    newcomer = register_user("Newcomer", "newcomer@coalition.example", PASSWORD)
    db.session.commit()
    answer = _logged_in(smtp_app, newcomer).get(_path(link))
    assert answer.status_code == 410 and "withdrawn" in answer.get_data(as_text=True)


def test_only_owners_revoke_and_only_their_appeals_invitations(invited, smtp_app):
    owner, appeal, client, page, link = invited
    invitation = db.session.scalars(db.select(AppealInvitation)).one()
    from petitions.auth.services import register_user

    editor = register_user("Editor", "editor@coalition.example", PASSWORD)
    other = _owner("other@other.example")
    other_appeal = new_appeal(other, "Stop torture", "Rapporteur", "Inquiry.")
    from petitions.members.models import AppealMember

    db.session.add(AppealMember(appeal=appeal, user=editor, role=Role.EDITOR))
    db.session.commit()
    as_editor = _logged_in(smtp_app, editor)
    url = f"/organizer/appeals/{appeal.slug}/invitations/{invitation.id}/revoke"
    assert _post(as_editor, url, f"/organizer/appeals/{appeal.slug}").status_code == 403
    as_other = _logged_in(smtp_app, other)
    wrong = f"/organizer/appeals/{other_appeal.slug}/invitations/{invitation.id}/revoke"
    assert _post(as_other, wrong, f"/organizer/appeals/{other_appeal.slug}").status_code == 404
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(AppealInvitation, invitation.id).revoked_at is None


def test_inviting_the_same_address_again_replaces_the_pending_invitation(invited, smtp_app):
    owner, appeal, client, page, old_link = invited
    assert _post(client, page, page, email="NewComer@coalition.example", role="reviewer").status_code == 303
    sending.wait_idle()
    new_link = re.search(r"http://\S+/organizer/invitations/\S+",
                         message_text(smtp_app.smtp_sink.wait_for(2)[-1])).group(0)
    assert [i.role for i in membership.pending(appeal)] == [Role.REVIEWER]
    from petitions.auth.services import register_user

    newcomer = register_user("Newcomer", "newcomer@coalition.example", PASSWORD)
    db.session.commit()
    as_newcomer = _logged_in(smtp_app, newcomer)
    assert as_newcomer.get(_path(old_link)).status_code == 410
    assert as_newcomer.get(_path(new_link)).status_code == 200


def test_invitation_survives_registration_by_mailed_link(invited, smtp_app):
    owner, appeal, _client, _page, link = invited
    path = _path(link)
    visitor = smtp_app.test_client()
    to_login = visitor.get(path)
    assert to_login.status_code == 302 and "/auth/login" in to_login.location
    login_page = visitor.get(to_login.location).get_data(as_text=True)
    register_href = re.search(r'href="(/auth/register[^"]*)"', login_page).group(1).replace("&amp;", "&")
    assert "next=" in register_href and "To accept an invitation" in login_page
    assert "you continue to the invitation" in visitor.get(register_href).get_data(as_text=True)
    _post(visitor, register_href, register_href, email="newcomer@coalition.example")
    sending.wait_idle()
    mail = smtp_app.smtp_sink.wait_for(2)[-1]
    finish = _path(re.search(r"http://\S+/auth/register/\S+", message_text(mail)).group(0))
    done = _post(visitor, finish, finish, name="New Comer", password="another long password",
                 password2="another long password")
    assert done.status_code == 303 and done.location.endswith(path)
    page = visitor.get(done.location)
    assert page.status_code == 200 and "Invitation to co-organize" in page.get_data(as_text=True)
    accepted = _post(visitor, path, path)
    assert accepted.status_code == 303
    user = db.session.scalar(db.select(User).where(User.email == "newcomer@coalition.example"))
    assert appeal.slug in visitor.get("/organizer/").get_data(as_text=True)
    assert any(u.id == user.id and r is Role.EDITOR for u, r in membership.members(appeal))


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example"])
def test_registration_never_lands_outside_the_site(smtp_app, target):
    visitor = smtp_app.test_client()
    url = "/auth/register?" + urlencode({"next": target})
    _post(visitor, url, url, email="someone@coalition.example")
    sending.wait_idle()
    finish = re.search(r"http://\S+/auth/register/\S+",
                       message_text(smtp_app.smtp_sink.wait_for(1)[-1])).group(0)
    finish = _path(finish)
    done = _post(visitor, finish, finish, name="Some One", password="another long password",
                 password2="another long password")
    assert done.status_code == 303 and done.location.endswith("/organizer/")


# --- in Chromium ------------------------------------------------------------------------------------

@pytest.fixture
def outbox_app(make_app):
    app = make_app(MAIL_TRANSPORT="outbox", DEV_OUTBOX=True)
    with app.app_context():
        owner = _owner()
        appeal = new_appeal(owner, "Free the journalists", "Secretary General",
                            "They were held **nine months** without trial.")
        appeal.publish()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _browser_login(page, base, email, password=PASSWORD):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/organizer/")


@pytest.mark.e2e
def test_in_chromium_the_editor_preview_shows_the_draft_on_open(outbox_app):
    from playwright.sync_api import expect

    from .browser import chromium, live_server

    shots = os.environ.get("SCREENSHOT_DIR")  # pictures for docs/screenshots/ when asked
    with live_server(outbox_app) as base, chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        _browser_login(page, base, "owner@coalition.example")
        page.goto(f"{base}/organizer/appeals/free-the-journalists/edit")
        # No keystroke, no Preview press: the saved draft is already there.
        expect(page.locator("#preview-body .body strong")).to_have_text("nine months")
        assert page.inner_text("#preview-body h1") == "Free the journalists"
        if shots:
            page.screenshot(path=str(Path(shots) / "editor-preview-on-open.png"))


@pytest.mark.e2e
def test_in_chromium_an_invitation_leads_through_registration_to_accepting(outbox_app):
    from .browser import chromium, live_server

    shots = os.environ.get("SCREENSHOT_DIR")
    with live_server(outbox_app) as base, chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        _browser_login(page, base, "owner@coalition.example")
        page.goto(f"{base}/organizer/appeals/free-the-journalists/members")
        page.fill("#email", "newcomer.with.a.long.address@coalition.example")
        page.select_option("#role", "reviewer")
        page.click("text=Send invitation")
        page.fill("#email", "newcomer@coalition.example")
        page.select_option("#role", "editor")
        page.click("text=Send invitation")
        assert "Invitation sent" in page.inner_text(".flash")
        assert "newcomer@coalition.example" in page.inner_text("ul.invitations")
        # On a phone the pending list fits the screen, long addresses included.
        page.set_viewport_size({"width": 360, "height": 800})
        assert page.evaluate("Math.max(...[...document.querySelectorAll('ul.invitations li, ul.invitations li *')]"
                             ".map(e => e.getBoundingClientRect().right)) <= window.innerWidth")
        page.set_viewport_size({"width": 1280, "height": 900})
        if shots:
            page.screenshot(path=str(Path(shots) / "members-pending-invitations.png"), full_page=True)
        page.goto(f"{base}/dev/outbox/")
        card = page.locator("li.card", has_text="To newcomer@coalition.example")
        invitation = card.locator("a[href*='/organizer/invitations/']").first.get_attribute("href")
        page.click("text=Log out")

        # The newcomer has no account yet: the invitation link, then "Create one".
        page.goto(invitation if invitation.startswith("http") else base + invitation)
        page.wait_for_url("**/auth/login**")
        page.click("text=Create one")
        page.fill("#email", "newcomer@coalition.example")
        page.click("#submit")
        assert "newcomer@coalition.example" in page.inner_text("main")
        # The dev outbox is for loopback visitors: read the registration link there.
        page.goto(f"{base}/dev/outbox/")
        page.locator("a[href*='/auth/register/']").first.click()
        page.fill("#name", "New Comer")
        page.fill("#password", "another long password")
        page.fill("#password2", "another long password")
        page.click("#submit")
        page.wait_for_url("**/organizer/invitations/**")
        assert "Invitation to co-organize" in page.inner_text("h1")
        page.click("text=Accept")
        page.wait_for_url("**/organizer/appeals/free-the-journalists")
        assert "joined" in page.inner_text(".flash")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/%5Cevil.example", "javascript:x"])
def test_both_ends_of_the_registration_link_check_where_it_lands(smtp_app, target):
    from petitions.auth import services as accounts
    from petitions import links as tokens

    accounts.request_registration("someone@coalition.example", target)
    db.session.commit()
    sending.wait_idle()
    mailed = re.search(r"/auth/register/(\S+)", message_text(smtp_app.smtp_sink.wait_for(1)[-1])).group(1)
    assert "n" not in tokens.read_token(accounts.REGISTER, mailed, 3600)
    # A link signed with a hostile target (an older or leaked format) still lands on the site.
    forged = tokens.make_token(accounts.REGISTER, {"e": "other@coalition.example", "n": target})
    assert accounts.registration_link(forged) == ("other@coalition.example", None)
