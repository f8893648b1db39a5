"""Who sees which signature: 3 visibility choices × public page, public PDF, addressee PDF, API, export."""
import io
import re

import pytest
from pypdf import PdfReader

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.signing.rules import (
    UnknownAudience, counted_total, counted_totals, listed_signatures, offered_choices,
)
from petitions.signing import operations as signing
from petitions.signing.models import Review, Signature, Visibility

from .conftest import csrf_token, new_appeal

PUBLIC = ("Lalə Bağırova", "Teacher", "Azerbaijan")
ADDRESSEES = ("Tofiq Nəsirli", "Surgeon", "Georgia")
ANONYMOUS = ("Ramil Zeynalov", "Ombudsman Office", "Armenia")


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def app(make_app):
    """Mail goes to the dev outbox folder: these tests look at lists, not at mail."""
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def owner(app):
    user = register_user("Owner", "owner@example.org", "a long password")
    db.session.commit()
    return user


def make_appeal(owner, anonymous_display="affiliation"):
    appeal = new_appeal(owner, "Release the defenders", "Council of Europe", "We ask.")
    appeal.anonymous_display = anonymous_display
    appeal.publish()
    for (name, affiliation, country), choice, n in ((PUBLIC, "public", 1), (ADDRESSEES, "addressees", 2),
                                                     (ANONYMOUS, "anonymous", 3)):
        sig = signing.sign(appeal, name, affiliation, f"s{n}@example.org", visibility=choice, country=country).signature
        sig.confirm()
    db.session.commit()
    return appeal


def login(client):
    token = csrf_token(client, "/auth/login")
    client.post("/auth/login", data={"email": "owner@example.org", "password": "a long password",
                                     "csrf_token": token})


def render_public_pdf(appeal):
    """Make the public PDF as the organizers' side does: visitors never start a render."""
    from petitions.pdf import jobs

    job = jobs.request_render(appeal, "public", "standard")
    db.session.commit()
    return jobs.run_job(job.id)


def outputs(client, appeal) -> dict[str, str]:
    """Fetch every output through HTTP, as each audience gets it."""
    render_public_pdf(appeal)
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    public_pdf = pdf_text(client.get(f"/a/{appeal.slug}/public.pdf").data)
    api = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True)
    login(client)
    response = client.get(f"/organizer/appeals/{appeal.slug}/pdf")
    assert response.status_code == 200
    addressee_pdf = pdf_text(response.data)
    exported = client.get(f"/organizer/appeals/{appeal.slug}/export.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    export = exported.get_data(as_text=True)
    return {"public_page": page, "public_pdf": public_pdf, "addressee_pdf": addressee_pdf, "api": api,
            "export": export}


# Which signer's name each output may contain: (public, addressees-only, anonymous).
MATRIX = {
    "public_page": (True, False, False),
    "public_pdf": (True, False, False),
    "addressee_pdf": (True, True, False),
    "api": (True, False, False),
    "export": (True, True, False),
}


def test_visibility_matrix(client, owner):
    appeal = make_appeal(owner, anonymous_display="affiliation")
    seen = outputs(client, appeal)
    for output, expected in MATRIX.items():
        text = seen[output]
        for (name, affiliation, country), shown in zip((PUBLIC, ADDRESSEES, ANONYMOUS), expected):
            assert (name in text) is shown, f"{name} in {output}: expected {shown}"
        # Anonymous signers appear as "Name withheld" with their affiliation (organizer's choice), everywhere.
        assert "Name withheld" in text, output
        assert ANONYMOUS[1] in text, output
        # Addressee-only signers leave no trace at all in public outputs, not even their affiliation.
        if not expected[1]:
            assert ADDRESSEES[1] not in text and ADDRESSEES[2] not in text, output
    # Everyone is counted everywhere.
    assert "3</strong> confirmed signatures" in seen["public_page"]
    assert "Signatories (3)" in seen["public_pdf"] and "Signatories (3)" in seen["addressee_pdf"]
    assert '"total":3' in seen["api"].replace(" ", "")
    assert "1 more signatory is counted but not named here" in seen["public_page"]


def test_anonymous_only_counted_when_organizer_says_so(client, owner):
    appeal = make_appeal(owner, anonymous_display="count")
    seen = outputs(client, appeal)
    for output, text in seen.items():
        assert ANONYMOUS[0] not in text and ANONYMOUS[1] not in text and ANONYMOUS[2] not in text, output
        # The export is the organizers' record of every signature (rejected ones too): a row without details.
        assert ("Name withheld" in text) is (output == "export"), output
    assert "Signatories (3)" in seen["public_pdf"]
    assert "2 more signatories are counted but not named here" in seen["public_page"]
    assert len(listed_signatures(appeal, "export")) == 2 and counted_total(appeal) == 3


@pytest.mark.parametrize("display,expected", [
    ("withheld", "Name withheld"),
    ("affiliation", f"Name withheld – {ANONYMOUS[1]}"),
    ("country", f"Name withheld – {ANONYMOUS[2]}"),
])
def test_anonymous_display_lines(owner, display, expected):
    appeal = make_appeal(owner, anonymous_display=display)
    for audience in ("public_page", "public_pdf", "addressee_pdf", "api", "export"):
        lines = [e.display_line for e in listed_signatures(appeal, audience) if e.withheld]
        assert lines == [expected], audience


def test_only_signatures_that_count_are_counted_or_listed(owner):
    appeal = make_appeal(owner)
    pending = signing.sign(appeal, "Pending Person", "", "p@example.org", visibility="public").signature
    rejected = signing.sign(appeal, "Rejected Person", "", "r@example.org", visibility="public").signature
    rejected.confirm()
    rejected.review = Review.REJECTED
    merged = signing.sign(appeal, "Merged Person", "", "m@example.org", visibility="public").signature
    merged.confirm()
    db.session.flush()
    merged.merged_into_id = rejected.id
    withdrawn = signing.sign(appeal, "Withdrawn Person", "", "w@example.org", visibility="public").signature
    withdrawn.confirm()
    withdrawn.withdraw()
    db.session.commit()
    assert pending.status.value == "pending"
    assert counted_total(appeal) == 3 and counted_totals([appeal.id, 999]) == {appeal.id: 3, 999: 0}
    for audience in ("public_page", "addressee_pdf", "export"):
        names = " ".join(e.name for e in listed_signatures(appeal, audience))
        assert "Person" not in names, audience


def test_unknown_audience_is_refused(owner):
    appeal = make_appeal(owner)
    with pytest.raises(UnknownAudience):
        listed_signatures(appeal, "everyone")


def sign_form(client, slug, **fields):
    data = {"full_name": "Günel Məmmədova", "affiliation": "", "email": "g@example.org", "consent": "y",
            "csrf_token": csrf_token(client, f"/a/{slug}/sign")}
    data.update(fields)
    return client.post(f"/a/{slug}/sign", data={k: v for k, v in data.items() if v is not None})


def test_sign_form_offers_the_organizers_choices_and_default(client, owner):
    appeal = new_appeal(owner, "Appeal", "UN", "Text")
    appeal.visibility_choices = ["addressees", "anonymous"]
    appeal.visibility_default = "addressees"
    appeal.publish()
    db.session.commit()
    html = client.get(f"/a/{appeal.slug}/sign").get_data(as_text=True)
    checked = re.findall(r'<input [^>]*\bchecked\b[^>]*name="visibility"[^>]*value="(\w+)"', html)
    assert checked == ["addressees"]
    assert 'value="anonymous"' in html and 'value="public"' not in html
    # A choice the organizer does not offer is refused with a message, and nothing is stored.
    refused = sign_form(client, appeal.slug, visibility="public")
    assert refused.status_code == 422 and "Choose one of the offered options" in refused.get_data(as_text=True)
    assert db.session.query(Signature).count() == 0
    # No choice sent (an old form) means the organizer's default.
    assert sign_form(client, appeal.slug).status_code == 303
    sig = db.session.query(Signature).one()
    assert sig.visibility is Visibility.ADDRESSEES and sig.consent_version == "2026-1"
    assert sign_form(client, appeal.slug, email="h@example.org", visibility="anonymous", country="Türkiye").status_code == 303
    anon = db.session.query(Signature).filter_by(country="Türkiye").one()
    assert anon.visibility is Visibility.ANONYMOUS


def test_organizer_sets_choices_default_and_display(client, owner):
    appeal = new_appeal(owner, "Appeal", "UN", "Text")
    db.session.commit()
    login(client)
    url = f"/organizer/appeals/{appeal.slug}/privacy"
    token = csrf_token(client, url)
    bad = client.post(url, data={"visibility_choices": ["anonymous"], "visibility_default": "public",
                                 "anonymous_display": "count", "csrf_token": token})
    assert bad.status_code == 422 and "must be one of the offered choices" in bad.get_data(as_text=True)
    none = client.post(url, data={"visibility_default": "public", "anonymous_display": "count", "csrf_token": token})
    assert none.status_code == 422 and "Offer at least one choice" in none.get_data(as_text=True)
    db.session.refresh(appeal)
    assert offered_choices(appeal) == ["public", "addressees", "anonymous"]
    ok = client.post(url, data={"visibility_choices": ["anonymous", "addressees"], "visibility_default": "anonymous",
                                "anonymous_display": "country", "csrf_token": token})
    assert ok.status_code == 303
    db.session.refresh(appeal)
    assert appeal.visibility_choices == ["addressees", "anonymous"]
    assert (appeal.visibility_default, appeal.anonymous_display) == ("anonymous", "country")


def test_confirmation_page_respects_the_choice(client, owner):
    appeal = make_appeal(owner)
    sig = signing.sign(appeal, "Elnur Hidden", "Reporter", "hidden@example.org", visibility="addressees").signature
    db.session.commit()
    url = f"/confirm/{signing.confirmation_token(sig)}"
    html = client.post(url, data={"csrf_token": csrf_token(client, url)}).get_data(as_text=True)
    assert "only in the letter delivered to the addressees" in html and "now stands under" not in html


def test_owner_csv_export_withholds_anonymous_names(app, owner):
    from petitions.signatories import export

    appeal = make_appeal(owner, anonymous_display="country")
    text = "".join(export.csv_chunks(appeal))
    assert PUBLIC[0] in text and ADDRESSEES[0] in text  # owners see addressee-only names
    assert ANONYMOUS[0] not in text and "Name withheld" in text and ANONYMOUS[2] in text


def test_public_pdf_is_stored_once_and_a_newer_one_is_left_to_a_job(app, client, owner):
    from petitions.pdf import jobs
    from petitions.pdf.models import PdfDocument, PdfJob

    appeal = make_appeal(owner)
    render_public_pdf(appeal)
    first = client.get(f"/a/{appeal.slug}/public.pdf")
    second = client.get(f"/a/{appeal.slug}/public.pdf")
    assert first.status_code == second.status_code == 200 and first.data == second.data
    assert db.session.query(PdfDocument).filter_by(audience="public").count() == 1

    app.config.update(PDF_EXECUTOR="worker", PDF_RENDER_DEBOUNCE_SECONDS=0)
    sig = signing.sign(appeal, "One More", "Lawyer", "more@example.org").signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(sig))
    db.session.commit()
    # The stored copy is served until the job scheduled by the confirmation has run.
    stale = client.get(f"/a/{appeal.slug}/public.pdf")
    assert stale.status_code == 200 and stale.data == first.data
    assert db.session.query(PdfJob).filter_by(audience="public", status="queued").count() == 1
    assert jobs.work(once=True) == 1
    fresh = client.get(f"/a/{appeal.slug}/public.pdf")
    assert fresh.status_code == 200 and "One More" in pdf_text(fresh.data)
