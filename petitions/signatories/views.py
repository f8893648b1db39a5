"""Organizer pages for signatories: review queue, duplicates, organizations, import, export, reminders."""
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from petitions import audit
from petitions.members.access import appeal_for, can
from petitions.appeals.forms import ActionForm
from petitions.extensions import account_key, db, limiter
from petitions.http import arg_int, parse_ids, parse_int
from petitions.registry import services as registry
from petitions.registry.forms import ContactForm, DisputeForm, DomainForm, OrganizationForm, ProofForm
from petitions.registry.models import Organization, OrganizationDomain
from petitions.signing.rules import for_organizers
from petitions.signatories import export as exporting
from petitions.signing import names, operations, levels as verification
from petitions.signatories import importing
from petitions.signatories.parsing import ImportFormatError
from petitions.signing.models import Level, Review, SignatureStatus
from petitions.signing.models import ModerationError
from petitions.signatories import queue as services
from petitions.signatories.forms import BulkForm, ImportForm

bp = Blueprint("review", __name__, url_prefix="/organizer/appeals/<slug>")

FLAG_CHOICES = sorted(names.FLAGS | {verification.FLAG_ORGANIZATION})
FILTER_KEYS = ("level", "flag", "review", "status", "language")


@bp.before_request
@login_required
def _require_login():
    pass


def _filter_from_args() -> services.QueueFilter:
    """Read the filter from the query string, ignoring values that are not on offer."""
    args = request.args
    allowed = {
        "level": {level.value for level in Level}, "flag": set(FLAG_CHOICES) | {"any"},
        "review": {r.value for r in Review} | {"merged"}, "status": {s.value for s in SignatureStatus},
    }
    values = {key: args.get(key, "") if args.get(key, "") in ok else "" for key, ok in allowed.items()}
    return services.QueueFilter(language=args.get("language", "")[:16], **values)


def _filter_query(filt: services.QueueFilter) -> dict[str, str]:
    """Return the filter as query arguments for links back to the queue (only known keys, only set ones)."""
    return {key: getattr(filt, key) for key in FILTER_KEYS if getattr(filt, key)}


def _context(appeal, **extra):
    return {"appeal": appeal, "can_export": can(appeal, current_user, "export"), **extra}


@bp.get("/review")
def queue(slug: str):
    """Show the signatures to review, filtered and paginated (keyset on the id)."""
    appeal = appeal_for(slug, "moderate")
    filt = _filter_from_args()
    page = services.queue_page(appeal, filt, before=arg_int("before"))
    return render_template("signatories/queue.html", **_context(
        appeal, page=page, filt=filt, form=BulkForm(), action_form=ActionForm(),
        summary=verification.level_summary(appeal), languages=services.languages(appeal),
        flag_choices=FLAG_CHOICES, levels=list(Level), reviews=list(Review), statuses=list(SignatureStatus),
        domains=_domains(page), args=_filter_query(filt)))


def _domains(page: services.Page) -> dict[int, str]:
    """Return the e-mail domain of each row: enough to judge an affiliation, without the address."""
    from petitions import crypto

    out = {}
    for row in page.rows:
        s = row.signature
        if s.email_encrypted:
            out[s.id] = registry.email_domain(crypto.decrypt(s.email_encrypted))
    return out


@bp.post("/review")
def bulk(slug: str):
    """Approve, reject or vouch for the ticked signatures."""
    appeal = appeal_for(slug, "moderate")
    form = BulkForm()
    back = url_for("review.queue", slug=slug, **_filter_query(_filter_from_args()))
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or _("The form expired."), "error")
        return redirect(back, code=303)
    ids = parse_ids(request.form.getlist("ids"))
    action = "approve" if form.approve.data else "reject" if form.reject.data else "vouch" if form.vouch.data else ""
    if not ids:
        flash(_("Tick at least one signature first."), "error")
        return redirect(back, code=303)
    try:
        done, problems = services.moderate(appeal, current_user, ids, action, form.text.data or "")
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(_("%(action)s: %(n)d signature(s).", action=_(action.capitalize()), n=done), "success")
    for problem in problems[:10]:
        flash(problem, "error")
    return redirect(back, code=303)


@bp.post("/review/remind")
def remind(slug: str):
    """Send a reminder to unconfirmed signers who got none in the last days."""
    appeal = appeal_for(slug, "moderate")
    if not ActionForm().validate_on_submit():
        abort(400)
    sent = operations.remind_unconfirmed(appeal, current_user)
    db.session.commit()
    flash(_("Reminders sent: %(n)d.", n=sent), "success")
    return redirect(url_for("review.queue", slug=slug), code=303)


@bp.get("/duplicates")
def duplicates(slug: str):
    """List candidate pairs of the same person with their score."""
    appeal = appeal_for(slug, "moderate")
    pairs, next_after = services.open_pairs(appeal, after=arg_int("after"))
    return render_template("signatories/duplicates.html", **_context(
        appeal, pairs=pairs, next_after=next_after, action_form=ActionForm()))


@bp.post("/duplicates/scan")
def scan(slug: str):
    """Look for new candidate pairs among the signatures."""
    appeal = appeal_for(slug, "moderate")
    if not ActionForm().validate_on_submit():
        abort(400)
    found = services.scan_duplicates(appeal, current_user)
    db.session.commit()
    flash(_("New candidate pairs: %(n)d.", n=found), "success")
    return redirect(url_for("review.duplicates", slug=slug), code=303)


@bp.post("/duplicates/<int:pair_id>/<any(merge, dismiss):decision>")
def decide(slug: str, pair_id: int, decision: str):
    """Merge a pair (the person counts once) or dismiss it (two different people)."""
    appeal = appeal_for(slug, "moderate")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if decision == "merge":
            kept = services.merge(appeal, current_user, pair_id)
            message = _("Merged: “%(line)s” counts once.", line=for_organizers(kept).display_line)
        else:
            services.dismiss(appeal, current_user, pair_id)
            message = _("Dismissed: they stay two signatories.")
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("review.duplicates", slug=slug), code=303)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("review.duplicates", slug=slug), code=303)


@bp.post("/signatures/<int:signature_id>/unmerge")
def unmerge(slug: str, signature_id: int):
    """Count a merged signature on its own again."""
    appeal = appeal_for(slug, "moderate")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.unmerge(appeal, current_user, signature_id)
    except ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Unmerged: the signature counts on its own again."), "success")
    return redirect(url_for("review.queue", slug=slug, review="merged"), code=303)


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
            return _registry_changed(appeal, org, _("Organization added: %(name)s. Its domains and contact "
                                                    "confirm nothing until proven.", name=org.name))
    elif domain_form.submit.data and domain_form.validate_on_submit():
        org_id = parse_int(domain_form.organization_id.data)
        org = db.session.get(Organization, org_id) if org_id is not None else None
        if org is None:
            abort(404)
        try:
            registry.add_domain(org, domain_form.domain.data, by=current_user)
        except registry.NotYourEntry as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 403
        except registry.RegistryError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 422
        else:
            return _registry_changed(appeal, org, _("Domain added to %(name)s; send a proof link to an address "
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
    return render_template("registry/index.html", **_context(
        appeal, form=form, domain_form=domain_form, proof_form=ProofForm(prefix="proof"),
        dispute_form=DisputeForm(prefix="dispute"), contact_form=ContactForm(prefix="contact"),
        action_form=ActionForm(), organizations=[o for o in everything if o.id in trusted],
        others=[o for o in everything if o.id not in trusted])), status


def _own_entry(appeal, org_id: int):
    """Return (entry, None) if the current organizer registered it, else (None, a 403 page naming its owner)."""
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    try:
        registry.require_editor(org, current_user)
    except registry.NotYourEntry as exc:
        flash(str(exc), "error")
        return None, _registry_page(appeal, status=403)
    return org, None


def _proof_limit():
    return current_app.config["REGISTRY_PROOF_RATE_LIMIT"]


@bp.post("/organizations/<int:org_id>/proof")
@limiter.limit(_proof_limit, key_func=account_key("registry-proof"))
def request_proof(slug: str, org_id: int):
    """Mail a proof link for one of your domains (to an address there) or for your contact address."""
    appeal = appeal_for(slug, "moderate")
    org, refusal = _own_entry(appeal, org_id)
    if refusal is not None:
        return refusal
    form = ProofForm(prefix="proof")
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.domain_id.data:
            entry = next((d for d in org.domains if str(d.id) == form.domain_id.data), None)
            if entry is None:
                abort(404)
            sent_to = registry.request_domain_proof(entry, form.address.data or "", current_user)
        else:
            sent_to = registry.request_contact_proof(org, current_user)
    except registry.RegistryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _registry_page(appeal, status=422)
    audit.record("organizations.proof_requested", appeal, actor=current_user, organization=org.id,
                 domain=form.domain_id.data or None)
    db.session.commit()
    flash(_("Proof link sent to %(address)s. Nothing is confirmed until someone there presses Confirm.",
            address=sent_to), "success")
    return redirect(url_for("review.organizations", slug=appeal.slug), code=303)


@bp.post("/organizations/<int:org_id>/contact")
def change_contact(slug: str, org_id: int):
    """Change the contact of one of your entries; official signatures through the old one fall back to "email"."""
    appeal = appeal_for(slug, "moderate")
    org, refusal = _own_entry(appeal, org_id)
    if refusal is not None:
        return refusal
    form = ContactForm(prefix="contact")
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors) or _("The form expired."), "error")
        return _registry_page(appeal, status=422)
    registry.set_contact(org, form.contact_name.data or "", form.contact_email.data or "", current_user)
    return _registry_changed(appeal, org, _("Contact of %(name)s saved.", name=org.name))


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
        registry.dispute_domain(entry, current_user, form.note.data or "")
    except registry.NotYourEntry as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _registry_page(appeal, status=403)
    except registry.RegistryError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _registry_page(appeal, status=422)
    audit.record("organizations.disputed", appeal, actor=current_user, organization=org_id, domain=entry.domain)
    db.session.commit()
    flash(_("We told %(owner)s that %(domain)s is yours. Their entry confirms nothing on your appeals either "
            "way: register your organization yourself and prove the domain.", owner=entry.organization.created_by.name,
            domain=entry.domain), "success")
    return redirect(url_for("review.organizations", slug=appeal.slug), code=303)


@bp.post("/organizations/<int:org_id>/domains/<int:domain_id>/remove")
def remove_domain(slug: str, org_id: int, domain_id: int):
    """Take a domain off one of your entries; the levels it gave fall back to "email"."""
    appeal = appeal_for(slug, "moderate")
    org, refusal = _own_entry(appeal, org_id)
    if refusal is not None:
        return refusal
    if not ActionForm().validate_on_submit():
        abort(400)
    entry = next((d for d in org.domains if d.id == domain_id), None)
    if entry is None:
        abort(404)
    domain = entry.domain
    registry.remove_domain(entry, current_user)
    return _registry_changed(appeal, org, _("%(domain)s removed from %(name)s.", domain=domain, name=org.name))


@bp.post("/organizations/<int:org_id>/remove")
def remove_organization(slug: str, org_id: int):
    """Delete one of your entries; every signature it confirmed falls back to "email"."""
    appeal = appeal_for(slug, "moderate")
    org, refusal = _own_entry(appeal, org_id)
    if refusal is not None:
        return refusal
    if not ActionForm().validate_on_submit():
        abort(400)
    verification.forget_organization(org)
    audit.record("organizations.removed", appeal, actor=current_user, organization=org.id, name=org.name)
    name = org.name
    db.session.delete(org)
    db.session.commit()
    flash(_("Organization removed: %(name)s.", name=name), "success")
    return redirect(url_for("review.organizations", slug=appeal.slug), code=303)


def _registry_changed(appeal, org, message: str):
    db.session.flush()
    raised = verification.recheck(appeal, org)
    audit.record("organizations.changed", appeal, actor=current_user, organization=org.id, name=org.name,
                 domains=[d.domain for d in org.domains], raised_to_domain=raised)
    db.session.commit()
    flash(message + " " + _("Signatures now confirmed by their domain: %(n)d.", n=raised), "success")
    return redirect(url_for("review.organizations", slug=appeal.slug), code=303)


@bp.route("/import", methods=["GET", "POST"])
def import_list(slug: str):
    """Paste or upload an offline list, preview it, then import it."""
    appeal = appeal_for(slug, "moderate")
    form = ImportForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("signatories/import.html", **_context(appeal, form=form, preview=None)), status
    try:
        text, kind = _import_input(form)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        return render_template("signatories/import.html", **_context(appeal, form=form, preview=None)), 422
    if not text.strip():
        form.text.errors = [_("Paste a list or choose a file.")]
        return render_template("signatories/import.html", **_context(appeal, form=form, preview=None)), 422
    refused = False
    choices = None
    if form.submit.data and form.payload.data:
        choices = _import_choices()
        try:
            importing.check_seal(appeal, text, kind, form.seal.data)
            result = importing.import_list(appeal, current_user, text, kind, form.mode.data,
                                           note=form.note.data or "", choices=choices)
        except (importing.ImportRefused, ImportFormatError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
            refused = True
        else:
            db.session.commit()
            flash(_("Imported %(n)d signatories; invitations sent: %(i)d; rows skipped: %(s)d.",
                    n=result.created, i=result.invited, s=len(result.skipped)), "success")
            for line, reason in result.skipped[:20]:
                flash(_("Line %(line)d skipped: %(reason)s", line=line, reason=reason), "error")
            return redirect(url_for("review.queue", slug=slug), code=303)
    form.payload.data, form.kind.data, form.seal.data = text, kind, importing.seal(appeal, text, kind)
    try:
        preview = importing.preview(appeal, text, kind)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        form.payload.data = ""  # nothing to import until the file is fixed
        return render_template("signatories/import.html", **_context(appeal, form=form, preview=None)), 422
    return render_template("signatories/import.html", **_context(appeal, form=form, preview=preview, choices=choices)), \
        422 if refused else 200


def _import_choices() -> importing.Choices:
    """Return the per-row choices of the preview form: ticked lines and the names and affiliations as typed."""
    offered = frozenset(parse_ids(request.form.getlist("offered")))
    included = frozenset(parse_ids(request.form.getlist("include"))) & offered
    edits = {line: (request.form.get(f"name-{line}", ""), request.form.get(f"affiliation-{line}", ""))
             for line in offered if f"name-{line}" in request.form}
    return importing.Choices(offered, included, edits)


def _import_input(form: ImportForm) -> tuple[str, str]:
    """Return (text, kind) from the previewed payload, the uploaded file or the pasted text."""
    if form.submit.data and form.payload.data:
        return form.payload.data, form.kind.data if form.kind.data in ("csv", "lines") else "lines"
    upload = form.upload.data
    if upload is not None and getattr(upload, "filename", ""):
        return importing.text_of(upload.read()), importing.kind_for(upload.filename)
    return form.text.data or "", "lines"


@bp.get("/export.csv")
def export(slug: str):
    """Download the signatories with their levels and the revision they signed (owners only, audited)."""
    appeal = appeal_for(slug, "export")
    audit.record("signatories.exported", appeal, actor=current_user, rows=exporting.row_count(appeal), via="web")
    db.session.commit()
    return Response(stream_with_context(exporting.csv_chunks(appeal)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{appeal.slug}-signatories.csv"',
        "Cache-Control": "no-store",
    })
