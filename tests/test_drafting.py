"""Drafting: structured letters, revisions, conflicts, lifecycle, deadlines, templates (service layer)."""
from datetime import datetime, timedelta

import pytest

from petitions.appeals import services
from petitions.appeals.diff import content_diff, word_diff
from petitions.appeals.models import AppealStatus, IllegalTransition
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.members.models import AppealInvitation, Role

LETTER = {
    "title": "Release Səbinə Quliyeva",
    "subject": "Detention of a reporter",
    "addressees": [{"name": "Secretary General", "institution": "Council of Europe", "salutation": "Dear Sir,"},
                   {"name": "", "title": ""}],
    "body": "She has been held since March.",
    "demands": ["Release her.", "  ", "Allow her lawyer to visit."],
    "closing": "Respectfully,",
    "place": "Strasbourg",
    "letter_date": "2026-11-20",
    "senders": "Coalition A\nCoalition B",
}


@pytest.fixture
def owner(app):
    user = register_user("Owner", "owner@example.org", "a long password")
    db.session.commit()
    return user


def test_every_part_of_the_letter_is_kept_and_normalized(owner):
    appeal = services.create_appeal(owner, LETTER)
    content = appeal.content()
    assert content["addressees"] == [{"name": "Secretary General", "institution": "Council of Europe",
                                      "salutation": "Dear Sir,"}]
    assert content["demands"] == ["Release her.", "Allow her lawyer to visit."]
    assert content["letter_date"] == "2026-11-20" and content["senders"] == "Coalition A\nCoalition B"
    assert appeal.revision_count == 1 and services.latest_revision(appeal).content == content


def test_saving_the_same_text_makes_no_revision(owner):
    appeal = services.create_appeal(owner, LETTER)
    assert services.save_text(appeal, owner, dict(LETTER), base_revision=1) is None
    assert appeal.revision_count == 1


def test_second_editor_on_a_stale_revision_gets_a_conflict(owner):
    appeal = services.create_appeal(owner, LETTER)
    services.save_text(appeal, owner, LETTER | {"body": "First editor's text."}, base_revision=1)
    with pytest.raises(services.EditConflict) as info:
        services.save_text(appeal, owner, LETTER | {"body": "Second editor's text."}, base_revision=1)
    assert info.value.current.number == 2
    assert appeal.body == "First editor's text."  # nothing overwritten silently


def test_word_diff_marks_inserted_and_deleted_words():
    chunks = word_diff("free the reporter now", "free the journalist now")
    assert [(c.op, c.text) for c in chunks if c.op != "equal"] == [("delete", "reporter"), ("insert", "journalist")]
    changes = dict(content_diff({"title": "A", "demands": ["x"]}, {"title": "A", "demands": ["x", "y"]}))
    assert list(changes) == ["Demands"]


def test_restore_makes_a_new_revision_with_the_old_text(owner):
    appeal = services.create_appeal(owner, LETTER)
    services.save_text(appeal, owner, LETTER | {"body": "Changed."})
    new = services.restore_revision(appeal, 1, owner)
    assert new.number == 3 and appeal.body == LETTER["body"]
    assert new.content_hash == services.revision(appeal, 1).content_hash
    with pytest.raises(LookupError):
        services.restore_revision(appeal, 99, owner)


ACTIONS = ["publish", "close", "reopen", "deliver", "archive"]  # "deliver" is no lifecycle action: always refused
ALLOWED = {
    "draft": {"publish": "open"},
    "open": {"close": "closed"},
    "closed": {"reopen": "open", "archive": "archived"},
    "delivered": {"archive": "archived"},
    "archived": {},
}
PATHS = {"draft": [], "open": ["publish"], "closed": ["publish", "close"],
         "delivered": ["publish", "close", "deliver"], "archived": ["publish", "close", "archive"]}


def walk(appeal, owner, state):
    """Bring a new appeal to a state; "delivered" through the move the delivery feature makes."""
    for step in PATHS[state]:
        if step == "deliver":
            appeal.mark_delivered()
        else:
            services.transition(appeal, step, owner)


@pytest.mark.parametrize("state", list(ALLOWED))
@pytest.mark.parametrize("action", ACTIONS)
def test_lifecycle_matrix(owner, state, action):
    appeal = services.create_appeal(owner, LETTER)
    walk(appeal, owner, state)
    assert appeal.status.value == state
    if action in ALLOWED[state]:
        services.transition(appeal, action, owner)
        assert appeal.status.value == ALLOWED[state][action]
    else:
        with pytest.raises(IllegalTransition):
            services.transition(appeal, action, owner)
        assert appeal.status.value == state


@pytest.mark.parametrize("state", ["closed", "delivered", "archived"])
def test_closed_appeals_refuse_edits(owner, state):
    appeal = services.create_appeal(owner, LETTER)
    walk(appeal, owner, state)
    with pytest.raises(IllegalTransition):
        services.save_text(appeal, owner, LETTER | {"body": "Late change"})


def test_publishing_an_amendment_changes_what_new_signers_sign(owner):
    appeal = services.create_appeal(owner, LETTER)
    services.publish_appeal(appeal)
    with pytest.raises(IllegalTransition, match="no new revision"):
        services.publish_revision(appeal, owner)
    services.save_text(appeal, owner, LETTER | {"demands": ["Release her today."]})
    assert services.has_unpublished_changes(appeal)
    assert appeal.published_revision.number == 1
    services.publish_revision(appeal, owner)
    assert appeal.published_revision.number == 2 and not services.has_unpublished_changes(appeal)


def test_deadline_closes_on_access_and_by_command(owner, app):
    due = services.create_appeal(owner, LETTER)
    services.publish_appeal(due)
    due.deadline = utcnow() - timedelta(minutes=1)
    later = services.create_appeal(owner, LETTER | {"title": "Later"})
    services.publish_appeal(later)
    later.deadline = utcnow() + timedelta(days=3)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["appeals", "close-due"])
    assert "1 appeal(s) closed." in result.output
    db.session.refresh(due), db.session.refresh(later)
    assert due.status is AppealStatus.CLOSED and later.status is AppealStatus.OPEN
    with pytest.raises(IllegalTransition, match="deadline"):
        due.reopen()


def test_deadline_is_enforced_when_the_public_page_is_opened(owner, client):
    appeal = services.create_appeal(owner, LETTER)
    services.publish_appeal(appeal)
    appeal.deadline = datetime(2000, 1, 1)
    db.session.commit()
    page = client.get(f"/a/{appeal.slug}")
    assert "Signing this appeal has closed" in page.get_data(as_text=True)
    db.session.refresh(appeal)
    assert appeal.status is AppealStatus.CLOSED


def test_templates_builtin_and_own(owner):
    points = dict(services.starting_points(owner))
    assert {"prisoner", "institution", "statement"} <= set(points)
    assert services.starting_content("prisoner", owner)["demands"]
    appeal = services.create_appeal(owner, LETTER)
    template = services.save_as_template(appeal, owner, "Our usual letter")
    db.session.flush()
    key = f"own-{template.id}"
    assert dict(services.starting_points(owner))[key] == "Our usual letter"
    assert services.starting_content(key, owner)["title"] == LETTER["title"]
    stranger = register_user("S", "s@example.org", "a long password")
    assert services.starting_content(key, stranger) is None


def test_deleting_a_draft_removes_its_revisions(owner):
    from petitions.appeals.models import Appeal, AppealRevision

    appeal = services.create_appeal(owner, LETTER)
    services.save_text(appeal, owner, LETTER | {"body": "v2"})
    services.delete_draft(appeal, owner)
    db.session.commit()
    assert db.session.query(Appeal).count() == 0 and db.session.query(AppealRevision).count() == 0
    opened = services.create_appeal(owner, LETTER)
    services.publish_appeal(opened)
    with pytest.raises(IllegalTransition):
        services.delete_draft(opened, owner)


def test_state_moves_are_model_methods_that_refuse_illegal_ones(owner):
    appeal = services.create_appeal(owner, LETTER)
    services.publish_appeal(appeal)
    with pytest.raises(IllegalTransition, match="no new revision"):
        services.publish_revision(appeal, owner)
    services.close_appeal(appeal)
    with pytest.raises(IllegalTransition, match="closed"):
        appeal.add_revision(appeal.content(), owner)
    assert appeal.revision_count == 1


def test_an_invitation_is_accepted_once_and_never_after_a_revocation(owner):
    appeal = services.create_appeal(owner, LETTER)
    invitation = AppealInvitation(appeal=appeal, email="x@example.org", role=Role.EDITOR, invited_by_id=owner.id)
    invitation.accept(owner)
    with pytest.raises(IllegalTransition):
        invitation.accept(owner)
    revoked = AppealInvitation(appeal=appeal, email="y@example.org", role=Role.EDITOR, invited_by_id=owner.id)
    revoked.revoke()
    with pytest.raises(IllegalTransition):
        revoked.accept(owner)
    assert revoked.accepted_at is None
