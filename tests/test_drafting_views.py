"""Drafting over HTTP: roles, conflicts, autosave, preview, history, invitations, re-confirmation."""
import re
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from petitions.members import services as membership
from petitions.appeals import services
from petitions.appeals.models import AppealStatus
from petitions.appeals.views_public import public_appeal_or_404
from petitions.audit.models import AuditEvent
from petitions.members.models import Role
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing import operations as signing

from .conftest import csrf_token, message_text

LETTER = {"title": "Release Kamil Zeynalov", "addressees": [{"name": "UN Rapporteur"}], "body": "He is held.",
          "demands": ["Release him."]}
PASSWORD = "a long password"


def login(client, email):
    client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})


def form_data(client, url, **changes):
    """Read the editor form as a browser would submit it, with some fields changed."""
    html = client.get(url).get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', html))
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\n?(.*?)</textarea>', html, re.S):
        data[name] = text
    data.pop("preview", None), data.pop("save", None)
    data.update(changes)
    return data


def make_team():
    users = {role: register_user(role.title(), f"{role}@example.org", PASSWORD)
             for role in ("owner", "editor", "reviewer", "outsider")}
    appeal = services.create_appeal(users["owner"], LETTER)
    db.session.flush()
    for role in ("editor", "reviewer"):
        db.session.add(membership.AppealMember(appeal=appeal, user=users[role], role=Role(role)))
    db.session.commit()
    return appeal, users


@pytest.fixture
def team(app):
    return make_team()


@pytest.fixture
def smtp_team(smtp_app):
    return make_team()


# (method, path, allowed roles); a forbidden role gets 403, an outsider 404.
MATRIX = [
    ("GET", "/organizer/appeals/{slug}", {"owner", "editor", "reviewer"}),
    ("GET", "/organizer/appeals/{slug}/edit", {"owner", "editor"}),
    ("GET", "/organizer/appeals/{slug}/history", {"owner", "editor", "reviewer"}),
    ("GET", "/organizer/appeals/{slug}/members", {"owner", "editor", "reviewer"}),
    ("GET", "/organizer/appeals/{slug}/audit", {"owner"}),
    ("GET", "/organizer/appeals/{slug}/pdf", {"owner", "editor", "reviewer"}),
    ("POST", "/organizer/appeals/{slug}/publish", {"owner"}),
    ("POST", "/organizer/appeals/{slug}/delete", {"owner"}),
    ("POST", "/organizer/appeals/{slug}/members", {"owner"}),
    ("POST", "/organizer/appeals/{slug}/restore/1", {"owner", "editor"}),
]


@pytest.mark.parametrize("role", ["owner", "editor", "reviewer", "outsider"])
@pytest.mark.parametrize("method,path,allowed", MATRIX)
def test_role_action_matrix(client, team, role, method, path, allowed):
    appeal, users = team
    login(client, f"{role}@example.org")
    url = path.format(slug=appeal.slug)
    if method == "GET":
        status = client.get(url).status_code
    else:
        token = csrf_token(client, "/organizer/")
        status = client.post(url, data={"csrf_token": token, "email": "x@example.org", "role": "editor"}).status_code
    if role == "outsider":
        assert status == 404
    elif role in allowed:
        assert status in (200, 303)
    else:
        assert status == 403


def test_dashboard_lists_appeals_of_members_only(client, team):
    appeal, _ = team
    login(client, "reviewer@example.org")
    assert appeal.title in client.get("/organizer/").get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/organizer/")})
    login(client, "outsider@example.org")
    assert appeal.title not in client.get("/organizer/").get_data(as_text=True)


def test_conflicting_save_is_refused_with_the_difference(client, team):
    appeal, users = team
    login(client, "editor@example.org")
    edit_url = f"/organizer/appeals/{appeal.slug}/edit"
    stale = form_data(client, edit_url, body="Editor's version of the text.", save="Save")
    services.save_text(appeal, users["owner"], LETTER | {"body": "Owner's version, saved first."})
    db.session.commit()
    response = client.post(edit_url, data=stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone saved revision 2" in html and "<del>Owner</del>" in html and "<ins>Editor</ins>" in html
    db.session.refresh(appeal)
    assert appeal.body == "Owner's version, saved first."
    again = form_data(client, edit_url, body="Editor's version of the text.", save="Save")
    again["base_revision"] = "2"
    assert client.post(edit_url, data=again).status_code == 303  # saving knowingly after seeing the diff
    db.session.refresh(appeal)
    assert appeal.body == "Editor's version of the text." and appeal.revision_count == 3


def test_autosave_saves_drafts_and_reports_conflicts(client, team):
    appeal, users = team
    login(client, "owner@example.org")
    data = form_data(client, f"/organizer/appeals/{appeal.slug}/edit", body="Autosaved text.")
    response = client.post(f"/organizer/appeals/{appeal.slug}/autosave", data=data)
    assert response.status_code == 200 and response.json == {"revision": 2, "saved": True}
    response = client.post(f"/organizer/appeals/{appeal.slug}/autosave", data=data | {"body": "Other."})
    assert response.status_code == 409 and response.json["conflict"] is True
    bad = client.post(f"/organizer/appeals/{appeal.slug}/autosave", data=data | {"base_revision": "2", "title": ""})
    assert bad.status_code == 422 and "title" in bad.json["fields"]


def test_preview_endpoint_renders_and_sanitizes(client, team):
    appeal, _ = team
    login(client, "editor@example.org")
    data = form_data(client, f"/organizer/appeals/{appeal.slug}/edit",
                     body="**Bold** <script>alert(1)</script>", demands="First\nSecond")
    html = client.post("/organizer/preview", data=data).get_data(as_text=True)
    assert "<strong>Bold</strong>" in html and "<script" not in html
    assert "<li>First</li>" in html and "<li>Second</li>" in html
    assert client.post("/organizer/preview", data={"body": "x"}).status_code == 400  # no CSRF token


def test_history_diff_and_restore_over_http(client, team):
    appeal, users = team
    services.save_text(appeal, users["owner"], LETTER | {"body": "He is held without trial."})
    db.session.commit()
    login(client, "owner@example.org")
    page = client.get(f"/organizer/appeals/{appeal.slug}/history?a=1&b=2").get_data(as_text=True)
    assert "without trial</ins>" in page
    assert client.get(f"/organizer/appeals/{appeal.slug}/history?a=1&b=9").status_code == 404
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/history")
    assert client.post(f"/organizer/appeals/{appeal.slug}/restore/1", data={"csrf_token": token}).status_code == 303
    db.session.refresh(appeal)
    assert appeal.body == "He is held." and appeal.revision_count == 3


def test_invitation_accept_and_bad_links(smtp_app, smtp_team):
    appeal, users = smtp_team
    client = smtp_app.test_client()
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}/members")
    response = client.post(f"/organizer/appeals/{appeal.slug}/members",
                           data={"csrf_token": token, "email": "outsider@example.org", "role": "reviewer"})
    assert response.status_code == 303
    [msg] = smtp_app.smtp_sink.wait_for(1)
    link = re.search(r"http://\S+/organizer/invitations/\S+", message_text(msg)).group(0)
    path = "/" + link.split("/", 3)[3]
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/organizer/")})
    login(client, "outsider@example.org")
    assert client.get(path[:-3] + "xyz").status_code == 400
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303
    assert client.get(f"/organizer/appeals/{appeal.slug}").status_code == 200
    assert client.get(path).status_code == 409  # already accepted
    assert client.get(f"/organizer/appeals/{appeal.slug}/edit").status_code == 403  # reviewer


def test_audit_log_records_changes_for_owners(client, team):
    appeal, _ = team
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}")
    client.post(f"/organizer/appeals/{appeal.slug}/publish", data={"csrf_token": token})
    page = client.get(f"/organizer/appeals/{appeal.slug}/audit").get_data(as_text=True)
    assert "publish" in page and "Owner" in page


def test_reconfirmation_after_an_amendment(smtp_app, smtp_team):
    appeal, users = smtp_team
    services.publish_appeal(appeal)
    first = signing.sign(appeal, "Lalə Hüseynova", "Lawyer", "lale@example.org").signature
    signing.confirm(signing.confirmation_token(first))
    db.session.commit()
    services.save_text(appeal, users["owner"], LETTER | {"demands": ["Release him today."]})
    services.publish_revision(appeal, users["owner"])
    db.session.commit()
    groups = services.signatures_by_revision(appeal)
    assert [(rev.number, len(sigs)) for rev, sigs in groups] == [(1, 1)]

    client = smtp_app.test_client()
    login(client, "owner@example.org")
    token = csrf_token(client, f"/organizer/appeals/{appeal.slug}")
    client.post(f"/organizer/appeals/{appeal.slug}/reconfirm", data={"csrf_token": token})
    msgs = smtp_app.smtp_sink.wait_for(2)
    mail = [m for m in msgs if "amended" in m["Subject"]][0]
    link = re.search(r"http://\S+/reconfirm/\S+", message_text(mail)).group(0)
    path = "/" + link.split("/", 3)[3].split("?")[0]  # the link ends in ?lang=, the token before it
    page = client.get(path).get_data(as_text=True)
    assert re.search(r"<ins>\s*today\.?</ins>", page)  # the diff marks what the amendment added
    db.session.refresh(first)
    assert first.revision.number == 1  # opening the link changes nothing
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    db.session.refresh(first)
    assert first.revision.number == 2 and first.text_hash == appeal.published_revision.content_hash
    assert client.get(path[:-4] + "abcd").status_code == 400


def test_new_appeal_from_template_prefills_the_form(client, team):
    login(client, "owner@example.org")
    assert "Appeal for the release of a prisoner" in client.get("/organizer/appeals/new").get_data(as_text=True)
    page = client.get("/organizer/appeals/new?start=prisoner").get_data(as_text=True)
    assert 'value="Release [full name of the prisoner]"' in page
    assert client.get("/organizer/appeals/new?start=nope").status_code == 404


def test_editing_a_closed_appeal_is_refused(client, team):
    appeal, users = team
    services.publish_appeal(appeal)
    appeal.close()
    db.session.commit()
    login(client, "owner@example.org")
    data = form_data(client, f"/organizer/appeals/{appeal.slug}", save="Save", title="x", body="y",
                     csrf_token=csrf_token(client, f"/organizer/appeals/{appeal.slug}"))
    response = client.post(f"/organizer/appeals/{appeal.slug}/edit", data=data)
    assert response.status_code == 409 and "can no longer be edited" in response.get_data(as_text=True)
    assert appeal.status is AppealStatus.CLOSED


def test_a_body_over_the_limit_is_refused_with_a_message(client, team, app):
    appeal, _ = team
    app.config["BODY_MAX_CHARS"] = 100
    login(client, "owner@example.org")
    data = form_data(client, f"/organizer/appeals/{appeal.slug}/edit", body="x" * 101, save="Save")
    response = client.post(f"/organizer/appeals/{appeal.slug}/edit", data=data)
    assert response.status_code == 422 and "the limit is 100" in response.get_data(as_text=True)
    db.session.refresh(appeal)
    assert appeal.body == LETTER["body"] and appeal.revision_count == 1


@contextmanager
def commits():
    """Collect every commit made inside the block."""
    seen = []

    def count(session):
        seen.append(session)

    event.listen(Session, "after_commit", count)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", count)


def _past_deadline(appeal):
    services.publish_appeal(appeal)
    appeal.deadline = datetime(2000, 1, 1)
    db.session.commit()


def test_the_organizer_page_closes_a_due_appeal_and_logs_the_view_in_one_commit(client, team):
    appeal, _ = team
    _past_deadline(appeal)
    login(client, "owner@example.org")
    with commits() as seen:
        page = client.get(f"/organizer/appeals/{appeal.slug}")
    assert page.status_code == 200 and len(seen) == 1
    db.session.refresh(appeal)
    assert appeal.status is AppealStatus.CLOSED
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.appeal_id == appeal.id)))
    assert {"closed_by_deadline", "personal_data.viewed"} <= actions


def test_loading_a_due_appeal_closes_it_without_committing(app, team):
    appeal, _ = team
    _past_deadline(appeal)
    with app.test_request_context(), commits() as seen:
        loaded = public_appeal_or_404(appeal.slug)
    assert loaded.status is AppealStatus.CLOSED and seen == []
    db.session.rollback()  # what a view that does not commit leaves behind: the next request closes it again
    assert db.session.get(type(appeal), appeal.id).status is AppealStatus.OPEN


def test_the_dashboard_closes_every_due_appeal_in_one_commit(client, team):
    appeal, users = team
    second = services.create_appeal(users["owner"], LETTER | {"title": "Second appeal"})
    for due in (appeal, second):
        _past_deadline(due)
    login(client, "owner@example.org")
    with commits() as seen:
        assert client.get("/organizer/").status_code == 200
    assert len(seen) == 1
    db.session.expire_all()
    assert {appeal.status, second.status} == {AppealStatus.CLOSED}
