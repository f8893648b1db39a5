"""Verification levels: the organization registry, domain confirmation over real SMTP, official signatures."""
import re

import pytest
from sqlalchemy import select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.signing import operations as signing
from petitions.signing import levels as verification
from petitions.signing.models import Level, Signature

from .conftest import LINK_RE, csrf_token, message_text, new_appeal

BAR = "Bar Association of the Republic (demo)"
PROOF_RE = re.compile(r"https?://\S+/registry/prove/\S+")


@pytest.fixture
def appeal(smtp_app):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Release the defenders", "Council of Europe", "We ask.")
    appeal.publish()
    bar = registry.add_organization(BAR, aliases=["Bar Association", "Коллегия адвокатов"],
                                    domains=["bar-association.example"], contact_name="Press office",
                                    contact_email="office@bar-association.example")
    press = registry.add_organization("Free Press Forum", aliases=["FPF"], domains=["freepress.example"])
    db.session.commit()
    # Registry entries confirm nothing until someone at the domain or the contact presses Confirm.
    prove_by_mail(smtp_app, lambda: registry.request_domain_proof(bar.domains[0], "it@bar-association.example",
                                                                  None))
    prove_by_mail(smtp_app, lambda: registry.request_contact_proof(bar, None))
    prove_by_mail(smtp_app, lambda: registry.request_domain_proof(press.domains[0], "desk@freepress.example",
                                                                  None))
    return appeal


def prove_by_mail(app, request_proof):
    """Ask for a proof link, read it from the SMTP server, open it and press Confirm."""
    before = len(app.smtp_sink.messages)
    address = request_proof()
    db.session.commit()
    msg = app.smtp_sink.wait_for(before + 1)[before]
    assert msg["To"] == address
    path = "/" + PROOF_RE.search(message_text(msg)).group(0).split("/", 3)[3]
    client = app.__dict__.setdefault("_client", app.test_client())  # see sign_and_confirm_over_http
    assert client.get(path).status_code == 200
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 200
    db.session.expire_all()


def sign_and_confirm_over_http(app, slug, name, affiliation, email):
    """Sign through the public form, read the mail from the SMTP server, press Confirm."""
    # One client per app: inside the test's app context, Flask-WTF caches the CSRF token in `g`.
    client = app.__dict__.setdefault("_client", app.test_client())
    before = len(app.smtp_sink.messages)
    response = client.post(f"/a/{slug}/sign", data={
        "full_name": name, "affiliation": affiliation, "email": email, "consent": "y",
        "csrf_token": csrf_token(client, f"/a/{slug}/sign")})
    assert response.status_code == 303
    msg = app.smtp_sink.wait_for(before + 1)[before]
    assert msg["To"] == email
    path = "/" + LINK_RE.search(message_text(msg)).group(0).split("/", 3)[3]
    confirmed = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert confirmed.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(Signature).where(Signature.full_name == name))


@pytest.mark.e2e
def test_institutional_address_confirms_the_affiliation_without_an_organizer(smtp_app, appeal):
    sig = sign_and_confirm_over_http(smtp_app, appeal.slug, "Rəna Quliyeva", "Lawyer, Member of Bar Association",
                                     "rena@bar-association.example")
    assert sig.level is Level.DOMAIN and sig.organization_id is not None
    # A faculty address under the registered domain counts too.
    sub = sign_and_confirm_over_http(smtp_app, appeal.slug, "Orxan Nəbiyev", "Advocate, Bar Association",
                                     "orxan@baku.bar-association.example")
    assert sub.level is Level.DOMAIN


@pytest.mark.e2e
def test_free_mail_never_confirms_an_affiliation(smtp_app, appeal):
    sig = sign_and_confirm_over_http(smtp_app, appeal.slug, "Tural Həsənli", "Lawyer, Member of Bar Association",
                                     "tural.hasanli@gmail.com")
    assert sig.organization_id is not None  # the affiliation names the organization…
    assert sig.level is Level.EMAIL  # …but anyone can get a gmail address


@pytest.mark.e2e
def test_institutional_address_with_another_affiliation_stays_email(smtp_app, appeal):
    sig = sign_and_confirm_over_http(smtp_app, appeal.slug, "Səidə Rüstəmova", "Journalist, Free Press Forum",
                                     "saida@bar-association.example")
    assert sig.level is Level.EMAIL


def test_organization_signs_officially_only_through_its_contact(smtp_app, appeal):
    official = signing.sign(appeal, BAR, "", "office@bar-association.example").signature
    impostor = signing.sign(appeal, "Bar Association", "", "someone@bar-association.example").signature
    db.session.commit()
    assert official.official and verification.FLAG_ORGANIZATION in official.flags
    for sig in (official, impostor):
        signing.confirm(signing.confirmation_token(sig))
    assert official.level is Level.OFFICIAL
    assert impostor.level is Level.EMAIL


def test_free_mail_domains_cannot_be_registered(app):
    org = registry.add_organization("Some University")
    for domain in ("gmail.com", "MAIL.RU", "@yandex.ru", "proton.me", "eu.mail.ru"):
        with pytest.raises(registry.RegistryError, match="free-mail"):
            registry.add_domain(org, domain)
    with pytest.raises(registry.RegistryError, match="not a domain"):
        registry.add_domain(org, "not a domain")
    assert registry.add_domain(org, "Uni.Example.").domain == "uni.example"
    other = registry.add_organization("Another")
    # An unproven claim blocks nobody: each entry proves its own domains.
    assert registry.add_domain(other, "uni.example").domain == "uni.example"


@pytest.mark.parametrize("affiliation, expected", [
    ("Lawyer, Member of Bar Association", "bar"),
    ("Lawyer, Member of the Bar Association", "bar"),
    ("Advocate – Bar Asociation", "bar"),  # a typo
    ("Адвокат, Коллегия адвокатов", "bar"),  # an alias in another script
    ("Journalist, FPF", "press"),
    ("Free Press Forum", "press"),
    ("Lawyer", None),
    ("Member of the Association of Free Farmers", None),
    ("", None),
])
def test_affiliation_is_matched_to_one_registry_entry(app, affiliation, expected):
    bar = registry.add_organization(BAR, aliases=["Bar Association", "Коллегия адвокатов"])
    press = registry.add_organization("Free Press Forum", aliases=["FPF"])
    found = registry.match_organization(affiliation)
    assert found is {"bar": bar, "press": press, None: None}[expected]


def test_ambiguous_affiliation_matches_nothing(app):
    registry.add_organization("Human Rights Centre", aliases=["HRC"])
    registry.add_organization("HRC")
    assert registry.match_organization("Lawyer, HRC") is None


def test_names_are_flagged_not_dropped(smtp_app, appeal):
    sig = signing.sign(appeal, "www.example-shop.com", "", "shop@example.org").signature
    odd = signing.sign(appeal, "write.me@example.net", "", "odd@example.org").signature
    fine = signing.sign(appeal, "María José de la Cruz", "", "maria@example.org").signature
    db.session.commit()
    assert "url" in sig.flags and "email" in odd.flags and fine.flags == []
    assert fine.full_name == "María José de la Cruz"  # written as the person wrote it
    assert fine.name_key and db.session.get(Signature, sig.id) is not None
