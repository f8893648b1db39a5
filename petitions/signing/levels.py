"""Verification of signatories: hooks run when someone signs and confirms, and level summaries."""
from __future__ import annotations

from sqlalchemy import func, select

from petitions import crypto
from petitions.appeals.models import Appeal
from petitions.extensions import db
from petitions.registry import services as registry
from petitions.registry.models import Organization
from petitions.signing import names
from petitions.signatories.dedupe import translit_key
from petitions.signing.models import Level, Signature, SignatureStatus
from petitions.signing.rules import counting_clause

FLAG_ORGANIZATION = "organization"  # the name field names a registered organization: it signs as a body
# Levels a domain check may raise; an organizer's vouch or an official signature is never lowered by it.
_RAISABLE = (Level.UNCONFIRMED, Level.EMAIL)
# Levels that rest on registry facts alone: they fall when those facts go.
_DERIVED = (Level.DOMAIN, Level.OFFICIAL)


def derived(full_name: str, affiliation: str, matcher: registry.Matcher, *, organization: str = "") -> dict:
    """Return the fields derived from what a signer typed: flags, name key, organization, official.

    `organization` is the body a signer signs on behalf of; it signs as that body, as a registered
    organization's name typed as the full name always did.
    """
    flags = list(names.flags_for_name(full_name))
    as_body = matcher.match(organization or full_name) if not flags else None
    if as_body is not None:
        flags.append(FLAG_ORGANIZATION)
        org_id = as_body
    else:
        org_id = matcher.match(affiliation) if affiliation else None
    return {"flags": flags, "name_key": translit_key(full_name)[:200], "organization_id": org_id,
            "official": as_body is not None}


def matcher_for(appeal: Appeal) -> registry.Matcher:
    """Return a matcher over the entries that may confirm signatures on this appeal."""
    return registry.trusted_matcher(appeal)


def describe(signature: Signature, matcher: registry.Matcher | None = None) -> None:
    """Fill in the derived fields of a new signature: flags, name key, organization."""
    matcher = matcher or matcher_for(signature.appeal)
    for key, value in _derived_of(signature, matcher).items():
        setattr(signature, key, value)


def redescribe_corrected(signature: Signature) -> None:
    """Recompute flags and name key of a corrected signature; its organization waits for a new proof."""
    fields = _derived_of(signature, registry.Matcher([]))
    signature.flags, signature.name_key = fields["flags"], fields["name_key"]


def _derived_of(signature: Signature, matcher: registry.Matcher) -> dict:
    organization = signature.organization_name if signature.for_organization else ""
    return derived(signature.full_name, signature.affiliation or "", matcher, organization=organization)


def on_sign(signature: Signature) -> None:
    """Describe a signature made on the public page."""
    describe(signature)


def on_confirm(signature: Signature) -> None:
    """Raise the level of a just-confirmed signature from what its e-mail domain proves."""
    if signature.status is not SignatureStatus.CONFIRMED or signature.level not in _RAISABLE:
        return
    email = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
    signature.take_proven_level(level_for(signature, email))


def level_for(signature: Signature, email: str | None, trusted: list[int] | None = None) -> Level:
    """Return the level a confirmed address proves for this signature (at least "email")."""
    if email is None or signature.organization_id is None:
        return Level.EMAIL
    org = db.session.get(Organization, signature.organization_id)
    trusted = registry.trusted_ids(signature.appeal) if trusted is None else trusted
    if org is None or org.id not in trusted:
        return Level.EMAIL
    if signature.official:
        # An organization signs as a body only through the contact address it proved to the registry.
        if org.contact_proven and crypto.normalize_email(email) == crypto.normalize_email(org.contact_email):
            return Level.OFFICIAL
        return Level.EMAIL
    holder = registry.proven_holder(registry.email_domain(email), trusted)
    return Level.DOMAIN if holder == org.id else Level.EMAIL


def recheck(appeal: Appeal, org: Organization) -> int:
    """Apply a new or changed registry entry to the appeal's signatures; return how many rose to "domain"."""
    reassess(org)
    if not registry.trusts(appeal, org):
        return 0
    matcher = registry.Matcher([org])
    rows = db.session.execute(
        select(Signature.id, Signature.affiliation).where(
            Signature.appeal_id == appeal.id, Signature.level.in_(_RAISABLE), Signature.official.is_(False),
            Signature.status != SignatureStatus.WITHDRAWN, Signature.affiliation != "")
    )
    ids = [sid for sid, affiliation in rows if matcher.match(affiliation) == org.id]
    raised = 0
    for start in range(0, len(ids), 500):
        for signature in db.session.scalars(select(Signature).where(Signature.id.in_(ids[start:start + 500]))):
            signature.link_organization(org.id)
            if signature.status is SignatureStatus.CONFIRMED:
                before = signature.level
                on_confirm(signature)
                raised += signature.level is Level.DOMAIN and before is not Level.DOMAIN
    return raised


def reassess(org: Organization | None = None, appeal: Appeal | None = None) -> int:
    """Drop every "domain" or "official" level (of one entry, one appeal, or all) its proven facts no longer give."""
    query = select(Signature.id).where(Signature.level.in_(_DERIVED))
    if org is not None:
        query = query.where(Signature.organization_id == org.id)
    if appeal is not None:
        query = query.where(Signature.appeal_id == appeal.id)
    ids = list(db.session.scalars(query))
    dropped, trusted = 0, {}
    for start in range(0, len(ids), 500):
        for signature in db.session.scalars(select(Signature).where(Signature.id.in_(ids[start:start + 500]))):
            if signature.appeal_id not in trusted:
                trusted[signature.appeal_id] = registry.trusted_ids(signature.appeal)
            email = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
            if level_for(signature, email, trusted[signature.appeal_id]) is not signature.level:
                signature.take_proven_level(Level.EMAIL if email is not None else Level.UNCONFIRMED)
                dropped += 1
    return dropped


def apply_everywhere(org: Organization) -> int:
    """Apply a just-proven entry to every appeal that trusts it; return how many signatures rose."""
    raised = 0
    for appeal in registry.appeals_trusting(org):
        raised += recheck(appeal, org)
        # Signatures already linked to the entry (bodies signing officially among them) wait at "email".
        for signature in db.session.scalars(select(Signature).where(
                Signature.appeal_id == appeal.id, Signature.organization_id == org.id,
                Signature.status == SignatureStatus.CONFIRMED, Signature.level == Level.EMAIL)):
            on_confirm(signature)
            raised += signature.level is not Level.EMAIL
    return raised


def forget_organization(org: Organization) -> None:
    """Unlink an entry about to be deleted from every signature and drop the levels it gave."""
    db.session.execute(Signature.__table__.update().where(
        Signature.organization_id == org.id, Signature.level.in_(_DERIVED)).values(level=Level.EMAIL))
    db.session.execute(Signature.__table__.update().where(Signature.organization_id == org.id)
                       .values(organization_id=None, official=False))


def level_summary(appeal: Appeal) -> dict[Level, int]:
    """Count the signatures that count, per verification level (for the review page and the PDF annex)."""
    summary = {level: 0 for level in Level}
    for level, n in db.session.execute(select(Signature.level, func.count())
                                       .where(Signature.appeal_id == appeal.id, counting_clause())
                                       .group_by(Signature.level)):
        summary[level] += n
    return summary
