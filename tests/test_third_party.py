"""Every page of the app, public and organizer, loads nothing from any origin but the app's own."""
import os
from urllib.parse import urlsplit

import pytest

from petitions.updates import operations as updates
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import outbox
from petitions.privacy import selfservice
from petitions.signing import operations as signing

from .browser import chromium, live_server
from .conftest import new_appeal

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to look at every page as a picture


@pytest.fixture
def site(make_app):
    """An app with an organizer, appeals in every state, signatures of every visibility and a mail in the outbox."""
    app = make_app(MAIL_TRANSPORT="outbox", DEV_OUTBOX=True)
    with app.app_context():
        owner = register_user("Səbinə Organizer", "sabina@example.org", "a long password")
        appeal = new_appeal(owner, "Free the bloggers", "Council of Europe\nUN Special Rapporteur",
                            "We call for **release**.\n\n| a | b |\n|--:|:-:|\n| 1 | 2 |",
                            demands=["Release them"], closing="Sincerely,")
        appeal.publish()
        for n, choice in enumerate(("public", "addressees", "anonymous")):
            signing.sign(appeal, f"Signer {choice.title()}", "Lawyer", f"s{n}@example.org", visibility=choice,
                         country="Azerbaijan").signature.confirm()
        pending = signing.sign(appeal, "Pending Signer", "", "pending@example.org").signature
        draft = new_appeal(owner, "A draft letter", "UN", "Draft text.")
        closed = new_appeal(owner, "A closed letter", "UN", "Closed text.")
        closed.publish()
        closed.close()
        from petitions.members import services as membership
        from petitions.appeals import services as drafting
        from petitions.members.models import Role
        from petitions.auth.services import REGISTER
        from petitions import links as tokens

        invitation = membership.invite(appeal, owner, "co@example.org", Role.EDITOR)
        first_signer = signing.sign(appeal, "Early Signer", "Journalist", "early@example.org").signature
        first_signer.confirm()
        drafting.save_text(appeal, owner, appeal.content() | {"demands": ["Release them now"]})
        drafting.publish_revision(appeal, owner)
        from petitions.registry import services as registry

        bar = registry.add_organization("Bar Association", domains=["bar.example"])
        registry.request_domain_proof(bar.domains[0], "it@bar.example", None)
        db.session.commit()
        from petitions.pdf import jobs

        jobs.run_job(jobs.request_render(appeal, "public").id)  # made by the organizers' side: visitors never render
        values = {
            "members.accept_invitation:token": tokens.make_token(membership.INVITE, {"i": invitation.id}),
            "auth.finish_registration:token": tokens.make_token(REGISTER, {"e": "new.organizer@example.org"}),
            "signatures.reconfirm:token": tokens.make_token(
                tokens.RECONFIRM, {"s": first_signer.id, "r": appeal.published_revision_id,
                                      "h": first_signer.email_hash[:16]}),
            "slug": appeal.slug,
            "signature_id": pending.id,
            "position": 1,  # the compose page of an open appeal says to close it first
            "reply_id": 1,  # no such reply on this appeal: the not-found page is checked too
            "signatures.confirm:token": signing.confirmation_token(pending),
            "privacy:token": selfservice.make_token(pending.email_hash),
            "outbox.show:message": outbox.stored(1)[0].row.id,
            "rest": "nothing-here",
            "lang": "ru",
            "signatures.withdraw:token": signing.withdrawal_token(pending),
            "updates.unsubscribe:token": updates.unsubscribe_token(pending),
            "registry_public.prove:token": registry.domain_proof_token(bar.domains[0]),
            "document_id": "no-such-document",
            "fonts.font:name": "DejaVuSans.ttf",
            "filename": "style.css",
        }
        extra = [f"/a/{closed.slug}", f"/organizer/appeals/{draft.slug}", f"/organizer/appeals/{draft.slug}/edit",
                 f"/organizer/appeals/{appeal.slug}/history?a=1&b=2", "/organizer/appeals/new?start=prisoner"]
        db.session.remove()
    yield app, values, extra
    with app.app_context():
        db.engine.dispose()


def value_for(endpoint: str, arg: str, values: dict):
    for key in (f"{endpoint}:{arg}", f"{endpoint.split('.')[0]}:{arg}", arg):
        if key in values:
            return values[key]
    return None


def get_urls(app, values: dict) -> list[str]:
    """Build one URL per GET route; fail on a route whose arguments this test cannot fill in."""
    urls, unknown = [], []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            args = {a: value_for(rule.endpoint, a, values) for a in rule.arguments}
            if any(v is None for v in args.values()):
                if set(rule.defaults or {}) >= set(rule.arguments):
                    args = {}
                else:
                    unknown.append(f"{rule.rule} ({rule.endpoint})")
                    continue
            urls.append(url_for(rule.endpoint, **args))
    assert not unknown, f"add values for these routes to the crawl: {unknown}"
    return sorted(set(urls))


def test_every_page_loads_only_from_its_own_origin(site, tmp_path):
    app, values, extra = site
    urls = get_urls(app, values) + extra
    requests, csp_errors, visited = [], [], []
    with live_server(app) as base, chromium() as context:
        origin = urlsplit(base).netloc
        page = context.new_page()
        page.on("request", lambda r: requests.append((page.url, r.url)))
        page.on("console", lambda m: csp_errors.append((page.url, m.text))
                if "Content Security Policy" in m.text else None)
        page.goto(f"{base}/auth/login")
        page.fill("#email", "sabina@example.org")
        page.fill("#password", "a long password")
        page.click("#submit")
        page.wait_for_url(f"{base}/organizer/")
        for url in urls:
            head = context.request.get(base + url, max_redirects=0)
            if ("attachment" in head.headers.get("content-disposition", "")
                    or not head.headers.get("content-type", "").startswith("text/html")):
                visited.append((url, head.status, "download"))
                continue  # a download (PDF, JSON, font) has no subresources to check
            response = page.goto(base + url)
            page.wait_for_load_state("networkidle")
            visited.append((url, response.status if response else None, "page"))
            if SCREENSHOTS:
                os.makedirs(SCREENSHOTS, exist_ok=True)
                name = url.strip("/").replace("/", "_")[:80] or "index"
                page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)
    assert len(visited) >= 20, visited
    assert [v for v in visited if v[1] is None or v[1] >= 500] == []
    foreign = [(p, r) for p, r in requests if urlsplit(r).scheme not in ("data",) and urlsplit(r).netloc != origin]
    assert requests and foreign == [], foreign
    assert csp_errors == [], csp_errors
