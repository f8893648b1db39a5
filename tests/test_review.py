"""The review queue: approve, reject, vouch, merge, dismiss, filters, pages, permissions, export."""
import csv
import io
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from petitions.appeals import services as appeals
from petitions.audit.models import AuditEvent
from petitions.members.models import AppealMember, Role
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.signatories import queue as review
from petitions.signatories.models import DuplicatePair, PairState
from petitions.signing import operations as signing
from petitions.signing import levels as verification
from petitions.signing.models import Level, ModerationError, Review, Signature, SignatureStatus
from petitions.signing.rules import counted_signatures
from petitions.updates import operations as updates

from .conftest import csrf_token, new_appeal

PASSWORD = "a long password"


@pytest.fixture
def team(app):
    return make_team()


def make_team():
    owner = register_user("Owner Person", "owner@example.org", PASSWORD)
    reviewer = register_user("Reviewer Person", "reviewer@example.org", PASSWORD)
    editor = register_user("Editor Person", "editor@example.org", PASSWORD)
    register_user("Outsider", "outsider@example.org", PASSWORD)
    appeal = new_appeal(owner, "Free the bloggers", "UN", "We ask.")
    appeals.publish_appeal(appeal)
    db.session.add_all([AppealMember(appeal=appeal, user=reviewer, role=Role.REVIEWER),
                        AppealMember(appeal=appeal, user=editor, role=Role.EDITOR)])
    db.session.commit()
    return {"appeal": appeal, "owner": owner, "reviewer": reviewer, "editor": editor}


def add(appeal, name, affiliation="", email=None, confirm=True):
    """Sign through the real operation, then confirm through the token of the mailed link (unless told not to)."""
    outcome = signing.sign(appeal, name, affiliation, email or f"signer{next(_ADDRESSES)}@example.org")
    if confirm:
        signing.confirm(signing.confirmation_token(outcome.signature))
    db.session.flush()
    return outcome.signature


_ADDRESSES = itertools.count(1)


def login(client, email):
    from flask import g

    # Tests share one app context, so `g` outlives requests: each new client starts without cached
    # CSRF token or user, as a real request would.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    token = csrf_token(client, "/auth/login")
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                            "csrf_token": token}).status_code == 303


def test_reject_needs_a_reason_and_hides_the_signature_from_list_count_and_pdf(team):
    appeal, owner = team["appeal"], team["owner"]
    keep, spam = add(appeal, "Anar Kərimov", "Lawyer"), add(appeal, "Buy Followers Now", "www.spam.example")
    db.session.commit()
    with pytest.raises(review.ModerationError, match="reason"):
        review.moderate(appeal, owner, [spam.id], "reject", "  ")
    done, problems = review.moderate(appeal, owner, [spam.id], "reject", "Advertising, not a person")
    db.session.commit()
    assert (done, problems) == (1, [])
    assert spam.review is Review.REJECTED and spam.review_reason == "Advertising, not a person"
    assert spam.reviewed_by_id == owner.id and spam.reviewed_at
    assert counted_signatures(appeal) == [keep]
    assert appeals.signature_counts([appeal.id])[appeal.id]["confirmed"] == 1
    assert verification.level_summary(appeal)[Level.EMAIL] == 1
    assert db.session.get(Signature, spam.id) is not None  # kept, with its reason
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatures.reject"))
    assert event_.detail == {"signatures": [spam.id], "reason": "Advertising, not a person"}
    assert review.moderate(appeal, owner, [spam.id], "approve")[0] == 1
    assert spam.review is Review.APPROVED and spam.review_reason == ""


def test_vouch_records_who_when_and_note_and_confirms_a_pending_signature(team):
    appeal, reviewer = team["appeal"], team["reviewer"]
    pending = add(appeal, "Samirə Həsənova", "Teacher", confirm=False)
    rejected = add(appeal, "Nobody Real", "")
    review.moderate(appeal, reviewer, [rejected.id], "reject", "duplicate entry")
    done, problems = review.moderate(appeal, reviewer, [pending.id, rejected.id], "vouch", "Met her in Ganja")
    assert done == 1 and len(problems) == 1 and "approve it first" in problems[0]
    assert pending.level is Level.VOUCHED and pending.status is SignatureStatus.CONFIRMED
    assert (pending.vouched_by_id, pending.vouch_note) == (reviewer.id, "Met her in Ganja")
    assert pending.vouched_at is not None
    assert verification.level_summary(appeal)[Level.VOUCHED] == 1


def test_withdrawn_signatures_cannot_be_moderated(team):
    appeal, owner = team["appeal"], team["owner"]
    gone = add(appeal, "Rauf Əliyev")
    gone.withdraw()
    done, problems = review.moderate(appeal, owner, [gone.id], "approve")
    assert done == 0 and "withdrawn" in problems[0]


def test_scan_merge_counts_a_person_once_and_keeps_both_records(team):
    appeal, owner = team["appeal"], team["owner"]
    latin = add(appeal, "Tofiq Qasımov", "Baku State University")
    cyrillic = add(appeal, "Тофиг Гасымов", "")
    english = add(appeal, "Tofig Gasimov", "BSU", confirm=False)
    relative = add(appeal, "Samira Qasımova", "Baku State University")
    db.session.commit()
    assert review.scan_duplicates(appeal, None) == 3  # all pairs of the three spellings; never the relative
    pairs = db.session.scalars(select(DuplicatePair).order_by(DuplicatePair.id)).all()
    assert {p.first_id for p in pairs} | {p.second_id for p in pairs} == {latin.id, cyrillic.id, english.id}
    assert all(0.9 <= p.score <= 1 for p in pairs)
    assert review.scan_duplicates(appeal, None) == 0  # nothing new the second time

    first = next(p for p in pairs if {p.first_id, p.second_id} == {latin.id, cyrillic.id})
    kept = review.merge(appeal, owner, first.id)
    db.session.commit()
    assert kept is latin and cyrillic.merged_into_id == latin.id and first.state is PairState.MERGED
    assert db.session.get(Signature, cyrillic.id) is not None
    assert {s.id for s in counted_signatures(appeal)} == {latin.id, relative.id}
    assert appeals.signature_counts([appeal.id])[appeal.id]["confirmed"] == 2
    assert verification.level_summary(appeal)[Level.EMAIL] == 2  # latin and the relative; not the merged one
    with pytest.raises(review.ModerationError, match="already merged"):
        review.merge(appeal, owner, first.id)
    # The pair with the merged record is no longer offered; the other one is.
    open_ids = {(r.first.id, r.second.id) for r in review.open_pairs(appeal)[0]}
    assert open_ids == {(latin.id, english.id)}

    other = next(p for p in pairs if {p.first_id, p.second_id} == {latin.id, english.id})
    review.dismiss(appeal, owner, other.id)
    db.session.commit()
    assert review.open_pairs(appeal)[0] == [] and review.scan_duplicates(appeal, None) == 0
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "signatures.merged" in actions and "signatures.duplicate_dismissed" in actions

    review.unmerge(appeal, owner, cyrillic.id)
    assert cyrillic.merged_into_id is None


def test_merge_keeps_the_better_verified_record_and_repoints_earlier_merges(team):
    appeal, owner = team["appeal"], team["owner"]
    a, b, c = add(appeal, "Leyla Nəbiyeva", "Student"), add(appeal, "Leyla Nabiyeva", "Student"), \
        add(appeal, "Лейла Набиева", "Student")
    c.level = Level.DOMAIN
    db.session.commit()
    review.scan_duplicates(appeal, None)
    ab = db.session.scalar(select(DuplicatePair).where(DuplicatePair.first_id == a.id,
                                                      DuplicatePair.second_id == b.id))
    assert review.merge(appeal, owner, ab.id) is a
    ac = db.session.scalar(select(DuplicatePair).where(DuplicatePair.first_id == a.id,
                                                      DuplicatePair.second_id == c.id))
    assert review.merge(appeal, owner, ac.id) is c
    assert (a.merged_into_id, b.merged_into_id) == (c.id, c.id)
    assert [s.id for s in counted_signatures(appeal)] == [c.id]



def test_only_a_merged_record_follows_its_primary(team):
    appeal = team["appeal"]
    a, b, c = add(appeal, "Anar Quliyev", ""), add(appeal, "Anar Guliyev", ""), add(appeal, "Tural Həsənov", "")
    with pytest.raises(ModerationError):
        a.follow_merge(c)  # a was never merged: following would merge it behind the organizers' back
    b.merge_into(a)
    c.merge_into(a)
    with pytest.raises(ModerationError):
        b.follow_merge(c)  # merges stay one level deep: c is merged itself
    assert b.merged_into_id == a.id

def test_queue_filters_and_keyset_pages(team):
    appeal = team["appeal"]
    for i in range(7):
        add(appeal, f"Person Number{'x' * i} Test", "")
    flagged = add(appeal, "www.example-shop.com", "")
    pending = add(appeal, "Waiting Person", "", confirm=False)
    pending.language = "az"
    db.session.commit()
    page = review.queue_page(appeal, review.QueueFilter(), size=4)
    assert page.total == 9 and len(page.rows) == 4 and page.rows[0].signature.id == pending.id
    ids = [r.signature.id for r in page.rows]
    while page.next_before:
        page = review.queue_page(appeal, review.QueueFilter(), before=page.next_before, size=4)
        ids += [r.signature.id for r in page.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 9
    assert [r.signature.id for r in review.queue_page(appeal, review.QueueFilter(flag="url")).rows] == [flagged.id]
    assert [r.signature.id for r in review.queue_page(appeal, review.QueueFilter(flag="any")).rows] == [flagged.id]
    assert [r.signature.id for r in review.queue_page(appeal, review.QueueFilter(level="unconfirmed")).rows] \
        == [pending.id]
    assert [r.signature.id for r in review.queue_page(appeal, review.QueueFilter(language="az")).rows] \
        == [pending.id]


def test_queue_page_costs_the_same_number_of_queries_for_10_and_50_rows(team, app):
    appeal, owner = team["appeal"], team["owner"]
    org = registry.add_organization("Institute of Physics", domains=["physics.example"])
    for i in range(50):
        sig = add(appeal, f"Scientist Number{i:02d}", "Institute of Physics")
        sig.organization_id = org.id
        sig.vouch(owner, "known")
    db.session.commit()
    client = app.test_client()
    login(client, "owner@example.org")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        counts = []
        client.get(f"/organizer/appeals/{appeal.slug}/review")  # warm up: the first request loads more
        for size in (10, 50):
            review.PAGE_SIZE = size
            statements.clear()
            response = client.get(f"/organizer/appeals/{appeal.slug}/review")
            assert response.status_code == 200
            counts.append(len(statements))
    finally:
        review.PAGE_SIZE = 50
        event.remove(db.engine, "before_cursor_execute", listener)
    html = response.get_data(as_text=True)
    assert "Scientist Number49" in html and "Owner Person" in html and "Institute of Physics" in html
    assert counts[0] == counts[1]


def test_review_pages_need_the_moderate_permission(team, app):
    appeal = team["appeal"]
    pages = ["review", "duplicates", "organizations", "import"]
    for email, expected in (("reviewer@example.org", 200), ("editor@example.org", 403),
                            ("outsider@example.org", 404)):
        client = app.test_client()
        login(client, email)
        for page in pages:
            assert client.get(f"/organizer/appeals/{appeal.slug}/{page}").status_code == expected, (email, page)
    from flask import g

    g.pop("_login_user", None)
    anonymous = app.test_client().get(f"/organizer/appeals/{appeal.slug}/review")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_bulk_actions_over_http(team, app):
    appeal = team["appeal"]
    a, b, c = add(appeal, "Aysel Məmmədova"), add(appeal, "Bəxtiyar Hacıyev"), add(appeal, "Cavid Rəsulov")
    db.session.commit()
    client = app.test_client()
    login(client, "reviewer@example.org")
    url = f"/organizer/appeals/{appeal.slug}/review"
    token = csrf_token(client, url)
    response = client.post(url, data={"ids": [a.id, b.id], "approve": "Approve", "csrf_token": token})
    assert response.status_code == 303
    no_reason = client.post(url, data={"ids": [c.id], "reject": "Reject", "text": "", "csrf_token": token},
                            follow_redirects=True)
    assert "Give a reason" in no_reason.get_data(as_text=True)
    client.post(url, data={"ids": [c.id], "reject": "Reject", "text": "Signed twice", "csrf_token": token})
    db.session.expire_all()
    assert [s.review for s in (a, b, c)] == [Review.APPROVED, Review.APPROVED, Review.REJECTED]
    assert client.post(url, data={"ids": [a.id], "approve": "Approve"}).status_code == 400  # no CSRF token
    page = client.get(f"{url}?review=rejected").get_data(as_text=True)
    assert "Cavid Rəsulov" in page and "Signed twice" in page and "Aysel" not in page


def test_add_organization_from_the_review_screen_confirms_matching_signers(smtp_app):
    import re

    from flask import g

    from .conftest import message_text

    app, team = smtp_app, make_team()
    appeal = team["appeal"]
    sig = add(appeal, "Günel Mirzəyeva", "Researcher, Institute of Physics", email="gunel@physics.example")
    free = add(appeal, "Vüqar Əhmədov", "Institute of Physics", email="vuqar@mail.ru")
    db.session.commit()
    client = app.test_client()
    login(client, "reviewer@example.org")
    url = f"/organizer/appeals/{appeal.slug}/organizations"
    token = csrf_token(client, url)
    refused = client.post(url, data={"org-name": "Institute of Physics", "org-domains": "gmail.com",
                                     "org-submit": "1", "org-csrf_token": token})
    assert refused.status_code == 422 and "free-mail" in refused.get_data(as_text=True)
    added = client.post(url, data={"org-name": "Institute of Physics", "org-aliases": "IoP",
                                   "org-domains": "physics.example", "org-submit": "1", "org-csrf_token": token},
                        follow_redirects=True)
    assert "confirmed by their domain: 0" in added.get_data(as_text=True)  # an unproven domain confirms nothing
    db.session.expire_all()
    assert sig.level is Level.EMAIL
    org = db.session.scalar(select(registry.Organization).where(registry.Organization.name == "Institute of Physics"))
    sent = client.post(f"{url}/{org.id}/proof", data={"proof-domain_id": org.domains[0].id,
                                                      "proof-address": "lab@physics.example",
                                                      "proof-submit": "1", "proof-csrf_token": token})
    assert sent.status_code == 303
    # Besides the two signatures' confirmation mails, one proof mail, to the address given.
    signers = {"gunel@physics.example", "vuqar@mail.ru"}
    msg = next(m for m in app.smtp_sink.wait_for(3) if m["To"] not in signers)
    assert msg["To"] == "lab@physics.example"
    path = "/" + re.search(r"https?://\S+/registry/prove/\S+", message_text(msg)).group(0).split("/", 3)[3]
    g.pop("csrf_token", None)
    holder = app.test_client()
    assert holder.post(path, data={"csrf_token": csrf_token(holder, path)}).status_code == 200
    db.session.expire_all()
    assert sig.level is Level.DOMAIN and free.level is Level.EMAIL


def test_remind_unconfirmed_once_per_interval(smtp_app):
    owner = register_user("O", "o@example.org", PASSWORD)
    appeal = new_appeal(owner, "Reminders", "", "Body")
    appeal.publish()
    db.session.commit()
    old = signing.sign(appeal, "Old Signer", "", "old@example.org").signature
    signing.sign(appeal, "New Signer", "", "new@example.org")
    done = signing.sign(appeal, "Done Signer", "", "done@example.org").signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(done))
    for sig in (old, done):
        sig.created_at -= timedelta(days=3)
    db.session.commit()
    smtp_app.smtp_sink.wait_for(3)
    
    assert signing.remind_unconfirmed(appeal, None) == 1  # not the fresh one, not the confirmed one
    db.session.commit()
    assert signing.remind_unconfirmed(appeal, None) == 0  # once per REMIND_INTERVAL_DAYS
    old.reminded_at -= timedelta(days=smtp_app.config["REMIND_INTERVAL_DAYS"] + 1)
    assert signing.remind_unconfirmed(appeal, None) == 1
    db.session.commit()
    messages = smtp_app.smtp_sink.wait_for(5)
    assert [m["To"] for m in messages[3:]] == ["old@example.org", "old@example.org"]


def test_export_is_for_owners_only_and_audited(team, app):
    appeal, owner = team["appeal"], team["owner"]
    add(appeal, "=HYPERLINK(\"http://evil.example\")", "Lawyer")
    vouched = add(appeal, "Elçin Sadıqov", "Lawyer, Member of Bar Association")
    vouched.vouch(owner, "Known to us")
    gone = add(appeal, "Withdrawn Person")
    gone.withdraw()
    db.session.commit()
    url = f"/organizer/appeals/{appeal.slug}/export.csv"
    for email, expected in (("reviewer@example.org", 403), ("editor@example.org", 403),
                            ("outsider@example.org", 404)):
        client = app.test_client()
        login(client, email)
        assert client.get(url).status_code == expected
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "signatories.exported")) == 0
    client = app.test_client()
    login(client, "owner@example.org")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\")", "Elçin Sadıqov"]
    assert rows[1]["level"] == "vouched" and rows[1]["vouched_by"] == "Owner Person"
    assert rows[1]["revision"] == "1" and rows[1]["counts"] == "yes"
    assert "email" not in rows[0]
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signatories.exported"))
    assert event_.actor_id == owner.id and event_.detail == {"rows": 2, "via": "web"}


def test_export_command_writes_csv_and_audits(team, app, tmp_path):
    appeal = team["appeal"]
    add(appeal, "Nərmin Hüseynova", "Editor")
    db.session.commit()
    out = tmp_path / "export.csv"
    result = app.test_cli_runner().invoke(args=["signatories", "export", appeal.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["name"], r["level"]) for r in rows] == [("Nərmin Hüseynova", "email")]
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "signatories.exported"))["via"] \
        == "cli"
    missing = app.test_cli_runner().invoke(args=["signatories", "export", "nope", "-o", str(out)])
    assert missing.exit_code != 0 and "No appeal" in missing.output


def test_a_merge_carries_the_wish_for_updates_to_the_kept_record(team):
    appeal, owner = team["appeal"], team["owner"]
    kept = add(appeal, "Leyla Nəbiyeva", "Student")
    kept.level = Level.DOMAIN  # the better verified record is the one kept
    asked = signing.sign(appeal, "Leyla Nabiyeva", "Student", "leyla@example.org", wants_updates=True).signature
    signing.confirm(signing.confirmation_token(asked))
    db.session.commit()
    assert not kept.wants_updates and updates.subscriber_count(appeal) == 1
    review.scan_duplicates(appeal, None)
    pair = db.session.scalar(select(DuplicatePair))
    assert review.merge(appeal, owner, pair.id) is kept
    db.session.commit()
    assert kept.wants_updates and asked.merged_into_id == kept.id
    assert updates.subscriber_count(appeal) == 1  # the kept record, counted once
