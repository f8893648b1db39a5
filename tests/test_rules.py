"""One rule of what counts and who is named, read back from every surface that shows signatures.

For each special state an appeal holds the same ordinary confirmed signatures plus one signature in that state,
all made through the real operations (sign, confirm link, moderation, merge, withdrawal link), so that every
surface's number shows whether that one signature counts. Every surface (public page, chart, review summary and
page, CSV export, API, public PDF, addressee PDF) is read once per appeal; each state is its own test.
"""
import csv
import io
import itertools
import re

import pytest
from pypdf import PdfReader

from petitions import create_app
from petitions.appeals import chart
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.pdf import jobs
from petitions.signatories import queue as review
from petitions.signatories.models import DuplicatePair
from petitions.signing import levels, operations
from petitions.signing.models import Level, Review, Signature, SignatureStatus, SignerKind, Visibility
from petitions.signing.rules import NAME_WITHHELD, counting_clause, counts, standing_clause, stands

from .conftest import base_config, copy_database, csrf_token, fresh_requests, new_appeal

PASSWORD = "a long password"
ORDINARY = ("Lalə Bağırova", "Elmar Hüseynov")
KEEPER = "Tofiq Qasımov"  # the signature the merged one is merged into
# The signer of each special state, with the visibility they chose.
STATES = {
    "rejected": ("Rauf Mirzəyev", "public"),
    "merged": ("Tofig Gasimov", "public"),
    "withdrawn": ("Nigar Səfərli", "public"),
    "anonymous": ("Ramil Zeynalov", "anonymous"),
    "addressee_only": ("Tofiq Nəsirli", "addressees"),
}
SURFACES = ("public_page", "chart", "review_summary", "review_page", "export", "api", "public_pdf", "addressee_pdf")
# Surfaces that name signers.
NAMING = ("public_page", "export", "api", "public_pdf", "addressee_pdf")
# What each state does: whether it counts, and on which naming surfaces its signer's name appears.
EXPECTED = {
    "rejected": (False, set()),
    "merged": (False, set()),
    "withdrawn": (False, set()),
    "anonymous": (True, set()),
    "addressee_only": (True, {"export", "addressee_pdf"}),
}


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def _sign(appeal, name: str, n: int, visibility: str = "public") -> Signature:
    signature = operations.sign(appeal, name, "Journalist", f"signer{n}@example.org", visibility=visibility,
                                country="Azerbaijan").signature
    db.session.commit()
    operations.confirm(operations.confirmation_token(signature))
    db.session.commit()
    return signature


def _build(owner, state: str):
    appeal = new_appeal(owner, f"Release the journalists ({state})", "Council of Europe", "We ask.")
    appeal.anonymous_display = "withheld"
    appeal.publish()
    db.session.commit()
    numbers = itertools.count(1)
    for name in ORDINARY:
        _sign(appeal, name, next(numbers))
    keeper = _sign(appeal, KEEPER, next(numbers))
    name, visibility = STATES[state]
    special = _sign(appeal, name, next(numbers), visibility)
    if state == "rejected":
        review.moderate(appeal, owner, [special.id], "reject", "Not a real person.")
    elif state == "merged":
        review.scan_duplicates(appeal, owner)
        pair = db.session.scalars(db.select(DuplicatePair).where(
            DuplicatePair.first_id.in_([keeper.id, special.id]),
            DuplicatePair.second_id.in_([keeper.id, special.id]))).one()
        assert review.merge(appeal, owner, pair.id) is keeper
    elif state == "withdrawn":
        operations.withdraw(operations.withdrawal_token(special))
    db.session.commit()
    for audience in ("public", "addressees"):
        job = jobs.run_job(jobs.request_render(appeal, audience).id)
        db.session.commit()
        assert job.status.value == "done", job.error
    return appeal


def _count(pattern: str, text: str) -> int:
    found = re.findall(pattern, text)
    assert len(found) == 1, (pattern, found)
    return int(found[0].replace(",", ""))


def _read(client, appeal) -> dict:
    """Return, per surface, the number of signatures that count and (where it names signers) its text."""
    slug = appeal.slug
    page = re.sub(r"</?bdi[^>]*>", "", client.get(f"/a/{slug}").get_data(as_text=True))
    api_total = client.get(f"/api/v1/appeals/{slug}").get_json()["signatures"]["total"]
    api_list = client.get(f"/api/v1/appeals/{slug}/signatures?limit=500").get_json()
    public_pdf = _pdf_text(client.get(f"/a/{slug}/public.pdf").data)
    addressee = client.get(f"/organizer/appeals/{slug}/pdf")
    assert addressee.status_code == 200
    addressee_pdf = _pdf_text(addressee.data)
    review_page = client.get(f"/organizer/appeals/{slug}/review").get_data(as_text=True)
    levels_list = re.search(r'<ul class="levels".*?</ul>', review_page, re.S).group(0)
    exported = client.get(f"/organizer/appeals/{slug}/export.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    counted_rows = [row for row in rows if row["counts"] == "yes"]
    return {
        "count": {
            "public_page": _count(r'<p class="glance-count"><strong>([\d,]+)</strong>', page),
            "chart": sum(chart.confirmed_per_day([appeal.id])[appeal.id]),
            "review_summary": sum(levels.level_summary(appeal).values()),
            "review_page": sum(int(n) for n in re.findall(r"<strong>(\d+)</strong>", levels_list)),
            "export": len(counted_rows),
            "api": api_total,
            "api_list": api_list["total"],
            "public_pdf": _count(r"Signatories \(([\d,]+)\)", public_pdf),
            "addressee_pdf": _count(r"Signatories \(([\d,]+)\)", addressee_pdf),
        },
        "text": {
            "public_page": page,
            "export": "\n".join(row["name"] for row in counted_rows),
            "api": "\n".join(entry["name"] for entry in api_list["signatures"]),
            "public_pdf": public_pdf,
            "addressee_pdf": addressee_pdf,
        },
    }


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory, migrated_db):
    """Return what every surface shows, per state."""
    tmp = tmp_path_factory.mktemp("rules")
    app = create_app({**base_config(copy_database(migrated_db, tmp / "db.sqlite")), "MAIL_TRANSPORT": "outbox"})
    app.instance_path = str(tmp / "instance")
    fresh_requests(app)
    with app.app_context():
        owner = register_user("Owner", "owner@example.org", PASSWORD)
        db.session.commit()
        client = app.test_client()
        client.post("/auth/login", data={"email": "owner@example.org", "password": PASSWORD,
                                         "csrf_token": csrf_token(client, "/auth/login")})
        yield {state: _read(client, _build(owner, state)) for state in STATES}
        db.session.remove()
        db.engine.dispose()


BASELINE = len(ORDINARY) + 1  # the ordinary signatures and the one the merged signature went into


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_counts_the_same_on_every_surface(surfaces, state):
    counted, _named = EXPECTED[state]
    expected = BASELINE + counted
    assert surfaces[state]["count"] == dict.fromkeys((*SURFACES, "api_list"), expected)


@pytest.mark.parametrize("state", list(STATES))
def test_each_state_is_named_only_where_its_signer_allows(surfaces, state):
    _counted, named = EXPECTED[state]
    name = STATES[state][0]
    seen = surfaces[state]["text"]
    assert {surface for surface in NAMING if name in seen[surface]} == named
    # The ordinary signers are named everywhere; "Name withheld" stands only for an anonymous signer.
    for surface, text in seen.items():
        assert all(ordinary in text for ordinary in (*ORDINARY, KEEPER)), surface
        assert (str(NAME_WITHHELD) in text) is (state == "anonymous"), surface


@pytest.fixture
def one_of_each_state(app):
    """Return a signature in every combination of the fields the counting rule reads."""
    owner = register_user("Owner", "owner@example.org", PASSWORD)
    appeal = new_appeal(owner, "Every state", "Council of Europe", "We ask.")
    appeal.publish()
    db.session.commit()
    primary = operations.sign(appeal, "Primary Signer", "", "primary@example.org").signature
    made = []
    combinations = itertools.product(SignatureStatus, Review, (False, True))
    for n, (status, verdict, merged) in enumerate(combinations):
        signature = Signature(appeal=appeal, full_name=f"Signer {n}", email_hash=f"{n:064d}", text_hash="x",
                              consent_at=appeal.published_at, status=status, review=verdict,
                              level=Level.EMAIL, visibility=Visibility.PUBLIC, kind=SignerKind.PERSON)
        db.session.add(signature)
        db.session.flush()
        if merged:
            signature.merged_into_id = primary.id  # every combination, legal moves or not: the rule reads them all
        made.append(signature)
    db.session.commit()
    return made


def test_the_python_rule_and_the_sql_clause_agree_on_every_state(one_of_each_state):
    ids = [s.id for s in one_of_each_state]
    by_sql = set(db.session.scalars(db.select(Signature.id).where(Signature.id.in_(ids), counting_clause())))
    assert by_sql == {s.id for s in one_of_each_state if counts(s)}
    assert all(isinstance(counts(s), bool) for s in one_of_each_state)
    standing = set(db.session.scalars(db.select(Signature.id).where(Signature.id.in_(ids), standing_clause())))
    assert standing == {s.id for s in one_of_each_state if stands(s)}
    # The rule itself: confirmed, not rejected, not merged.
    assert {s.id for s in one_of_each_state if counts(s)} == {
        s.id for s in one_of_each_state if s.status is SignatureStatus.CONFIRMED and s.review is not Review.REJECTED
        and s.merged_into_id is None}
