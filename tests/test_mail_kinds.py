"""Every mail has a kind (issue 12, point 7): the organizer panel counts an appeal's mail per kind."""
import html
import re

from sqlalchemy import select

from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import OutboxMessage
from petitions.members import services as members
from petitions.members.models import Role
from petitions.privacy import selfservice
from petitions.registry import services as registry
from petitions.signing import operations as signing

from .conftest import new_appeal
from .test_delivery import PASSWORD, login


def panel_text(client, appeal) -> str:
    page = client.get(f"/organizer/appeals/{appeal.slug}").get_data(as_text=True)
    section = page[page.index('id="mail"'):page.index("</section>", page.index('id="mail"'))]
    return " ".join(html.unescape(re.sub("<[^>]+>", " ", section)).split())


def test_the_panel_counts_co_organizer_invitations_apart_from_signers_mail(smtp_app):
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = new_appeal(owner, "Free the journalists", "Secretary General")
    appeal.publish()
    db.session.commit()
    signing.sign(appeal, "Leyla Məmmədova", "", "leyla@example.org")
    members.invite(appeal, owner, "coorganizer@example.org", Role.EDITOR)
    db.session.commit()
    assert sending.wait_idle(smtp_app)
    client = smtp_app.test_client()
    login(client, owner.email)
    text = panel_text(client, appeal)
    assert "0 waiting to be sent, 2 sent, 0 failed" in text
    assert "Confirmation links 0 waiting to be sent, 1 sent, 0 failed" in text
    assert "Co-organizer invitations 0 waiting to be sent, 1 sent, 0 failed" in text


def test_registry_and_self_service_mail_have_their_own_kind(smtp_app):
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    org = registry.add_organization("Bar Association", domains=["bar.example"], contact_email="c@bar.example",
                                    created_by=owner)
    registry.request_domain_proof(org.domains[0], "it@bar.example", owner)
    registry.request_contact_proof(org, owner)
    selfservice.request_link("nobody@example.org")
    db.session.commit()
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == ["org_contact_proof", "org_domain_proof", "self_service"]
