"""Threat: anonymous signers exposed after the fact (issue 11, point 5).

An anonymous signer was promised "my name is shown nowhere" and the affiliation/country display in
force when they signed. Changing the appeal's setting later must not reveal more of them, and no
organizer page (any role) may show their name: not the queue, not the duplicates, not an import preview.
"""
import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from pypdf import PdfReader

from petitions.members.access import can
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.pdf import jobs
from petitions.signatories import queue as review
from petitions.signing import operations as signing
from petitions.signing.models import Signature

from ..conftest import csrf_token

ANON = ("Gulnara Secretova", "Ministry Of Quiet Affairs", "Turkmenistan")
ANON_TWIN = ("Gulnara Sekretova", "Ministry Of Quiet Affairs", "Turkmenistan")  # same person, other spelling
PUBLIC = ("Pavel Openman", "Free University", "Georgia")
LATER = ("Later Anonymous", "Harbour Union", "Moldova")
HREF_RE = re.compile(r'(?:href|action)="([^"]+)"')


def sign(appeal, person, email, visibility):
    """Sign and confirm through the services, as the sign form and the confirmation link do."""
    name, affiliation, country = person
    signature = signing.sign(appeal, name, affiliation, email, visibility=visibility, country=country).signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(signature))
    db.session.commit()
    return signature


def body_text(response) -> str:
    """Return what a reader of the response sees: PDF text, or the decoded body."""
    data = response.get_data()
    if response.mimetype == "application/pdf":
        return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8", "replace")


def crawl(client, starts: list[str], limit: int = 200) -> dict[str, str]:
    """Open every organizer page reachable from the starts by links (GET only); return url -> text."""
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = f"{response.status_code} " + body_text(response)
        if response.mimetype != "text/html":
            continue
        for link in HREF_RE.findall(response.get_data(as_text=True)):
            link = urldefrag(link.replace("&amp;", "&"))[0]
            parts = urlsplit(link)
            if parts.netloc or not parts.path.startswith("/organizer") or "logout" in parts.path:
                continue
            if link not in seen:
                queue.append(link)
    return seen


def organizer_starts(slug: str) -> list[str]:
    base = f"/organizer/appeals/{slug}"
    return ["/organizer/", base, f"{base}/review", f"{base}/review?status=withdrawn", f"{base}/review?status=pending",
            f"{base}/review?review=merged", f"{base}/review?flag=any", f"{base}/duplicates", f"{base}/export.csv",
            f"{base}/pdf", f"{base}/pdf/status", f"{base}/pdf/signatories.csv", f"{base}/audit", f"{base}/privacy",
            f"{base}/organizations", f"{base}/import", f"{base}/history", f"{base}/members"]


def render_public_pdf(appeal):
    job = jobs.request_render(appeal, "public", "standard")
    db.session.commit()
    return jobs.run_job(job.id)


@pytest.fixture
def app(make_app):
    """Mail to the dev outbox (these tests look at pages, not mail); PDFs rendered in the request."""
    app = make_app(MAIL_TRANSPORT="outbox", PDF_EXECUTOR="inline")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def save_privacy_settings(client, slug: str, display: str):
    url = f"/organizer/appeals/{slug}/privacy"
    response = client.post(url, data={"visibility_choices": ["public", "addressees", "anonymous"],
                                      "visibility_default": "public", "anonymous_display": display,
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 303, response.status_code


def test_changing_the_display_does_not_reveal_earlier_anonymous_signers(world, client_as, client):
    appeal = world.appeal
    appeal.visibility_choices = ["public", "addressees", "anonymous"]
    appeal.anonymous_display = "withheld"
    db.session.commit()
    sign(appeal, ANON, "gulnara@example.org", "anonymous")
    sign(appeal, PUBLIC, "pavel@example.org", "public")
    owner = client_as(world.owner)
    for display in ("affiliation", "country"):
        save_privacy_settings(owner, appeal.slug, display)
        render_public_pdf(appeal)
        outputs = {
            "public page": client.get(f"/a/{appeal.slug}").get_data(as_text=True),
            "public pdf": body_text(client.get(f"/a/{appeal.slug}/public.pdf")),
            "api": client.get(f"/api/v1/appeals/{appeal.slug}/signatures").get_data(as_text=True),
            **crawl(owner, organizer_starts(appeal.slug)),
        }
        assert PUBLIC[0] in outputs["public pdf"] and "Name withheld" in outputs["public pdf"]
        assert PUBLIC[0] in outputs[f"/organizer/appeals/{appeal.slug}/export.csv"]
        for where, text in outputs.items():
            for secret in ANON:  # signed under "Name withheld" alone: no affiliation, no country, ever
                assert secret not in text, (display, where, secret)

    # The new setting does apply to anonymous signatures made after it.
    sign(appeal, LATER, "later@example.org", "anonymous")
    page = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert LATER[2] in page and LATER[0] not in page and ANON[2] not in page


def test_the_display_is_fixed_when_the_signer_chooses_anonymity(world):
    appeal = world.appeal
    appeal.anonymous_display = "affiliation"
    db.session.commit()
    public = sign(appeal, PUBLIC, "pavel@example.org", "public")
    assert public.anonymous_display is None
    anonymous = sign(appeal, ANON, "gulnara@example.org", "anonymous")
    assert anonymous.anonymous_display == "affiliation"
    appeal.anonymous_display = "count"
    anonymous.country = "Elsewhere"  # any later change of the row keeps the display it was made with
    db.session.commit()
    db.session.refresh(anonymous)
    assert anonymous.anonymous_display == "affiliation"
    # A signer who becomes anonymous later gets the display in force at that moment.
    public.visibility = type(public.visibility)("anonymous")
    db.session.commit()
    assert public.anonymous_display == "count"


@pytest.mark.parametrize("role", ["owner", "editor", "reviewer"])
def test_no_organizer_page_shows_an_anonymous_name(world, client_as, role):
    appeal = world.appeal
    appeal.visibility_choices = ["public", "addressees", "anonymous"]
    appeal.anonymous_display = "withheld"
    # A registered organization matches the hidden affiliation: its name must not give it away either.
    registry.add_organization(ANON[1], domains=["quiet.example"], created_by=world.owner)
    db.session.commit()
    first = sign(appeal, ANON, "gulnara@quiet.example", "anonymous")
    sign(appeal, ANON_TWIN, "gulnara@work.example", "anonymous")
    sign(appeal, PUBLIC, "pavel@example.org", "public")
    assert review.scan_duplicates(appeal, None) >= 1  # duplicates are still found on the hidden names
    db.session.commit()
    client = client_as(getattr(world, role))
    pages = crawl(client, organizer_starts(appeal.slug))
    assert any(PUBLIC[0] in text for text in pages.values())  # the crawl does reach the lists
    if not can(appeal, getattr(world, role), "moderate"):
        assert pages[f"/organizer/appeals/{appeal.slug}/review"].startswith("403")
        return check_no_anonymous_name(role, pages)
    assert f"Anonymous signer #{first.id}" in pages[f"/organizer/appeals/{appeal.slug}/duplicates"]
    # An import preview compares a pasted list with the signatures; it must not name the anonymous one.
    url = f"/organizer/appeals/{appeal.slug}/import"
    pasted = "Gulnara Sekretowa"  # a third spelling: the page may echo what was pasted, nothing more
    preview = client.post(url, data={"text": f"{pasted}; {ANON[1]}", "mode": "vouched", "preview": "Preview",
                                     "csrf_token": csrf_token(client, url)})
    shown = preview.get_data(as_text=True)
    assert preview.status_code == 200 and f"#{first.id}" in shown
    for secret in (ANON[0], ANON_TWIN[0], "Secretova", "Sekretova"):
        assert secret not in shown, (role, "import preview", secret)
    # Merging the pair flashes the kept signer.
    pair = review.open_pairs(appeal)[0][0].pair
    url = f"/organizer/appeals/{appeal.slug}/duplicates/{pair.id}/merge"
    merged = client.post(url, data={"csrf_token": csrf_token(client, f"/organizer/appeals/{appeal.slug}/duplicates")},
                         follow_redirects=True)
    pages["after merge"] = merged.get_data(as_text=True)
    assert "counts once" in pages["after merge"]
    pages.update(crawl(client, organizer_starts(appeal.slug)))
    check_no_anonymous_name(role, pages)


def check_no_anonymous_name(role, pages):
    for where, text in pages.items():
        # The registry page lists the organization itself (not who signed from it): only names are secret there.
        registry_page = urlsplit(where).path.endswith("/organizations")
        secrets = (ANON[0], ANON_TWIN[0], ANON[0].split()[1], ANON_TWIN[0].split()[1]) + (
            () if registry_page else (ANON[1], "quiet.example", "work.example"))
        for secret in secrets:
            assert secret not in text and secret.lower() not in text, (role, where, secret)
        assert "gulnara" not in text.lower(), (role, where)


def test_bulk_problems_do_not_name_anonymous_signers(world):
    appeal = world.appeal
    signature = sign(appeal, ANON, "gulnara@example.org", "anonymous")
    signature.reject(world.owner, "spam")
    db.session.commit()
    _done, problems = review.moderate(appeal, world.owner, [signature.id], "vouch", "known to me")
    assert problems and all(ANON[0] not in p for p in problems)
    assert db.session.get(Signature, signature.id).full_name == ANON[0]  # hidden, not lost


def test_a_signer_who_hides_later_is_in_no_stored_copy(app, world, client, client_as):
    """Visitors get stored PDFs without a freshness check, so hiding a signature must withdraw those copies."""
    from petitions.pdf.models import PdfDocument
    from petitions.privacy import selfservice

    appeal = world.appeal
    appeal.visibility_choices = ["public", "addressees", "anonymous"]
    app.config.update(PDF_EXECUTOR="worker", PDF_RENDER_DEBOUNCE_SECONDS=0)
    hider = sign(appeal, PUBLIC, "pavel@example.org", "public")
    sign(appeal, ("Stays Public", "", ""), "stays@example.org", "public")
    first = render_public_pdf(appeal)
    render = jobs.request_render(appeal, "addressees")
    db.session.commit()
    jobs.run_job(render.id)
    assert PUBLIC[0] in body_text(client.get(f"/a/{appeal.slug}/public.pdf"))

    selfservice.correct(hider, hider.full_name, hider.affiliation, hider.country, "anonymous")
    db.session.commit()
    hidden = client.get(f"/a/{appeal.slug}/public.pdf")
    assert hidden.status_code == 503 and "being prepared" in hidden.get_data(as_text=True)
    assert db.session.get(PdfDocument, first.document_id).removed_reason == "changed"
    owner = client_as(world.owner)
    status = owner.get(f"/organizer/appeals/{appeal.slug}/pdf/status").get_data(as_text=True)
    assert "since corrected, hidden or rejected" in status
    assert jobs.work(once=True) == 1  # the render its withdrawal scheduled
    fresh = client.get(f"/a/{appeal.slug}/public.pdf")
    assert fresh.status_code == 200 and PUBLIC[0] not in body_text(fresh) and "Stays Public" in body_text(fresh)
    addressees = owner.get(f"/organizer/appeals/{appeal.slug}/pdf")
    assert PUBLIC[0] not in body_text(addressees)  # the letter renders anew instead of the stored copy
