"""XSS: hostile text in every user-controlled field creates no element or attribute on any page, stays literal
text in the PDF (no link or script action) and inert plain text in mail."""
import io
import pathlib
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from petitions.updates import operations as updates
from petitions.members import services as membership
from petitions.appeals import services as drafting
from petitions.members.models import Role
from petitions.auth import services as accounts
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.registry import services as registry
from petitions.privacy import selfservice
from petitions.signatories.models import DuplicatePair
from petitions.signing import levels as verification
from petitions.signing import operations as signing
from petitions.signing.models import Signature
from petitions.translations import services as translating

from ..conftest import csrf_token, message_text
from . import _seed
from .conftest import PASSWORD, login
from ..pdf_files import rendered_pdf

PAYLOADS = [line for line in (pathlib.Path(__file__).parents[1] / "data" / "xss_payloads.txt")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
BENIGN = "Plain words only"
# Tags a payload could smuggle in; a page may have them only as often as the same page with harmless text.
DANGEROUS = {"script", "style", "iframe", "frame", "object", "embed", "applet", "base", "meta", "link", "img",
             "svg", "math", "form", "input", "button", "details", "body", "table", "a", "scr", "mglyph", "image"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "background", "srcdoc", "xlink:href", "poster"}
# Downloads, not pages: they are covered by the PDF and CSV tests, and rendering them here would be slow.
NOT_PAGES = {"static", "fonts.font", "organizer.pdf", "pdfs.combined", "pdfs.language_version", "pdfs.file",
             "pdfs.export_csv", "pdfs.progress", "public_pdf.download", "privacy.download", "signatories.export",
             "organizer.preview"}
FIELDS = ("title", "subject", "body", "demand", "closing", "place", "senders", "addressee", "salutation",
          "institution", "signer", "affiliation", "country", "organization", "translation", "username", "template")


class Elements(HTMLParser):
    """Collect every element with its attributes, as a browser's tokenizer would see them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def _scheme(value: str) -> str:
    cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned.split("/", 1)[0] else ""


def assert_inert(html: str, baseline: str | list[str], payload: str, where: str) -> None:
    """No event handler, no script URL, no element the payload would create, no dangerous tag beyond the baseline
    (the same page with harmless text, or the most of several such pages)."""
    page = parse(html)
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name, value)
            if name in URL_ATTRIBUTES and value:
                assert _scheme(value) in ("", "http", "https", "mailto") or value == "data:,", (where, tag, name, value)
    for tag, attrs in parse(payload).elements:
        for page_tag, page_attrs in page.elements:
            if page_tag == tag and attrs:
                assert not all(page_attrs.get(k) == v for k, v in attrs.items()), (where, tag, attrs)
    counts, allowed = Counter(t for t, _ in page.elements), Counter()
    for base in [baseline] if isinstance(baseline, str) else baseline:
        allowed |= Counter(t for t, _ in parse(base).elements)
    for tag in DANGEROUS:
        assert counts[tag] <= allowed[tag], (where, tag, counts[tag], allowed[tag])


def _text(i: int, field: str, payload: str) -> str:
    return f"{field}{i}q {payload}"


def _seed_payload(i: int, payload: str, owner=None) -> _seed.Data:
    """An appeal whose every field, signer, organization, translation, template and owner name carry the payload."""
    t = lambda field: _text(i, field, payload)  # noqa: E731
    owner = register_user(t("username"), f"owner{i}@xss.example", PASSWORD)
    appeal = drafting.create_appeal(owner, {
        "title": t("title"), "subject": t("subject"), "body": t("body"), "demands": [t("demand")],
        "closing": t("closing"), "place": t("place"), "senders": t("senders"),
        "addressees": [{"name": t("addressee"), "salutation": t("salutation"), "institution": t("institution")}],
    })
    appeal.publish()
    db.session.flush()
    signatures = []
    for n in range(2):  # two of the same name: a duplicate pair for the duplicates page
        sig = Signature(appeal=appeal, full_name=t("signer"), affiliation=t("affiliation"), country=t("country")[:80],
                        text_hash=appeal.content_hash, consent_at=utcnow(), revision_id=appeal.published_revision_id,
                        email_hash=f"{i:04d}{n}".ljust(64, "e"), email_encrypted=None)
        verification.describe(sig)
        db.session.add(sig)
        sig.confirm()
        signatures.append(sig)
    pending = signing.sign(appeal, t("signer"), t("affiliation"), f"pending{i}@xss.example").signature
    db.session.flush()
    pair = DuplicatePair(appeal_id=appeal.id, first_id=signatures[0].id, second_id=signatures[1].id, score=0.9)
    db.session.add(pair)
    org = registry.add_organization(t("organization"), aliases=[t("organization")], created_by=owner)
    domain = registry.add_domain(org, f"org{i}.example", by=owner)
    registry.request_domain_proof(domain, f"secretariat@org{i}.example", by=owner)
    translation = translating.save_translation(appeal, "fr", {"title": t("translation"), "body": t("translation")},
                                               owner)
    translating.approve(translation, owner)
    drafting.save_as_template(appeal, owner, t("template"))
    invitation = membership.invite(appeal, owner, f"invitee{i}@xss.example", Role.EDITOR)
    db.session.commit()
    return _seed.Data(slug=appeal.slug, appeal_id=appeal.id, signature_ids=[s.id for s in signatures] + [pending.id],
                      pair_id=pair.id, member_id=owner.id, org_id=org.id, domain_id=domain.id, tokens={
                          "confirm": signing.confirmation_token(pending),
                          "withdraw": signing.withdrawal_token(signatures[0]),
                          "reconfirm": _seed._reconfirm_token(signatures[0]),
                          "invitation": membership.tokens.make_token(membership.INVITE, {"i": invitation.id}),
                          "self-service": selfservice.make_token(signatures[0].email_hash),
                          "unsubscribe": updates.unsubscribe_token(signatures[0]),
                          "registry-proof": registry.domain_proof_token(domain),
                          "account-register": accounts.tokens.make_token(accounts.REGISTER,
                                                                         {"e": f"new{i}@xss.example"})})


@pytest.fixture(scope="module")
def site(tmp_path_factory, migrated_db):
    """One database for every payload: the crawl only reads (import previews store nothing)."""
    app = _seed.module_app(tmp_path_factory, migrated_db, "xss")
    with app.app_context():
        data = {i: _seed_payload(i, p) for i, p in enumerate([BENIGN] + PAYLOADS)}
        rules = [r for r, _ in _seed.route_rules(app, {"GET"})
                 if r.endpoint not in NOT_PAGES and not r.rule.startswith("/api/")]
        yield app, data, rules, {}
        db.session.remove()
        db.engine.dispose()


def _crawl(app, data: _seed.Data, rules, index: int, payload: str):
    """Yield (where, html) of every page of this appeal, as its owner, plus an import preview of the payload."""
    client = app.test_client()
    assert login(client, f"owner{index}@xss.example").status_code in (302, 303)
    for rule in rules:
        for url in _seed.fill(rule, data, signature_index=0):
            response = client.get(url)
            assert response.status_code < 500, url
            if response.mimetype == "text/html":
                yield rule.rule, response.get_data(as_text=True)
    for lang_page in ("/a/{}/fr", "/organizer/appeals/{}/translations/fr"):
        yield lang_page, client.get(lang_page.format(data.slug)).get_data(as_text=True)
    url = f"/organizer/appeals/{data.slug}/import"
    lines = f"{_text(index, 'import', payload)} - {payload}\n{payload}, {payload}, someone@mail.example"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "text": lines, "preview": "Preview",
                                      "mode": "vouched"})
    assert response.status_code < 500
    yield "import preview", response.get_data(as_text=True)


@pytest.mark.parametrize("index", range(1, len(PAYLOADS) + 1), ids=[p[:40] for p in PAYLOADS])
def test_payload_in_every_field_is_escaped_on_every_page(site, index):
    app, data, rules, baselines = site
    payload = PAYLOADS[index - 1]
    stored = baselines.setdefault("stored", {})
    if not stored:
        stored.update(_crawl(app, data[0], rules, 0, BENIGN))
    seen = set()
    for where, html in _crawl(app, data[index], rules, index, payload):
        assert_inert(html, stored[where], payload, where)
        page = parse(html)  # what a field shows counts as shown (the import preview puts names in input boxes)
        text = " ".join(page.text + [a.get("value", "") for tag, a in page.elements if tag == "input"])
        seen |= {f for f in FIELDS + ("import",) if f"{f}{index}q" in text}
    # Every field was shown somewhere, so the checks above looked at it.
    assert set(FIELDS + ("import",)) - seen == set(), sorted(set(FIELDS + ("import",)) - seen)


def test_the_inertness_check_catches_an_injected_element():
    """The checker itself: an unescaped payload must be caught, so a silent parser cannot pass the suite."""
    base = "<p>x</p>"
    for payload in ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>", '<a href="javascript:alert(1)">x</a>',
                    "<details open ontoggle=alert(1)>", '<base href="https://evil.example/">'):
        with pytest.raises(AssertionError):
            assert_inert(f"<p>{payload}</p>", base, payload, "self-test")
    assert_inert("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", base, "<script>alert(1)</script>", "self-test")


def _pdf_actions(data: bytes) -> list[str]:
    """Return every link or action of the PDF as text."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    if "/Names" in reader.trailer["/Root"] and "/JavaScript" in reader.trailer["/Root"]["/Names"]:
        found.append("document JavaScript")
    if "/OpenAction" in reader.trailer["/Root"]:
        found.append(f"open action {reader.trailer['/Root']['/OpenAction']}")
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            action = annot.get("/A")
            if action is not None:
                action = action.get_object()
                found.append(f"{action.get('/S')} {action.get('/URI', '')}")
    return found


def test_payloads_are_literal_text_in_the_pdf_and_create_no_action(app, world):

    joined = "\n\n".join(PAYLOADS)
    appeal = drafting.create_appeal(world.owner, {
        "title": "XSS letter", "subject": PAYLOADS[0], "body": joined, "demands": PAYLOADS[:10],
        "closing": PAYLOADS[2], "place": PAYLOADS[3][:100], "senders": "\n".join(PAYLOADS[:5]),
        "addressees": [{"name": p} for p in PAYLOADS[:5]]})
    appeal.publish()
    for n, payload in enumerate(PAYLOADS):
        sig = Signature(appeal=appeal, full_name=payload, affiliation=f"aff{n}", text_hash=appeal.content_hash,
                        consent_at=utcnow(), revision_id=appeal.published_revision_id,
                        email_hash=f"{n:05d}".ljust(64, "p"))
        verification.describe(sig)
        db.session.add(sig)
        sig.confirm()
    db.session.commit()
    data = rendered_pdf(appeal)
    for action in _pdf_actions(data):
        assert re.match(r"/URI (https?|mailto):", action), action  # only ordinary links, never script or launch
    for marker in (b"/JavaScript", b"/JS ", b"/Launch", b"/SubmitForm", b"/ImportData", b"/RichMedia"):
        assert marker not in data, marker
    text = re.sub(r"\s+", "", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    missing = [p for p in PAYLOADS if re.sub(r"\s+", "", p) not in text]
    assert missing == [], missing  # each signer's name is printed as typed, tags and all


def test_payloads_travel_as_inert_plain_text_in_mail(smtp_app):
    owner = register_user(PAYLOADS[0], "mailer@xss.example", PASSWORD)
    count = 0
    for n, payload in enumerate(PAYLOADS):
        appeal = drafting.create_appeal(owner, {"title": payload, "body": "Text."})
        appeal.publish()
        signing.sign(appeal, payload, payload, f"signer{n}@mail.example")
        count += 1
        if n < 3:
            membership.invite(appeal, owner, f"inv{n}@mail.example", Role.EDITOR)
            count += 1
        db.session.commit()
    messages = smtp_app.smtp_sink.wait_for(count)
    assert len(messages) == count
    for msg in messages:
        assert msg.get_body(preferencelist=("html",)) is None  # no HTML part that a mail client would render
        assert msg.get_content_type() in ("text/plain", "multipart/alternative", "multipart/mixed")
        body = message_text(msg)
        assert "&lt;" not in body and "&amp;" not in body and "&#" not in body.replace("&#14;", "").replace(
            "&#106;", ""), body[:300]  # not HTML-escaped: shown literally
    bodies = "\n".join(message_text(m) for m in messages)
    for payload in PAYLOADS:
        assert payload in bodies or payload.replace("\n", " ") in bodies, payload


# Query arguments that views read (filters, pages, redirects) plus some they do not: none may be echoed raw.
QUERY_ARGS = ("q", "next", "lang", "review", "level", "status", "before", "after", "language", "tab", "error")


def _reflections(rule, data, text: str):
    """Yield (where, url) with the text in every query argument and, one at a time, in every string path part."""
    from urllib.parse import urlencode

    for values in _seed.arguments(rule, data, signature_index=0):
        yield "query", rule.build(values, append_unknown=False)[1] + "?" + urlencode({k: text for k in QUERY_ARGS})
        for name, converter in rule._converters.items():
            if name in values and type(converter).__name__ in ("UnicodeConverter", "PathConverter"):
                yield name, rule.build(dict(values, **{name: text}), append_unknown=False)[1]


@pytest.mark.parametrize("index", range(1, len(PAYLOADS) + 1), ids=[p[:40] for p in PAYLOADS])
def test_reflected_input_is_escaped_on_every_page(site, index):
    app, data, rules, baselines = site
    reflected = baselines.setdefault("reflected", {})
    payload = PAYLOADS[index - 1]
    client = app.test_client()
    assert login(client, "owner0@xss.example").status_code in (302, 303)
    not_found = client.get("/no/such/page").get_data(as_text=True)
    for rule in rules:
        pairs = zip(_reflections(rule, data[0], payload), _reflections(rule, data[0], BENIGN))
        for (where, url), (_, benign_url) in pairs:
            response = client.get(url)
            assert response.status_code < 500, url
            if response.mimetype != "text/html":
                continue
            # A payload with "/" or "." may no longer match the route: the error page is then its baseline.
            if benign_url not in reflected:
                reflected[benign_url] = client.get(benign_url).get_data(as_text=True)
            baseline = [reflected[benign_url], not_found]
            if where == "query":
                # A search finds the seeded appeals, whose titles carry the payload, where harmless text finds
                # none: the page with no query at all (every card of its first page) is its baseline too.
                bare = benign_url.split("?", 1)[0]
                if bare not in reflected:
                    reflected[bare] = client.get(bare).get_data(as_text=True)
                baseline.append(reflected[bare])
            assert_inert(response.get_data(as_text=True), baseline, payload, f"{rule.rule} ({where})")
