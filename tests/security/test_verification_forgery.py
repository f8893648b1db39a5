"""Forged verification: registry entries are owned, domains and contacts prove nothing until proven by mail,
and a corrected name or affiliation keeps no level earned for the old one (issue 11, points 1 and 2)."""
import re

import pytest
from flask import g
from sqlalchemy import select

from petitions.extensions import db
from petitions.registry.models import Organization, OrganizationDomain
from petitions.signing.models import Level, Signature

from ..conftest import LINK_RE, csrf_token, message_text, new_appeal

PROOF_RE = re.compile(r"https?://\S+/registry/prove/\S+")
SELF_SERVICE_RE = re.compile(r"https?://\S+/privacy/my-data/\S+")


@pytest.fixture
def app(smtp_app):
    """The world on an app whose mail goes to the loopback SMTP server."""
    return smtp_app


def fresh():
    # The test shares one app context with its requests: forget the user and CSRF token of the last client.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def get(client, url):
    fresh()
    return client.get(url)


def post(client, url, data: dict, token_field: str = "csrf_token", token_url: str | None = None):
    """POST a form with the CSRF token of this client's session."""
    fresh()
    token = csrf_token(client, token_url or url)
    fresh()
    return client.post(url, data={**data, token_field: token})


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def attacker(world, client_as):
    """The outsider with an appeal of its own: it may moderate there, and nowhere else."""
    appeal = new_appeal(world.outsider, "Attacker's appeal", "Someone", "Anything.")
    appeal.publish()
    db.session.commit()
    fresh()
    return appeal, client_as(world.outsider)


def login_as(client_as, user):
    fresh()
    return client_as(user)


def registry_url(appeal) -> str:
    return f"/organizer/appeals/{appeal.slug}/organizations"


def register(client, appeal, name: str, domains: str = "", contact: str = "", aliases: str = ""):
    return post(client, registry_url(appeal), {
        "org-name": name, "org-aliases": aliases, "org-domains": domains, "org-contact_email": contact,
        "org-submit": "1"}, token_field="org-csrf_token")


def org_named(name: str, creator) -> Organization:
    db.session.expire_all()
    return db.session.scalar(select(Organization).where(Organization.name == name,
                                                        Organization.created_by_id == creator.id))


def ask_domain_proof(client, appeal, org: Organization, domain: str, address: str):
    entry = next(d for d in org.domains if d.domain == domain)
    return post(client, f"{registry_url(appeal)}/{org.id}/proof", {
        "proof-domain_id": str(entry.id), "proof-address": address, "proof-submit": "1"},
        token_field="proof-csrf_token", token_url=registry_url(appeal))


def last_proof_link(sink, count: int) -> str:
    """Wait for the count-th message and return the proof link it carries."""
    msg = sink.wait_for(count)[count - 1]
    return path_of(PROOF_RE.search(message_text(msg)).group(0))


def press_confirm(app, link: str):
    """Open the proof link as its recipient (no login) and press Confirm."""
    holder = app.test_client()
    page = get(holder, link)
    assert page.status_code == 200 and "Confirm" in page.get_data(as_text=True)
    return post(holder, link, {})


def prove_domain(app, client, appeal, org, domain: str, address: str):
    before = len(app.smtp_sink.messages)
    assert ask_domain_proof(client, appeal, org, domain, address).status_code == 303
    assert app.smtp_sink.wait_for(before + 1)[before]["To"] == address
    assert press_confirm(app, last_proof_link(app.smtp_sink, before + 1)).status_code == 200


def prove_contact(app, client, appeal, org, address: str):
    before = len(app.smtp_sink.messages)
    assert post(client, f"{registry_url(appeal)}/{org.id}/proof", {"proof-submit": "1"},
                token_field="proof-csrf_token", token_url=registry_url(appeal)).status_code == 303
    assert app.smtp_sink.wait_for(before + 1)[before]["To"] == address
    assert press_confirm(app, last_proof_link(app.smtp_sink, before + 1)).status_code == 200


def sign_and_confirm(app, appeal, name: str, affiliation: str, email: str) -> Signature:
    """Sign on the public page, read the confirmation mail, press Confirm."""
    signer = app.test_client()
    before = len(app.smtp_sink.messages)
    assert post(signer, f"/a/{appeal.slug}/sign", {
        "full_name": name, "affiliation": affiliation, "email": email, "consent": "y"},
        token_url=f"/a/{appeal.slug}/sign").status_code == 303
    msg = app.smtp_sink.wait_for(before + 1)[before]
    assert msg["To"] == email
    link = path_of(LINK_RE.search(message_text(msg)).group(0))
    assert post(signer, link, {}).status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Signature).where(Signature.appeal_id == appeal.id,
                                                     Signature.full_name == name))


def test_outsider_cannot_add_a_domain_to_another_coalitions_organization(app, world, attacker, client_as):
    appeal, client = attacker
    other = login_as(client_as, world.other_owner)
    assert register(other, world.other_appeal, "Bar Association", domains="bar.example").status_code == 303
    bar = org_named("Bar Association", world.other_owner)
    response = post(client, registry_url(appeal), {
        "dom-organization_id": str(bar.id), "dom-domain": "attacker.example", "dom-submit": "1"},
        token_field="dom-csrf_token")
    assert response.status_code == 403
    assert "managed by Other Owner" in response.get_data(as_text=True)  # the refusal names whom to ask
    db.session.expire_all()
    assert [d.domain for d in db.session.get(Organization, bar.id).domains] == ["bar.example"]
    prove_domain(app, other, world.other_appeal, bar, "bar.example", "secretariat@bar.example")
    # Nor can it take a domain off, delete the entry or send proof links in its name.
    entry = db.session.get(Organization, bar.id).domains[0]
    for url, data, field in (
            (f"{registry_url(appeal)}/{bar.id}/domains/{entry.id}/remove", {}, "csrf_token"),
            (f"{registry_url(appeal)}/{bar.id}/remove", {}, "csrf_token"),
            (f"{registry_url(appeal)}/{bar.id}/proof", {"proof-domain_id": str(entry.id),
                                                       "proof-address": "x@bar.example"}, "proof-csrf_token")):
        assert post(client, url, data, token_field=field, token_url=registry_url(appeal)).status_code == 403
    db.session.expire_all()
    assert db.session.get(OrganizationDomain, entry.id) is not None
    fake = sign_and_confirm(app, world.other_appeal, "Fake Lawyer", "Lawyer, Member of the Bar Association",
                            "fake@attacker.example")
    assert fake.level is Level.EMAIL


def test_an_organization_registered_by_an_outsider_confirms_nothing_on_other_appeals(app, world, attacker):
    appeal, client = attacker
    # It registers its own "Bar Association" and "Ministry of Justice" with a domain and address it controls.
    assert register(client, appeal, "Bar Association", domains="attacker.example").status_code == 303
    assert register(client, appeal, "Ministry of Justice", contact="minister@attacker.example").status_code == 303

    def forge_on(target):
        fake = sign_and_confirm(app, target, "Fake Lawyer", "Lawyer, Member of the Bar Association",
                                "fake@attacker.example")
        official = sign_and_confirm(app, target, "Ministry of Justice", "", "minister@attacker.example")
        levels = (fake.level, official.level)
        db.session.delete(fake)
        db.session.delete(official)
        db.session.commit()
        return levels

    assert forge_on(world.other_appeal) == (Level.EMAIL, Level.EMAIL)  # unproven: nothing anywhere
    # It can prove what it controls…
    bar_copy = org_named("Bar Association", world.outsider)
    prove_domain(app, client, appeal, bar_copy, "attacker.example", "it@attacker.example")
    ministry = org_named("Ministry of Justice", world.outsider)
    prove_contact(app, client, appeal, ministry, "minister@attacker.example")
    db.session.expire_all()
    assert ministry.contact_proven and bar_copy.domains[0].proven
    # …but on another coalition's appeal its proofs are only its own word.
    for target in (world.appeal, world.other_appeal):
        assert forge_on(target) == (Level.EMAIL, Level.EMAIL), target.slug


def test_unproven_contact_signs_nothing_officially(app, world, client_as):
    client = login_as(client_as, world.owner)
    assert register(client, world.appeal, "Ministry of Justice", contact="office@justice.example").status_code == 303
    official = sign_and_confirm(app, world.appeal, "Ministry of Justice", "", "office@justice.example")
    assert official.official and official.level is Level.EMAIL
    # Once the contact presses Confirm in the mail sent to it, the waiting signature becomes official.
    ministry = org_named("Ministry of Justice", world.owner)
    prove_contact(app, client, world.appeal, ministry, "office@justice.example")
    db.session.expire_all()
    assert official.level is Level.OFFICIAL
    # A new contact address is unproven: what the old one confirmed falls back.
    assert post(client, f"{registry_url(world.appeal)}/{ministry.id}/contact", {
        "contact-contact_name": "Press", "contact-contact_email": "press@justice.example", "contact-submit": "1"},
        token_field="contact-csrf_token", token_url=registry_url(world.appeal)).status_code == 303
    db.session.expire_all()
    assert not ministry.contact_proven and official.level is Level.EMAIL


def test_unproven_domain_confirms_nothing_until_someone_there_confirms(app, world, client_as):
    client = login_as(client_as, world.owner)
    assert register(client, world.appeal, "Bar Association", domains="bar.example").status_code == 303
    lawyer = sign_and_confirm(app, world.appeal, "Leyla Lawyer", "Lawyer, Member of the Bar Association",
                              "lawyer@bar.example")
    assert lawyer.organization_id is not None and lawyer.level is Level.EMAIL
    org = org_named("Bar Association", world.owner)
    assert ask_domain_proof(client, world.appeal, org, "bar.example", "secretariat@bar.example").status_code == 303
    link = last_proof_link(app.smtp_sink, 2)
    holder = app.test_client()
    assert get(holder, link).status_code == 200  # opening the link (a mail scanner does) proves nothing
    db.session.expire_all()
    assert not org.domains[0].proven and lawyer.level is Level.EMAIL
    assert post(holder, link, {}).status_code == 200
    db.session.expire_all()
    assert org.domains[0].proven and lawyer.level is Level.DOMAIN
    assert post(holder, link, {}, token_url=f"/a/{world.appeal.slug}/sign").status_code == 400  # once only


def test_a_squatters_claim_never_blocks_the_real_owner(app, world, attacker, client_as):
    appeal, squatter = attacker
    assert register(squatter, appeal, "Free Press Forum", domains="freepress.example").status_code == 303
    owner = login_as(client_as, world.other_owner)
    response = register(owner, world.other_appeal, "Free Press Forum", domains="freepress.example")
    assert response.status_code == 303
    real = org_named("Free Press Forum", world.other_owner)
    assert [d.domain for d in real.domains] == ["freepress.example"]
    # Even a squatter who gets a proof through (a member's mailbox there) blocks nobody.
    prove_domain(app, squatter, appeal, org_named("Free Press Forum", world.outsider), "freepress.example",
                 "member@freepress.example")
    prove_domain(app, owner, world.other_appeal, real, "freepress.example", "desk@freepress.example")
    journalist = sign_and_confirm(app, world.other_appeal, "Ilkin Journalist", "Journalist, Free Press Forum",
                                  "ilkin@freepress.example")
    assert journalist.level is Level.DOMAIN and journalist.organization_id == real.id
    # The dispute goes to the squatter entry's owner, who alone may change it.
    squat = org_named("Free Press Forum", world.outsider)
    page = get(owner, registry_url(world.other_appeal)).get_data(as_text=True)
    assert "Managed by Outsider" in page and "freepress.example is ours" in page
    before = len(app.smtp_sink.messages)
    assert post(owner, f"{registry_url(world.other_appeal)}/{squat.id}/domains/{squat.domains[0].id}/dispute",
                {"dispute-note": "We are the Free Press Forum.", "dispute-submit": "1"},
                token_field="dispute-csrf_token", token_url=registry_url(world.other_appeal)).status_code == 303
    claim = app.smtp_sink.wait_for(before + 1)[before]
    assert claim["To"] == "attacker@attacker.example" and claim["Reply-To"] == "owner@other.example"
    assert "freepress.example" in message_text(claim) and "We are the Free Press Forum." in message_text(claim)
    db.session.expire_all()
    assert [d.domain for d in squat.domains] == ["freepress.example"]


def test_proof_goes_only_to_an_address_at_the_domain_itself(app, world, client_as):
    client = login_as(client_as, world.owner)
    assert register(client, world.appeal, "Some University", domains="uni.example\nBÜCHER.example.").status_code == 303
    org = org_named("Some University", world.owner)
    assert sorted(d.domain for d in org.domains) == ["uni.example", "xn--bcher-kva.example"]
    for address in ("me@attacker.example", "me@uni.example.attacker.example", "me@law.uni.example",
                    "me@attacker.example?@uni.example", "uni.example", "@uni.example", "a b@uni.example"):
        response = ask_domain_proof(client, world.appeal, org, "uni.example", address)
        assert response.status_code in (400, 422), address
    assert not [m for m in app.smtp_sink.messages if PROOF_RE.search(message_text(m))]
    # Case, a final dot and Unicode spellings of the domain are the same domain: the mail goes to its ASCII form.
    before = len(app.smtp_sink.messages)
    response = ask_domain_proof(client, world.appeal, org, "xn--bcher-kva.example", "Library@Bücher.EXAMPLE.")
    assert response.status_code == 303
    assert app.smtp_sink.wait_for(before + 1)[before]["To"] == "Library@xn--bcher-kva.example"


def test_proof_link_tampered_expired_replayed_or_superseded_is_refused(app, world, client_as):
    client = login_as(client_as, world.owner)
    assert register(client, world.appeal, "Bar Association", domains="bar.example").status_code == 303
    org = org_named("Bar Association", world.owner)
    sink = app.smtp_sink
    assert ask_domain_proof(client, world.appeal, org, "bar.example", "a@bar.example").status_code == 303
    first = last_proof_link(sink, 1)
    assert ask_domain_proof(client, world.appeal, org, "bar.example", "b@bar.example").status_code == 303
    second = last_proof_link(sink, 2)
    holder = app.test_client()
    tampered = second[:-3] + ("AAA" if not second.endswith("AAA") else "BBB")
    for link in (tampered, first):  # forged, and superseded by the newer link
        assert get(holder, link).status_code == 400
        assert post(holder, link, {}, token_url=f"/a/{world.appeal.slug}/sign").status_code == 400
    app.config["REGISTRY_PROOF_MAX_AGE"] = -1  # every link is now older than allowed
    assert get(holder, second).status_code == 410
    app.config["REGISTRY_PROOF_MAX_AGE"] = 7 * 86400
    db.session.expire_all()
    assert not org.domains[0].proven
    assert press_confirm(app, second).status_code == 200
    db.session.expire_all()
    assert org.domains[0].proven
    # Used once: the same link proves nothing again, e.g. after the domain was removed and claimed anew.
    entry = org.domains[0]
    assert post(client, f"{registry_url(world.appeal)}/{org.id}/domains/{entry.id}/remove", {},
                token_url=registry_url(world.appeal)).status_code == 303
    assert post(client, registry_url(world.appeal), {"dom-organization_id": str(org.id),
                                                     "dom-domain": "bar.example", "dom-submit": "1"},
                token_field="dom-csrf_token").status_code == 303
    assert get(holder, second).status_code == 400
    db.session.expire_all()
    assert not org.domains[0].proven


def test_removing_a_domain_drops_the_levels_it_gave(app, world, client_as):
    client = login_as(client_as, world.owner)
    assert register(client, world.appeal, "Bar Association", domains="bar.example").status_code == 303
    org = org_named("Bar Association", world.owner)
    prove_domain(app, client, world.appeal, org, "bar.example", "secretariat@bar.example")
    lawyer = sign_and_confirm(app, world.appeal, "Leyla Lawyer", "Lawyer, Member of the Bar Association",
                              "lawyer@law.bar.example")  # a subdomain of a proven domain counts
    assert lawyer.level is Level.DOMAIN
    entry = org.domains[0]
    assert post(client, f"{registry_url(world.appeal)}/{org.id}/domains/{entry.id}/remove", {},
                token_url=registry_url(world.appeal)).status_code == 303
    db.session.expire_all()
    assert lawyer.level is Level.EMAIL
    # Deleting the entry unlinks every signature from it.
    assert register(client, world.appeal, "Free Press Forum", domains="freepress.example").status_code == 303
    press = org_named("Free Press Forum", world.owner)
    prove_domain(app, client, world.appeal, press, "freepress.example", "desk@freepress.example")
    journalist = sign_and_confirm(app, world.appeal, "Ilkin Journalist", "Journalist, Free Press Forum",
                                  "ilkin@freepress.example")
    assert journalist.level is Level.DOMAIN
    assert post(client, f"{registry_url(world.appeal)}/{press.id}/remove", {},
                token_url=registry_url(world.appeal)).status_code == 303
    db.session.expire_all()
    assert journalist.level is Level.EMAIL and journalist.organization_id is None


def test_a_registry_entry_stops_confirming_when_its_owner_leaves_the_team(app, world, client_as):
    reviewer = login_as(client_as, world.reviewer)
    assert register(reviewer, world.appeal, "Bar Association", domains="bar.example",
                    contact="office@bar.example").status_code == 303
    org = org_named("Bar Association", world.reviewer)
    prove_contact(app, reviewer, world.appeal, org, "office@bar.example")
    prove_domain(app, reviewer, world.appeal, org, "bar.example", "secretariat@bar.example")
    body = sign_and_confirm(app, world.appeal, "Bar Association", "", "office@bar.example")
    assert body.level is Level.OFFICIAL
    # The owner sees the reviewer's entry, read-only.
    owner = login_as(client_as, world.owner)
    assert "Managed by Reviewer" in get(owner, registry_url(world.appeal)).get_data(as_text=True)
    assert post(owner, registry_url(world.appeal), {"dom-organization_id": str(org.id),
                                                    "dom-domain": "other.example", "dom-submit": "1"},
                token_field="dom-csrf_token").status_code == 403
    lawyer = sign_and_confirm(app, world.appeal, "Leyla Lawyer", "Lawyer, Member of the Bar Association",
                              "lawyer@bar.example")
    assert lawyer.level is Level.DOMAIN
    members = f"/organizer/appeals/{world.appeal.slug}/members"
    assert post(owner, f"{members}/{world.reviewer.id}", {"role": "remove"}, token_url=members).status_code == 303
    db.session.expire_all()
    assert lawyer.level is Level.EMAIL  # what the former reviewer's entry confirmed falls with the membership
    assert body.level is Level.EMAIL
    later = sign_and_confirm(app, world.appeal, "Orxan Lawyer", "Advocate, Bar Association", "orxan@bar.example")
    assert later.level is Level.EMAIL


def self_service_link(app, email: str) -> str:
    web = app.test_client()
    before = len(app.smtp_sink.messages)
    assert post(web, "/privacy/my-data", {"email": email}).status_code in (200, 303)
    msg = app.smtp_sink.wait_for(before + 1)[before]
    return path_of(SELF_SERVICE_RE.search(message_text(msg)).group(0))


def correct_over_http(app, signature: Signature, email: str, full_name: str, affiliation: str):
    link = self_service_link(app, email)
    web = app.test_client()
    assert get(web, link).status_code == 200
    prefix = f"s{signature.id}-"
    response = post(web, f"{link}/{signature.id}/correct", {
        prefix + "full_name": full_name, prefix + "affiliation": affiliation, prefix + "country": "",
        prefix + "visibility": signature.visibility.value}, token_url="/privacy/my-data")
    assert response.status_code == 200
    db.session.expire_all()


def test_a_corrected_signature_drops_back_to_email(app, world, client_as):
    owner = login_as(client_as, world.owner)
    assert register(owner, world.appeal, "Bar Association", domains="bar.example").status_code == 303
    assert register(owner, world.appeal, "Ministry of Justice", domains="justice.example").status_code == 303
    prove_domain(app, owner, world.appeal, org_named("Bar Association", world.owner), "bar.example",
                 "secretariat@bar.example")
    lawyer = sign_and_confirm(app, world.appeal, "Leyla Lawyer", "Lawyer, Member of the Bar Association",
                              "lawyer@bar.example")
    assert lawyer.level is Level.DOMAIN and lawyer.organization_id is not None
    correct_over_http(app, lawyer, "lawyer@bar.example", "Minister of Justice", "Ministry of Justice")
    assert (lawyer.full_name, lawyer.affiliation) == ("Minister of Justice", "Ministry of Justice")
    assert lawyer.level is Level.EMAIL and lawyer.organization_id is None and not lawyer.official


def test_a_corrected_signature_loses_an_organizers_vouch(app, world, client_as):
    signer = sign_and_confirm(app, world.appeal, "Rəşad Ağayev", "Human rights defender", "rashad@example.org")
    reviewer = login_as(client_as, world.reviewer)
    url = f"/organizer/appeals/{world.appeal.slug}/review"
    assert post(reviewer, url, {"ids": str(signer.id), "vouch": "Vouch", "text": "I know him"}).status_code == 303
    db.session.expire_all()
    assert signer.level is Level.VOUCHED
    # The vouch was for Rəşad Ağayev, not for whoever the signature now claims to be.
    correct_over_http(app, signer, "rashad@example.org", "Secretary General", "Council of Europe")
    assert signer.level is Level.EMAIL and signer.vouched_by_id is None


def test_proof_mails_are_rate_limited_per_organizer(make_app, smtp_server):
    from petitions.auth.services import register_user

    from .conftest import PASSWORD, login

    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, RATELIMIT_ENABLED=True, REGISTRY_PROOF_RATE_LIMIT="2 per hour")
    app.smtp_sink = sink
    with app.app_context():
        user = register_user("Sender", "sender@coalition.example", PASSWORD)
        appeal = new_appeal(user, "Limits", "Someone", "Anything.")
        appeal.publish()
        db.session.commit()
        client = app.test_client()
        fresh()
        assert login(client, user.email).status_code == 303
        assert register(client, appeal, "Bar Association", domains="bar.example").status_code == 303
        org = org_named("Bar Association", user)
        # Our server must not become a way to mail any address at any domain, again and again.
        statuses = [ask_domain_proof(client, appeal, org, "bar.example", f"victim{i}@bar.example").status_code
                    for i in range(3)]
        assert statuses == [303, 303, 429]
        assert [m["To"] for m in sink.wait_for(2)] == ["victim0@bar.example", "victim1@bar.example"]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("level", [Level.DOMAIN, Level.OFFICIAL])
def test_no_earned_level_survives_a_correction_of_name_or_affiliation(app, world, level):
    signer = sign_and_confirm(app, world.appeal, "Leyla Lawyer", "Lawyer, Member of the Bar Association",
                              "lawyer@bar.example")
    org = Organization(name="Bar Association", aliases=[], contact_name="", contact_email="")
    db.session.add(org)
    db.session.flush()
    # However the level was earned before, it was earned for this name and affiliation.
    signer.level, signer.organization_id, signer.official = level, org.id, level is Level.OFFICIAL
    db.session.commit()
    correct_over_http(app, signer, "lawyer@bar.example", "Leyla Lawyer", "Minister of Justice")
    assert signer.affiliation == "Minister of Justice"
    assert (signer.level, signer.organization_id, signer.official) == (Level.EMAIL, None, False)


def test_any_write_of_name_or_affiliation_drops_earned_levels(app, world):
    """Paths to come (an organizer's edit, an import that updates) get the rule without knowing it."""
    signer = sign_and_confirm(app, world.appeal, "Rəşad Ağayev", "Human rights defender", "rashad@example.org")
    signer.vouch(world.owner, "known to us")
    db.session.commit()
    signer.affiliation = "Council of Europe"
    db.session.commit()
    db.session.expire_all()
    assert signer.level is Level.EMAIL and signer.vouched_by_id is None
    signer.vouch(world.owner, "known to us")
    db.session.commit()
    signer.country = "Azerbaijan"  # other fields keep the level
    db.session.commit()
    assert signer.level is Level.VOUCHED
