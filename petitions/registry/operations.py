"""Registry write actions that also move signer levels, each audited; the views call these and commit."""
from petitions.audit import record
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.registry.models import Organization, OrganizationDomain
from petitions.signing import levels


def entry_changed(appeal, org: Organization, actor) -> int:
    """Apply an added or edited entry to the appeal's signatures; return how many rose to "domain"."""
    db.session.flush()
    raised = levels.recheck(appeal, org)
    record("organizations.changed", appeal, actor=actor, organization=org.id, name=org.name,
           domains=[d.domain for d in org.domains], raised_to_domain=raised)
    return raised


def request_proof(appeal, org: Organization, actor, domain_id: str = "", address: str = "") -> str:
    """Mail a proof link for one domain of the entry (to an address there) or for its contact; return the address."""
    if domain_id:
        entry = next((d for d in org.domains if str(d.id) == domain_id), None)
        if entry is None:
            raise LookupError(domain_id)
        sent_to = registry.request_domain_proof(entry, address, actor)
    else:
        sent_to = registry.request_contact_proof(org, actor)
    record("organizations.proof_requested", appeal, actor=actor, organization=org.id, domain=domain_id or None)
    return sent_to


def dispute(appeal, entry: OrganizationDomain, actor, note: str = "") -> None:
    """Tell the owner of another organizer's entry that one of its domains is the actor's organization's."""
    registry.dispute_domain(entry, actor, note)
    record("organizations.disputed", appeal, actor=actor, organization=entry.organization_id, domain=entry.domain)


def remove_organization(appeal, org: Organization, actor) -> None:
    """Delete an entry of the actor's; every signature it confirmed falls back to "email"."""
    registry.require_editor(org, actor)
    levels.forget_organization(org)
    record("organizations.removed", appeal, actor=actor, organization=org.id, name=org.name)
    db.session.delete(org)


def prove(token: str) -> tuple[str, Organization, OrganizationDomain | None, int]:
    """Record the proof behind a link and raise the levels it gives; return (kind, entry, domain, raised)."""
    kind, org, entry = registry.proof_for(token)
    registry.prove(token)
    db.session.flush()
    raised = levels.apply_everywhere(org)
    record("organizations.proven", None, actor=None, organization=org.id, kind=kind,
           domain=entry.domain if entry is not None else None, raised=raised)
    return kind, org, entry, raised
