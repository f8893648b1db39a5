"""The PDF's kept list (pdf/listing.py): after any sequence of changes it equals a whole read of the list."""
import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.pdf import listing
from petitions.privacy import selfservice
from petitions.signing import operations
from petitions.signing import rules
from petitions.signing.models import Review, Signature, SignatureStatus, Visibility
from petitions.i18n import with_locale

from .conftest import new_appeal

AUDIENCES = ("addressee_pdf", "public_pdf")
_worlds = itertools.count()


@pytest.fixture
def keep_short_lists(monkeypatch):
    monkeypatch.setattr(listing, "MIN_ENTRIES", 1)
    listing.forget()
    yield
    listing.forget()


@pytest.fixture
def reads(monkeypatch):
    """Record the `since` of every list read the kept list makes."""
    seen = []
    real = listing.listed_signatures

    def spy(appeal, audience, since=None):
        seen.append(since)
        return real(appeal, audience, since=since)

    monkeypatch.setattr(listing, "listed_signatures", spy)
    return seen


def whole(appeal, audience):
    with with_locale("en"):
        return [(s.signature_id, listing.entry_of(s, 1)) for s in rules.listed_signatures(appeal, audience)]


def kept(appeal, audience):
    return [(s.signature_id, e) for s, e in listing.listed_entries(appeal, audience, "en", {}, 1)]


class World:
    """One appeal and the changes a list goes through."""

    def __init__(self):
        owner = register_user("Owner", f"owner{next(_worlds)}@example.org", "a long password")
        self.appeal = new_appeal(owner, "Free them", "UN", "We ask.")
        self.appeal.publish()
        db.session.commit()
        self.n = 0

    def signatures(self, status=None):
        query = db.session.query(Signature).filter_by(appeal_id=self.appeal.id)
        if status is not None:
            query = query.filter_by(status=status)
        return query.order_by(Signature.id).all()

    def pick(self, status=SignatureStatus.CONFIRMED):
        found = self.signatures(status)
        return found[self.n % len(found)] if found else None

    def sign(self, confirm=True):
        self.n += 1
        signature = operations.sign(self.appeal, f"Signer {self.n} Nümunə", "Lawyer", f"s{self.n}@example.org",
                                    visibility="public" if self.n % 3 else "addressees").signature
        if confirm:
            signature.confirm()
        return signature

    def confirm_late(self):
        # A confirmation flushed within APPEND_WITHIN of now but before the newest one kept: clocks differ.
        signature = self.sign(confirm=False)
        db.session.flush()
        signature.confirm()
        signature.confirmed_at = utcnow() - timedelta(seconds=40)

    def confirm_pending(self):
        signature = self.pick(SignatureStatus.PENDING)
        if signature is not None:
            signature.confirm()

    def withdraw(self):
        signature = self.pick()
        if signature is not None:
            operations.withdraw(operations.withdrawal_token(signature))

    def reject(self):
        signature = self.pick()
        if signature is not None:
            signature.review = Review.REJECTED

    def readmit(self):
        for signature in self.signatures():
            if signature.review is Review.REJECTED:
                signature.review = Review.UNREVIEWED
                return

    def hide(self):
        signature = self.pick()
        if signature is not None:
            signature.visibility = Visibility.ANONYMOUS if self.n % 2 else Visibility.ADDRESSEES

    def rename(self):
        signature = self.pick()
        if signature is not None:
            signature.full_name = signature.full_name + " Corrected"

    def erase(self):
        signature = self.pick()
        if signature is not None:
            selfservice.erase(signature)

    def merge(self):
        confirmed = self.signatures(SignatureStatus.CONFIRMED)
        if len(confirmed) >= 2:
            confirmed[-1].merged_into_id = confirmed[0].id

    def bulk(self):
        # A write around the ORM, as imports and moderation in bulk make, reports itself.
        db.session.execute(update(Signature).where(Signature.appeal_id == self.appeal.id)
                           .values(country="AZ").execution_options(synchronize_session=False))
        rules.lists_changed([self.appeal.id])
        db.session.expire_all()


STEPS = ("sign", "sign", "sign", "confirm_late", "confirm_pending", "withdraw", "reject", "readmit", "hide",
         "rename", "erase", "merge", "bulk")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=14))
def test_the_kept_list_equals_a_whole_read_after_any_changes(app, keep_short_lists, steps):
    world = World()
    for _ in range(3):
        world.sign()
    db.session.commit()
    for audience in AUDIENCES:
        assert kept(world.appeal, audience) == whole(world.appeal, audience)
    for step in steps:
        getattr(world, step)()
        db.session.commit()
        for audience in AUDIENCES:
            assert kept(world.appeal, audience) == whole(world.appeal, audience), (step, audience)


def test_new_confirmations_are_read_alone_and_anything_else_reads_the_whole_list(app, keep_short_lists, reads):
    world = World()
    for _ in range(3):
        world.sign()
    db.session.commit()
    before = world.appeal.list_rewrite_version
    kept(world.appeal, "addressee_pdf")
    assert reads == [None]  # the first read is whole
    world.sign()
    world.confirm_late()
    db.session.commit()
    assert world.appeal.list_rewrite_version == before  # confirmations only add to the list
    assert kept(world.appeal, "addressee_pdf") == whole(world.appeal, "addressee_pdf")
    assert len(reads) == 2 and reads[1] is not None  # only the newest rows again
    assert kept(world.appeal, "addressee_pdf") == whole(world.appeal, "addressee_pdf")
    assert len(reads) == 2  # nothing changed: nothing read
    world.reject()
    db.session.commit()
    assert world.appeal.list_rewrite_version == world.appeal.list_version
    assert kept(world.appeal, "addressee_pdf") == whole(world.appeal, "addressee_pdf")
    assert reads[2] is None  # a rejection: the whole list again


def test_a_confirmation_flushed_long_after_it_was_stamped_is_a_rewrite(app, keep_short_lists):
    world = World()
    world.sign()
    db.session.commit()
    signature = world.sign(confirm=False)
    db.session.commit()
    signature.confirm()
    signature.confirmed_at = utcnow() - timedelta(hours=1)  # an import of an old confirmation, a stuck clock
    db.session.commit()
    assert world.appeal.list_rewrite_version == world.appeal.list_version


def test_an_erasure_drops_the_kept_list_of_its_appeal(app, keep_short_lists):
    from petitions.pdf import jobs

    world = World()
    for _ in range(2):
        world.sign()
    db.session.commit()
    kept(world.appeal, "addressee_pdf")
    assert any(key[1] == world.appeal.id for key in listing._KEPT)
    jobs.forget_listings(world.appeal.id, None, "erased")
    assert not any(key[1] == world.appeal.id for key in listing._KEPT)
