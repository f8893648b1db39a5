"""Signing on behalf of an organization: the form, what is stored, every list, counts, anonymity, correction."""
import csv
import io
import json
import os
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.privacy import selfservice
from petitions.signatories import export
from petitions.signing import operations as signing
from petitions.signing.models import Level, Signature, SignerKind
from petitions.signing.rules import signer_text

from .conftest import LINK_RE, csrf_token, message_text, new_appeal

ORG, SIGNER, ROLE = "Ganja Lawyers Union", "Anar Məmmədov", "Chair of the Board"
LINE = f"{ORG} – signed by {SIGNER}, {ROLE}"


@pytest.fixture
def app(make_app):
    """Mail goes to the dev outbox folder: these tests look at what is stored and listed."""
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


@pytest.fixture
def appeal(owner):
    appeal = new_appeal(owner, "Release the defenders", "Council of Europe", "We ask.")
    appeal.visibility_choices = ["public", "addressees", "anonymous"]
    appeal.publish()
    db.session.commit()
    return appeal


def post_sign(client, appeal, **fields):
    data = {"full_name": SIGNER, "email": "anar@example.org", "consent": "y",
            "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign"), **fields}
    return client.post(f"/a/{appeal.slug}/sign", data=data)


def sign_org(appeal, email="office@example.org", visibility="public", **kw):
    sig = signing.sign(appeal, kw.pop("name", SIGNER), "", email, visibility=visibility, kind="organization",
                       organization_name=kw.pop("organization", ORG), signer_role=kw.pop("role", ROLE),
                       **kw).signature
    sig.confirm()
    return sig


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_sign_form_offers_signing_on_behalf_of_an_organization(client, appeal):
    page = client.get(f"/a/{appeal.slug}/sign").get_data(as_text=True)
    assert 'name="kind" type="radio" value="person" checked' in page or \
        ('value="person"' in page and "checked" in page)
    assert 'value="organization"' in page and "On behalf of an organization" in page
    # Without JavaScript both sets of fields are there, each labelled for when it applies.
    assert 'name="organization_name"' in page and "Organization you sign for" in page
    assert 'name="signer_role"' in page and "Your role in the organization" in page
    assert 'name="affiliation"' in page
    assert "signform.js" in page


def test_organization_signature_is_stored_with_kind_name_and_role(client, appeal):
    response = post_sign(client, appeal, kind="organization", organization_name=f"  {ORG} ",
                         signer_role=ROLE, affiliation="typed as well")
    assert response.status_code == 303
    sig = db.session.scalar(select(Signature))
    assert sig.kind is SignerKind.ORGANIZATION
    assert (sig.organization_name, sig.full_name, sig.signer_role) == (ORG, SIGNER, ROLE)
    assert sig.affiliation == ""  # the organization and the role say it; no second affiliation in the line
    assert signer_text(sig) == LINE


def test_person_signs_as_before_and_organization_fields_are_dropped(client, appeal):
    # A form without the choice (an older page, a script) signs as a person.
    assert post_sign(client, appeal, affiliation="Lawyer").status_code == 303
    assert post_sign(client, appeal, email="b@example.org", kind="person", organization_name=ORG,
                     signer_role=ROLE, full_name="Leyla Yunus").status_code == 303
    sigs = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [s.kind for s in sigs] == [SignerKind.PERSON, SignerKind.PERSON]
    assert [(s.organization_name, s.signer_role) for s in sigs] == [("", ""), ("", "")]
    assert sigs[0].affiliation == "Lawyer"


@pytest.mark.parametrize("fields", [
    {"kind": "organization", "organization_name": ""},
    {"kind": "organization", "organization_name": "   "},
    {"kind": "organization", "organization_name": "Bar\u202eAssociation"},
    {"kind": "organization", "organization_name": ORG, "signer_role": "x" * 201},
    {"kind": "organisation", "organization_name": ORG},
    {"kind": "organization", "organization_name": "x" * 301},
])
def test_bad_organization_fields_are_refused_with_a_message(client, appeal, fields):
    response = post_sign(client, appeal, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please correct the marked fields." in page
    assert db.session.scalar(select(Signature)) is None
    if not fields["organization_name"].strip():
        assert "Enter the name of the organization you sign for." in page


def test_service_refuses_an_organization_without_a_name(appeal):
    with pytest.raises(signing.SignatureStateError):
        signing.sign(appeal, SIGNER, "", "a@example.org", kind="organization", organization_name=" ")


def test_one_signature_per_address_whether_person_or_organization(appeal):
    person = signing.sign(appeal, SIGNER, "Lawyer", "anar@example.org").signature
    db.session.commit()
    again = signing.sign(appeal, SIGNER, "", "ANAR@example.org", kind="organization", organization_name=ORG,
                         signer_role=ROLE)
    db.session.commit()
    assert not again.created and again.signature.id == person.id
    assert person.kind is SignerKind.PERSON and person.organization_name == ""
    assert db.session.scalar(select(db.func.count()).select_from(Signature)) == 1


def test_public_page_shows_the_organization_line_and_counts_organizations(client, appeal):
    sign_org(appeal)
    signing.sign(appeal, "Leyla Yunus", "Historian", "leyla@example.org").signature.confirm()
    db.session.commit()
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    lines = re.sub(r"</?bdi[^>]*>", "", page)  # each part is isolated: names mix scripts
    assert LINE in lines
    assert "Leyla Yunus – Historian" in lines
    assert '<li class="organization">' in page
    assert "<strong>2</strong>" in page and "1 of them on behalf of an organization" in page


def test_api_gives_kind_organization_and_counts(client, appeal):
    sign_org(appeal)
    signing.sign(appeal, "Leyla Yunus", "Historian", "leyla@example.org").signature.confirm()
    db.session.commit()
    counts = client.get(f"/api/v1/appeals/{appeal.slug}").get_json()["signatures"]
    assert counts["total"] == 2 and counts["organizations"] == 1
    listed = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_json()["signatures"]
    org = next(s for s in listed if s["kind"] == "organization")
    assert (org["organization"], org["name"], org["role"]) == (ORG, SIGNER, ROLE)
    assert next(s for s in listed if s["name"] == "Leyla Yunus")["kind"] == "person"


def render_public_pdf(appeal):
    from petitions.pdf import jobs

    job = jobs.request_render(appeal, "public", "standard")
    db.session.commit()
    return jobs.run_job(job.id)


def test_pdf_prints_the_organization_with_who_signed_for_it(client, appeal):
    sign_org(appeal)
    db.session.commit()
    render_public_pdf(appeal)
    text = " ".join(pdf_text(client.get(f"/a/{appeal.slug}/public.pdf").data).split())
    assert ORG in text
    assert f"signed by {SIGNER}, {ROLE}" in text
    assert "On behalf of an organization 1" in text  # counted in the annex


def test_pdf_entry_and_attachment_csv_mark_organizations(appeal):
    from petitions.pdf.engine.archival import signatories_csv
    from petitions.pdf.mapping import document_from_appeal

    sign_org(appeal)
    signing.sign(appeal, "Leyla Yunus", "Historian", "leyla@example.org").signature.confirm()
    db.session.commit()
    doc = document_from_appeal(appeal, "addressees")
    org = next(e for e in doc.signatories if e.is_organization)
    assert org.name == ORG and org.signer == SIGNER and org.role == ROLE
    rows = list(csv.DictReader(io.StringIO(signatories_csv(doc).decode())))
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["organization"]["name"] == ORG
    assert (by_kind["organization"]["signed_by"], by_kind["organization"]["role"]) == (SIGNER, ROLE)
    assert by_kind["organization"]["organization"] == "yes"
    assert by_kind["person"]["name"] == "Leyla Yunus" and by_kind["person"]["signed_by"] == ""


def test_owner_export_has_kind_organization_and_role_columns(appeal):
    sign_org(appeal, name="=HYPERLINK(1)", role="+Chair")
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO("".join(export.csv_chunks(appeal)).lstrip("\ufeff"))))
    assert rows[0]["kind"] == "organization"
    assert rows[0]["signs_for_organization"] == ORG
    assert rows[0]["role"] == "'+Chair"  # strangers' text never runs as a formula
    assert rows[0]["name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("display", ["withheld", "affiliation", "count"])
def test_anonymous_organization_signer_stays_anonymous_everywhere(client, appeal, display):
    appeal.anonymous_display = display
    sign_org(appeal, visibility="anonymous")
    db.session.commit()
    render_public_pdf(appeal)
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    api = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_json()
    pdf = pdf_text(client.get(f"/a/{appeal.slug}/public.pdf").data)
    owner_csv = "".join(export.csv_chunks(appeal))
    for text in (page, json.dumps(api, ensure_ascii=False), pdf, owner_csv):
        assert SIGNER not in text and ROLE not in text
        assert (ORG in text) is (display == "affiliation")
    for entry in api["signatures"]:
        assert "kind" not in entry and "role" not in entry and "organization" not in entry
    # Counted all the same.
    assert client.get(f"/api/v1/appeals/{appeal.slug}").get_json()["signatures"]["total"] == 1


def test_addressee_only_organization_is_not_public(client, appeal):
    sign_org(appeal, visibility="addressees")
    db.session.commit()
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    api = client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True)
    assert ORG not in page and ORG not in api and SIGNER not in api


def my_data_url(sig) -> str:
    return f"/privacy/my-data/{selfservice.make_token(sig.email_hash)}"


def post_correction(client, sig, **fields):
    url = my_data_url(sig)
    prefix = f"s{sig.id}-"
    data = {"full_name": sig.full_name, "affiliation": sig.affiliation, "country": sig.country,
            "visibility": sig.visibility.value, **fields}
    data = {prefix + k: v for k, v in data.items()}
    data["csrf_token"] = csrf_token(client, "/privacy/my-data")  # one token per session, whatever the form
    return client.post(f"{url}/{sig.id}/correct", data=data)


def test_self_service_shows_and_corrects_organization_fields(client, appeal):
    sig = sign_org(appeal)
    sig.level = Level.VOUCHED  # an organizer vouched for this identity
    db.session.commit()
    page = client.get(my_data_url(sig)).get_data(as_text=True)
    assert ORG in page and f'value="{ROLE}"' in page
    response = post_correction(client, sig, kind="organization", organization_name="Azerbaijan Lawyers' Union",
                               signer_role="Deputy chair")
    assert response.status_code == 200
    db.session.expire_all()
    sig = db.session.get(Signature, sig.id)
    assert (sig.organization_name, sig.signer_role) == ("Azerbaijan Lawyers' Union", "Deputy chair")
    assert sig.level is Level.EMAIL  # the vouch was for the old organization


def test_correction_can_turn_a_person_into_an_organization_and_back(client, appeal):
    sig = signing.sign(appeal, SIGNER, "Lawyer", "anar@example.org").signature
    sig.confirm()
    db.session.commit()
    assert post_correction(client, sig, kind="organization", organization_name=ORG,
                           signer_role=ROLE).status_code == 200
    db.session.expire_all()
    sig = db.session.get(Signature, sig.id)
    assert sig.kind is SignerKind.ORGANIZATION and signer_text(sig) == LINE and sig.affiliation == ""
    assert post_correction(client, sig, kind="person", affiliation="Lawyer").status_code == 200
    db.session.expire_all()
    sig = db.session.get(Signature, sig.id)
    assert sig.kind is SignerKind.PERSON and (sig.organization_name, sig.signer_role) == ("", "")


def test_correction_without_an_organization_name_is_refused(client, appeal):
    sig = sign_org(appeal)
    db.session.commit()
    response = post_correction(client, sig, kind="organization", organization_name=" ", signer_role=ROLE)
    assert response.status_code == 422
    assert "Enter the name of the organization you sign for." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, sig.id).organization_name == ORG


def test_an_older_correction_form_keeps_the_organization(client, appeal):
    sig = sign_org(appeal)
    db.session.commit()
    assert post_correction(client, sig, country="Azerbaijan").status_code == 200
    db.session.expire_all()
    sig = db.session.get(Signature, sig.id)
    assert sig.kind is SignerKind.ORGANIZATION and sig.organization_name == ORG and sig.country == "Azerbaijan"


def test_a_changed_organization_name_drops_earned_levels_by_any_path(appeal):
    sig = sign_org(appeal)
    sig.level = Level.OFFICIAL
    db.session.commit()
    sig.organization_name = "Another body"  # not through a service: the flush guard still applies
    db.session.commit()
    assert sig.level is Level.EMAIL


# --- Verification: the registry's rules, unchanged --------------------------------------------------

BAR = "Bar Association of the Republic (demo)"


@pytest.fixture
def registry_appeal(smtp_app):
    from .test_verification import prove_by_mail

    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Release the defenders", "Council of Europe", "We ask.")
    appeal.publish()
    bar = registry.add_organization(BAR, aliases=["Bar Association"], domains=["bar-association.example"],
                                    contact_name="Press office", contact_email="office@bar-association.example")
    db.session.commit()
    prove_by_mail(smtp_app, lambda: registry.request_domain_proof(bar.domains[0], "it@bar-association.example",
                                                                  None))
    prove_by_mail(smtp_app, lambda: registry.request_contact_proof(bar, None))
    return appeal


def sign_over_http(app, appeal, email, **fields):
    client = app.__dict__.setdefault("_client", app.test_client())
    before = len(app.smtp_sink.messages)
    response = client.post(f"/a/{appeal.slug}/sign", data={
        "kind": "organization", "full_name": SIGNER, "signer_role": ROLE, "email": email, "consent": "y",
        "csrf_token": csrf_token(client, f"/a/{appeal.slug}/sign"), **fields})
    assert response.status_code == 303
    msg = app.smtp_sink.wait_for(before + 1)[before]
    path = "/" + LINK_RE.search(message_text(msg)).group(0).split("/", 3)[3]
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Signature).where(Signature.email_hash.is_not(None))
                             .order_by(Signature.id.desc()))


@pytest.mark.e2e
def test_organization_is_official_only_through_its_proven_contact(smtp_app, registry_appeal):
    official = sign_over_http(smtp_app, registry_appeal, "office@bar-association.example",
                              organization_name="Bar Association")
    assert official.kind is SignerKind.ORGANIZATION and official.level is Level.OFFICIAL
    impostor = sign_over_http(smtp_app, registry_appeal, "someone@bar-association.example",
                              organization_name=BAR)
    assert impostor.level is Level.EMAIL  # the domain alone never makes a signature official
    stranger = sign_over_http(smtp_app, registry_appeal, "office@elsewhere.example", organization_name=BAR)
    assert stranger.level is Level.EMAIL


# --- The form in Chromium ------------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.parametrize("js", [True, False])
def test_sign_form_in_chromium(app, appeal, js, tmp_path):
    from .browser import chromium, live_server

    with live_server(app) as base, chromium(java_script_enabled=js) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 360, "height": 900})
        page.goto(f"{base}/a/{appeal.slug}/sign")
        organization = page.locator("input[name='organization_name']")
        affiliation = page.locator("input[name='affiliation']")
        assert affiliation.is_visible()
        assert organization.is_visible() is (not js)  # without JavaScript both are shown, labelled
        page.get_by_label("On behalf of an organization").check()
        assert organization.is_visible() and page.locator("input[name='signer_role']").is_visible()
        assert affiliation.is_visible() is (not js)
        organization.fill(ORG)
        page.locator("input[name='full_name']").fill(SIGNER)
        page.locator("input[name='signer_role']").fill(ROLE)
        page.locator("input[name='email']").fill("anar@example.org")
        page.locator("input[name='consent']").check()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        if os.environ.get("SCREENSHOT_DIR"):
            name = "sign-as-organization-360" + ("" if js else "-nojs") + ".png"
            page.locator("aside.sign form").screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], name))
        page.set_viewport_size({"width": 1280, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator("form:has(input[name='email'])").locator("input[type='submit'], button[type='submit']").first.click()
        page.wait_for_url("**/thanks**")
    db.session.expire_all()
    sig = db.session.scalar(select(Signature))
    assert sig.kind is SignerKind.ORGANIZATION and signer_text(sig) == LINE


def test_confirmation_page_and_mail_name_the_organization_safely(client, appeal):
    sig = signing.sign(appeal, "<b>Anar</b>", "", "anar@example.org", kind="organization",
                       organization_name="Union <script>alert(1)</script>", signer_role=ROLE).signature
    db.session.commit()
    page = client.get(f"/confirm/{signing.confirmation_token(sig)}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>Anar" not in page
    line = re.sub(r"</?bdi[^>]*>", "", page)  # each part is isolated: names mix scripts
    assert "Union &lt;script&gt;alert(1)&lt;/script&gt; – signed by &lt;b&gt;Anar&lt;/b&gt;, " + ROLE + "<" in line


def test_withdrawal_blanks_the_organization_and_role(appeal):
    sig = sign_org(appeal)
    db.session.commit()
    sig.withdraw()
    db.session.commit()
    assert (sig.organization_name, sig.signer_role, sig.full_name) == ("", "", "")
