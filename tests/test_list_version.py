"""The appeal's maintained count and list version follow every change to its list (signing/rules.py)."""
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from petitions.appeals.models import Appeal
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.privacy import retention
from petitions.signing.models import (Level, ModerationError, Signature, SignatureStateError, SignatureStatus,
                                      SignerKind, Visibility)
from petitions.signing.rules import counted_organizations, counted_total, listed_signatures, lists_changed

from .conftest import new_appeal

OPERATIONS = ("add", "confirm", "withdraw", "reject", "approve", "vouch", "merge", "unmerge", "rename",
              "hide", "show", "organization", "delete", "bulk_insert", "expire", "stop_updates",
              "anonymous_display", "official")


def _published(owner, title="Free them all"):
    appeal = new_appeal(owner, title, "PACE")
    appeal.publish()
    db.session.commit()
    return appeal


def _signature(appeal, n: int, **values) -> Signature:
    return Signature(appeal_id=appeal.id, full_name=f"Signer {n}", text_hash=appeal.content_hash or "",
                     consent_at=utcnow(), email_hash=f"hash-{appeal.id}-{n}", **values)


def _snapshot(appeal):
    return [(e.signature_id, e.display_line, e.level, e.revision_id)
            for audience in ("public_page", "addressee_pdf") for e in listed_signatures(appeal, audience)]


def _apply(appeal, owner, op: str, pick: int, other: int, serial: int) -> None:
    ids = list(db.session.scalars(select(Signature.id).where(Signature.appeal_id == appeal.id)
                                  .order_by(Signature.id)))
    if op == "add":
        db.session.add(_signature(appeal, serial, status=SignatureStatus.CONFIRMED if pick % 2 else
                                  SignatureStatus.PENDING, confirmed_at=utcnow() if pick % 2 else None))
        return
    if op == "bulk_insert":  # as the importer writes vouched rows: around the ORM
        db.session.execute(insert(Signature), [dict(
            appeal_id=appeal.id, full_name=f"Imported {serial}-{i}", text_hash="", consent_at=utcnow(),
            status="confirmed", level=("vouched", "official")[i % 2 * pick % 2],
            visibility=("public", "addressees")[i % 2], review="unreviewed", kind="person",
            confirmed_at=utcnow(), email_hash=f"import-{appeal.id}-{serial}-{i}", affiliation="", country="",
            flags=[], organization_name="", signer_role="", wants_updates=False) for i in range(pick % 3 + 1)])
        lists_changed([appeal.id])
        return
    if op == "expire":  # retention deletes pending signatures with the stale links, detaching their duplicates
        db.session.commit()
        retention.purge(now=utcnow() + timedelta(days=3650))
        return
    if op == "anonymous_display":  # applies to signers who choose anonymity from now on
        appeal.anonymous_display = ("withheld", "count", "country")[pick % 3]
        return
    if not ids:
        return
    signature = db.session.get(Signature, ids[pick % len(ids)])
    second = db.session.get(Signature, ids[other % len(ids)])
    try:
        with db.session.begin_nested():
            if op == "confirm":
                signature.confirm()
            elif op == "withdraw":
                signature.withdraw()
            elif op == "reject":
                signature.reject(owner, "Not a real person")
            elif op == "approve":
                signature.approve(owner)
            elif op == "vouch":
                signature.vouch(owner, "known")
            elif op == "merge":
                signature.merge_into(second)
            elif op == "unmerge":
                signature.unmerge()
            elif op == "rename":
                signature.correct_identity(f"Renamed {serial}", "Bar association")
            elif op == "hide":
                signature.correct_listing("", Visibility.ANONYMOUS if pick % 2 else Visibility.ADDRESSEES)
            elif op == "show":
                signature.correct_listing("Norway", Visibility.PUBLIC)
            elif op == "organization":
                signature.correct_identity(signature.full_name, "", kind=SignerKind.ORGANIZATION,
                                           organization_name="Union", signer_role="Chair")
            elif op == "delete":
                db.session.execute(delete(Signature).where(Signature.merged_into_id == signature.id)
                                   .execution_options(synchronize_session="fetch"))
                db.session.delete(signature)
            elif op == "official":  # the registry's proof of an organization's contact
                signature.take_proven_level(Level.OFFICIAL if pick % 2 else Level.EMAIL)
            elif op == "stop_updates":
                signature.stop_updates()
    except (ModerationError, SignatureStateError):
        pass  # an illegal move is refused and changes nothing


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 50), st.integers(0, 50)),
                min_size=1, max_size=25))
def test_count_and_version_follow_every_change_to_the_list(app, steps):
    owner = register_user("Owner", f"owner{utcnow().timestamp()}@example.org", "a long password")
    appeal = _published(owner, f"Appeal {utcnow().timestamp()}")
    for serial, (op, pick, other) in enumerate(steps):
        before_version, before_list = appeal.list_version, _snapshot(appeal)
        _apply(appeal, owner, op, pick, other, serial)
        db.session.commit()
        assert appeal.signature_count == counted_total(appeal), (op, serial)
        assert appeal.public_count == len(listed_signatures(appeal, "public_page")), (op, serial)
        assert appeal.organization_count == counted_organizations(appeal), (op, serial)
        if _snapshot(appeal) != before_list:
            assert appeal.list_version > before_version, (op, serial)


def test_a_change_only_to_what_no_list_shows_keeps_the_version(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = _published(owner)
    signature = _signature(appeal, 1, wants_updates=True)
    db.session.add(signature)
    db.session.commit()
    assert appeal.list_version == 0  # a pending signature is not listed
    signature.confirm()
    db.session.commit()
    version = appeal.list_version
    assert version == 1 and appeal.signature_count == 1 and appeal.list_changed_at is not None
    signature.stop_updates()
    signature.reminded_at = utcnow()
    db.session.commit()
    assert appeal.list_version == version


def test_counts_of_other_appeals_stay(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    first, second = _published(owner, "First"), _published(owner, "Second")
    db.session.add_all([_signature(first, 1, status=SignatureStatus.CONFIRMED, confirmed_at=utcnow()),
                        _signature(second, 2, status=SignatureStatus.CONFIRMED, confirmed_at=utcnow()),
                        _signature(second, 3, status=SignatureStatus.CONFIRMED, confirmed_at=utcnow())])
    db.session.commit()
    assert [a.signature_count for a in db.session.scalars(select(Appeal).order_by(Appeal.id))] == [1, 2]
