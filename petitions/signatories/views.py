"""Organizer pages for signatories: review queue, reminders, duplicates, import and export."""
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petitions import crypto
from petitions.members.access import appeal_for
from petitions.privacy import accesslog
from petitions.extensions import db
from petitions.http import arg_int, parse_ids
from petitions.organizer_pages import ActionForm, act, blueprint
from petitions.registry import services as registry
from petitions.signing.rules import for_organizers
from petitions.signatories import export as exporting
from petitions.signing import names, operations, levels as verification
from petitions.signatories import importing
from petitions.signatories.parsing import ImportFormatError
from petitions.signing.models import Level, Review, SignatureStatus
from petitions.signing.models import ModerationError
from petitions.signatories import queue as services
from petitions.signatories.forms import BulkForm, ImportForm

bp = blueprint("signatories", __name__, url_prefix="/organizer/appeals/<slug>")

FLAG_CHOICES = sorted(names.FLAGS | {verification.FLAG_ORGANIZATION})
FILTER_KEYS = ("level", "flag", "review", "status", "language")


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


@bp.get("/review")
def queue(slug: str):
    """Show the signatures to review, filtered and paginated (keyset on the id)."""
    appeal = appeal_for(slug, "moderate")
    filt = _filter_from_args()
    page = services.queue_page(appeal, filt, before=arg_int("before"))
    return render_template(
        "signatories/queue.html", appeal=appeal, page=page, filt=filt, form=BulkForm(), action_form=ActionForm(),
        summary=verification.level_summary(appeal), languages=services.languages(appeal),
        flag_choices=FLAG_CHOICES, levels=list(Level), reviews=list(Review), statuses=list(SignatureStatus),
        domains=_domains(page), args=_filter_query(filt))


def _domains(page: services.Page) -> dict[int, str]:
    """Return the e-mail domain of each row: enough to judge an affiliation, without the address."""
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
    back = url_for("signatories.queue", slug=slug, **_filter_query(_filter_from_args()))
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
    return _moderate(slug, operations.remind_unconfirmed, lambda n: _("Reminders sent: %(n)d.", n=n), "signatories.queue")


@bp.get("/duplicates")
def duplicates(slug: str):
    """List candidate pairs of the same person with their score."""
    appeal = appeal_for(slug, "moderate")
    pairs, next_after = services.open_pairs(appeal, after=arg_int("after"))
    return render_template("signatories/duplicates.html", appeal=appeal, pairs=pairs, next_after=next_after,
                           action_form=ActionForm())


@bp.post("/duplicates/scan")
def scan(slug: str):
    """Look for new candidate pairs among the signatures."""
    return _moderate(slug, services.scan_duplicates, lambda n: _("New candidate pairs: %(n)d.", n=n),
                     "signatories.duplicates")


@bp.post("/duplicates/<int:pair_id>/<any(merge, dismiss):decision>")
def decide(slug: str, pair_id: int, decision: str):
    """Merge a pair (the person counts once) or dismiss it (two different people)."""
    def perform(appeal, user) -> str:
        if decision == "merge":
            kept = services.merge(appeal, user, pair_id)
            return _("Merged: “%(line)s” counts once.", line=for_organizers(kept).display_line)
        services.dismiss(appeal, user, pair_id)
        return _("Dismissed: they stay two signatories.")

    return _moderate(slug, perform, str, "signatories.duplicates")


def _moderate(slug: str, action, success, back: str, **args):
    """Run a moderation button: action(appeal, user), one commit, a message, back to the `back` page."""
    appeal = appeal_for(slug, "moderate")
    return act(lambda: action(appeal, current_user), success, url_for(back, slug=slug, **args),
               refused=(ModerationError,))


@bp.post("/signatures/<int:signature_id>/unmerge")
def unmerge(slug: str, signature_id: int):
    """Count a merged signature on its own again."""
    return _moderate(slug, lambda appeal, user: services.unmerge(appeal, user, signature_id),
                     _("Unmerged: the signature counts on its own again."), "signatories.queue", review="merged")


@bp.route("/import", methods=["GET", "POST"])
def import_list(slug: str):
    """Paste or upload an offline list, preview it, then import it."""
    appeal = appeal_for(slug, "moderate")
    form = ImportForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _import_page(appeal, form, status=status)
    try:
        text, kind = _import_input(form)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        return _import_page(appeal, form, status=422)
    if not text.strip():
        form.text.errors = [_("Paste a list or choose a file.")]
        return _import_page(appeal, form, status=422)
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
            return redirect(url_for("signatories.queue", slug=slug), code=303)
    form.payload.data, form.kind.data, form.seal.data = text, kind, importing.seal(appeal, text, kind)
    try:
        preview = importing.preview(appeal, text, kind)
    except ImportFormatError as exc:
        form.upload.errors = [str(exc)]
        form.payload.data = ""  # nothing to import until the file is fixed
        return _import_page(appeal, form, status=422)
    return _import_page(appeal, form, preview, choices, status=422 if refused else 200)


def _import_page(appeal, form: ImportForm, preview=None, choices=None, status: int = 200):
    return render_template("signatories/import.html", appeal=appeal, form=form, preview=preview,
                           choices=choices), status


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
    accesslog.signatories_exported(appeal, actor=current_user, rows=exporting.row_count(appeal), via="web")
    db.session.commit()
    return Response(stream_with_context(exporting.csv_chunks(appeal)), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{appeal.slug}-signatories.csv"',
        "Cache-Control": "no-store",
    })
