"""Organizer pages of the organization registry: list and add entries, prove, dispute and remove them."""
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petitions.extensions import db
from petitions.ratelimit import account_key, limiter
from petitions.http import parse_int
from petitions.members.access import appeal_for
from petitions.organizer_pages import ActionForm, blueprint, require_button
from petitions.registry import operations
from petitions.registry import services as registry
from petitions.registry.forms import ContactForm, DisputeForm, DomainForm, OrganizationForm, ProofForm
from petitions.registry.models import Organization, OrganizationDomain

bp = blueprint("registry", __name__, url_prefix="/organizer/appeals/<slug>")


@bp.route("/organizations", methods=["GET", "POST"])
def organizations(slug: str):
    """List the registry; add organizations and domains to your own entries; apply them to this appeal."""
    appeal = appeal_for(slug, "moderate")
    form = OrganizationForm(prefix="org")
    domain_form = DomainForm(prefix="dom")
    status = 200
    if form.submit.data and form.validate_on_submit():
        try:
            org = registry.add_organization(
                form.name.data, aliases=(form.aliases.data or "").splitlines(),
                domains=(form.domains.data or "").splitlines(),
                contact_name=form.contact_name.data or "", contact_email=form.contact_email.data or "",
                created_by=current_user)
        except registry.RegistryError as exc:
            db.session.rollback()
            form.domains.errors = [str(exc)]
            status = 422
        else:
            return _entry_changed(appeal, org, _("Organization added: %(name)s. Its domains and contact "
                                                 "confirm nothing until proven.", name=org.name))
    elif domain_form.submit.data and domain_form.validate_on_submit():
        org_id = parse_int(domain_form.organization_id.data)
        org = db.session.get(Organization, org_id) if org_id is not None else None
        if org is None:
            abort(404)
        try:
            registry.add_domain(org, domain_form.domain.data, by=current_user)
        except registry.RegistryError as exc:
            return _refused(appeal, exc)
        return _entry_changed(appeal, org, _("Domain added to %(name)s; send a proof link to an address "
                                             "there.", name=org.name))
    elif request.method == "POST":
        status = 422
    if request.method == "GET" and request.args.get("affiliation"):
        form.name.data = request.args["affiliation"][:300]
    return _registry_page(appeal, form, domain_form, status)


def _registry_page(appeal, form=None, domain_form=None, status: int = 200):
    form = form if form is not None else OrganizationForm(prefix="org")
    domain_form = domain_form if domain_form is not None else DomainForm(prefix="dom")
    trusted = set(registry.trusted_ids(appeal))
    everything = registry.all_organizations()
    return render_template(
        "registry/index.html", appeal=appeal, form=form, domain_form=domain_form,
        proof_form=ProofForm(prefix="proof"), dispute_form=DisputeForm(prefix="dispute"),
        contact_form=ContactForm(prefix="contact"), action_form=ActionForm(),
        organizations=[o for o in everything if o.id in trusted],
        others=[o for o in everything if o.id not in trusted]), status


def _refused(appeal, exc: registry.RegistryError):
    """Undo the request's changes and show the registry with the reason: 403 for another's entry, else 422."""
    db.session.rollback()
    flash(str(exc), "error")
    return _registry_page(appeal, status=403 if isinstance(exc, registry.NotYourEntry) else 422)


def _own_entry(slug: str, org_id: int) -> tuple:
    """Return (appeal, entry) if the organizer registered the entry, else answer with a page naming its owner."""
    appeal = appeal_for(slug, "moderate")
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    try:
        registry.require_editor(org, current_user)
    except registry.NotYourEntry as exc:
        abort(make_response(_refused(appeal, exc)))
    return appeal, org


def _done(appeal, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("registry.organizations", slug=appeal.slug), code=303)


def _entry_changed(appeal, org, message: str):
    raised = operations.entry_changed(appeal, org, current_user)
    return _done(appeal, message + " " + _("Signatures now confirmed by their domain: %(n)d.", n=raised))


def _proof_limit():
    return current_app.config["REGISTRY_PROOF_RATE_LIMIT"]


@bp.post("/organizations/<int:org_id>/proof")
@limiter.limit(_proof_limit, key_func=account_key("registry-proof"))
def request_proof(slug: str, org_id: int):
    """Mail a proof link for one of your domains (to an address there) or for your contact address."""
    appeal, org = _own_entry(slug, org_id)
    form = ProofForm(prefix="proof")
    if not form.validate_on_submit():
        abort(400)
    try:
        sent_to = operations.request_proof(appeal, org, current_user, form.domain_id.data or "",
                                           form.address.data or "")
    except LookupError:
        abort(404)
    except registry.RegistryError as exc:
        return _refused(appeal, exc)
    return _done(appeal, _("Proof link sent to %(address)s. Nothing is confirmed until someone there presses "
                           "Confirm.", address=sent_to))


@bp.post("/organizations/<int:org_id>/contact")
def change_contact(slug: str, org_id: int):
    """Change the contact of one of your entries; official signatures through the old one fall back to "email"."""
    appeal, org = _own_entry(slug, org_id)
    form = ContactForm(prefix="contact")
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or _("The form expired."), "error")
        return _registry_page(appeal, status=422)
    registry.set_contact(org, form.contact_name.data or "", form.contact_email.data or "", current_user)
    return _entry_changed(appeal, org, _("Contact of %(name)s saved.", name=org.name))


@bp.post("/organizations/<int:org_id>/domains/<int:domain_id>/dispute")
@limiter.limit(_proof_limit, key_func=account_key("registry-proof"))
def dispute_domain(slug: str, org_id: int, domain_id: int):
    """Tell the owner of another organizer's entry that a domain in it is your organization's."""
    appeal = appeal_for(slug, "moderate")
    entry = db.session.get(OrganizationDomain, domain_id)
    if entry is None or entry.organization_id != org_id:
        abort(404)
    form = DisputeForm(prefix="dispute")
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.dispute(appeal, entry, current_user, form.note.data or "")
    except registry.RegistryError as exc:
        return _refused(appeal, exc)
    return _done(appeal, _("We told %(owner)s that %(domain)s is yours. Their entry confirms nothing on your "
                           "appeals either way: register your organization yourself and prove the domain.",
                           owner=entry.organization.created_by.name, domain=entry.domain))


@bp.post("/organizations/<int:org_id>/domains/<int:domain_id>/remove")
def remove_domain(slug: str, org_id: int, domain_id: int):
    """Take a domain off one of your entries; the levels it gave fall back to "email"."""
    appeal, org = _own_entry(slug, org_id)
    require_button()
    entry = next((d for d in org.domains if d.id == domain_id), None)
    if entry is None:
        abort(404)
    domain = entry.domain
    registry.remove_domain(entry, current_user)
    return _entry_changed(appeal, org, _("%(domain)s removed from %(name)s.", domain=domain, name=org.name))


@bp.post("/organizations/<int:org_id>/remove")
def remove_organization(slug: str, org_id: int):
    """Delete one of your entries; every signature it confirmed falls back to "email"."""
    appeal, org = _own_entry(slug, org_id)
    require_button()
    name = org.name
    operations.remove_organization(appeal, org, current_user)
    return _done(appeal, _("Organization removed: %(name)s.", name=name))
