"""The pages many people read cost the same at 10 and at 1,000 signatures: the same SQL statements per request."""
import threading

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, insert

from petitions import i18n
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature
from petitions.signing.rules import lists_changed

from .conftest import csrf_token, new_appeal


def add_signatures(appeal, start: int, count: int) -> None:
    """Store confirmed signatures in one statement, as the importer does (its bump included)."""
    now = utcnow()
    db.session.execute(insert(Signature), [dict(
        appeal_id=appeal.id, full_name=f"Signer {n}", affiliation=("Lawyer", "جمعية المحامين")[n % 2],
        country="", text_hash=appeal.content_hash, consent_at=now, status="confirmed", level="email",
        visibility=("public", "addressees", "anonymous")[n % 3], anonymous_display="withheld", review="unreviewed",
        kind=("person", "organization")[n % 5 == 0], organization_name="Union" if n % 5 == 0 else "",
        signer_role="", confirmed_at=now, email_hash=f"{n:064d}", flags=[], wants_updates=False,
        revision_id=appeal.published_revision_id) for n in range(start, start + count)])
    lists_changed([appeal.id])
    db.session.commit()


class Statements:
    """Count the SQL statements this thread sends (the mail worker's own are not the request's), and the
    signatures it loads as objects."""

    def __init__(self, engine):
        self.engine, self.count, self.loaded, self.thread = engine, 0, 0, threading.get_ident()

    def statement(self, *args):
        if threading.get_ident() == self.thread:
            self.count += 1

    def load(self, *args):
        if threading.get_ident() == self.thread:
            self.loaded += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self.statement)
        event.listen(Signature, "load", self.load)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self.statement)
        event.remove(Signature, "load", self.load)


def statements_per_page(app, appeal, organizer, loaded: dict | None = None) -> dict[str, int]:
    anonymous = app.test_client()
    paths = {"public page": f"/a/{appeal.slug}", "list page": f"/a/{appeal.slug}/signatories",
             "sign page": f"/a/{appeal.slug}/sign", "api appeal": f"/api/v1/appeals/{appeal.slug}",
             "api list": f"/api/v1/appeals/{appeal.slug}/signatures?limit=50", "index": "/"}
    counts = {}
    for name, path in paths.items():
        with Statements(db.engine) as statements:
            assert anonymous.get(path).status_code == 200, path
        counts[name] = statements.count
        if loaded is not None:
            loaded[name] = statements.loaded
    for name, path in {"organizer page": f"/organizer/appeals/{appeal.slug}", "dashboard": "/organizer/"}.items():
        with Statements(db.engine) as statements:
            assert organizer.get(path).status_code == 200, path
        counts[name] = statements.count
        if loaded is not None:
            loaded[name] = statements.loaded
    return counts


def test_the_same_statements_at_10_and_at_1000_signatures(app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free the reporters", "PACE", "Text.")
    appeal.publish()
    db.session.commit()
    organizer = app.test_client()
    organizer.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                        "csrf_token": csrf_token(organizer, "/auth/login")})
    add_signatures(appeal, 0, 10)
    few = statements_per_page(app, appeal, organizer)
    add_signatures(appeal, 10, 990)  # a new list version: no page is served from a cached copy
    loaded = {}
    many = statements_per_page(app, appeal, organizer, loaded)
    assert many == few
    # Not the whole list in one statement either: no page holds more signatures than one page shows.
    assert max(loaded.values()) <= app.config["SIGNATORIES_PAGE_SIZE"] + 1, loaded
    assert appeal.signature_count == 1000


NAMES = st.text(st.sampled_from("Ab zé Ə-, 2019()<&" + "مريم علي" + "אבג" + "\u200f\u0301"), max_size=30)


@settings(max_examples=300)
@given(NAMES)
def test_isolate_shortcut_gives_what_the_walk_through_the_characters_gives(name):
    assert i18n.isolate(name) == i18n.isolated_runs(name)
