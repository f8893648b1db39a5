"""Organizer pages for signatories: review queue, duplicates, organizations, import, export, reminders."""
from flask import (Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit
from ..appeals.access import appeal_for, can
from ..appeals.forms import ActionForm
from ..extensions import db
from ..http import arg_int, parse_ids, parse_int
from ..organizations import services as registry
from ..organizations.forms import DomainForm, OrganizationForm
from ..organizations.models import Organization
from ..signatures import export as exporting
from ..signatures import followup, importing, names, verification
from ..signatures.importer import ImportFormatError
from ..signatures.models import Level, Review, SignatureStatus
from ..signatures.moderation import ModerationError
from . import services
from .forms import BulkForm, ImportForm

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
    return render_template("review/queue.html", **_context(
        appeal, page=page, filt=filt, form=BulkForm(), action_form=ActionForm(),
        summary=verification.level_summary(appeal), languages=services.languages(appeal),
        flag_choices=FLAG_CHOICES, levels=list(Level), reviews=list(Review), statuses=list(SignatureStatus),
        domains=_domains(page), args=_filter_query(filt)))


def _domains(page: services.Page) -> dict[int, str]:
    """Return the e-mail domain of each row: enough to judge an affiliation, without the address."""
    from .. import crypto

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
    sent = followup.remind_unconfirmed(appeal)
    db.session.commit()
    flash(_("Reminders sent: %(n)d.", n=sent), "success")
    return redirect(url_for("review.queue", slug=slug), code=303)


@bp.get("/duplicates")
def duplicates(slug: str):
    """List candidate pairs of the same person with their score."""
    appeal = appeal_for(slug, "moderate")
    pairs, next_after = services.open_pairs(appeal, after=arg_int("after"))
    return render_template("review/duplicates.html", **_context(
        appeal, pairs=pairs, next_after=next_after, action_form=ActionForm()))


@bp.post("/duplicates/scan")
def scan(slug: str):
    """Look for new candidate pairs among the signatures."""
    appeal = appeal_for(slug, "moderate")
    if not ActionForm().validate_on_submit():
        abort(400)
    found = services.scan_duplicates(appeal)
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
            message = _("Merged: “%(line)s” counts once.", line=kept.display_line)
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
    """List the registry; add organizations and domains; apply them to this appeal's signatures."""
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
            return _registry_changed(appeal, org, _("Organization added: %(name)s.", name=org.name))
    elif domain_form.submit.data and domain_form.validate_on_submit():
        org_id = parse_int(domain_form.organization_id.data)
        org = db.session.get(Organization, org_id) if org_id is not None else None
        if org is None:
            abort(404)
        try:
            registry.add_domain(org, domain_form.domain.data)
        except registry.RegistryError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 422
        else:
            return _registry_changed(appeal, org, _("Domain added to %(name)s.", name=org.name))
    elif request.method == "POST":
        status = 422
    if request.method == "GET" and request.args.get("affiliation"):
        form.name.data = request.args["affiliation"][:300]
    return render_template("organizations/index.html", **_context(
        appeal, form=form, domain_form=domain_form, organizations=registry.all_organizations())), status


def _registry_changed(appeal, org, message: str):
    db.session.flush()
    raised = verification.recheck(appeal, org)
    audit.record("organizations.changed", appeal, organization=org.id, name=org.name,
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
        return render_template("review/import.html", **_context(appeal, form=form, preview=None)), status
    try:
        text, kind = _import_input(form)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        return render_template("review/import.html", **_context(appeal, form=form, preview=None)), 422
    if not text.strip():
        form.text.errors = [_("Paste a list or choose a file.")]
        return render_template("review/import.html", **_context(appeal, form=form, preview=None)), 422
    if form.submit.data and form.payload.data:
        try:
            result = importing.import_list(appeal, current_user, text, kind, form.mode.data,
                                           note=form.note.data or "", skip_existing=form.skip_existing.data)
        except (importing.ImportRefused, ImportFormatError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Imported %(n)d signatories; invitations sent: %(i)d; rows skipped: %(s)d.",
                    n=result.created, i=result.invited, s=len(result.skipped)), "success")
            for line, reason in result.skipped[:20]:
                flash(_("Line %(line)d skipped: %(reason)s", line=line, reason=reason), "error")
            return redirect(url_for("review.queue", slug=slug), code=303)
    form.payload.data, form.kind.data = text, kind
    if form.preview.data:
        form.skip_existing.data = True  # an unticked box and a missing one look alike: start from the safe choice
    try:
        preview = importing.preview(appeal, text, kind)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        form.payload.data = ""  # nothing to import until the file is fixed
        return render_template("review/import.html", **_context(appeal, form=form, preview=None)), 422
    return render_template("review/import.html", **_context(appeal, form=form, preview=preview))


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
    audit.record("signatories.exported", appeal, rows=exporting.row_count(appeal), via="web")
    db.session.commit()
    return Response(stream_with_context(exporting.csv_chunks(appeal)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{appeal.slug}-signatories.csv"',
        "Cache-Control": "no-store",
    })
