"""Organizer pages: dashboard, drafting, revisions, lifecycle, audit, the PDF."""
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from petitions.appeals import services
from petitions.appeals.chart import bar_chart, confirmed_per_day
from petitions.appeals.diff import content_diff
from petitions.appeals.forms import LetterForm, TemplateForm
from petitions.appeals.models import Appeal, AppealStatus, IllegalTransition
from petitions.audit import events_for
from petitions.extensions import db
from petitions.http import arg_int, parse_int
from petitions.i18n import looks_like_language
from petitions.mail.panel import mail_panel
from petitions.members.access import appeal_for, appeals_of, can
from petitions.organizer_pages import ActionForm, act, blueprint
from petitions.pdf.views import download_current
from petitions.privacy import accesslog
from petitions.signing import operations as reconfirming
from petitions.signing.rules import latest_listed

bp = blueprint("organizer", __name__, url_prefix="/organizer")


@bp.app_template_global("can")
def _can(appeal: Appeal, action: str) -> bool:
    return can(appeal, current_user, action)


@bp.get("/")
def dashboard():
    """List the organizer's appeals with counts, goal progress, deadline and a chart per appeal."""
    appeals = appeals_of(current_user)
    for appeal in appeals:
        services.close_if_due(appeal)
    db.session.commit()  # the closes the deadline rule made; nothing else changes here
    ids = [a.id for a in appeals]
    counts = services.signature_counts(ids)
    series = confirmed_per_day(ids)
    charts = {i: bar_chart(series[i]) for i in ids}
    return render_template("organizer/dashboard.html", appeals=appeals, counts=counts, charts=charts)


@bp.route("/appeals/new", methods=["GET", "POST"])
def new():
    """Start a new appeal, from a template or blank."""
    form = LetterForm()
    start = request.args.get("start")
    if request.method == "GET":
        if start is None:
            return render_template("organizer/start.html", starts=services.starting_points(current_user))
        content = services.starting_content(start, current_user) if start != "blank" else {}
        if content is None:
            abort(404)
        form.fill(content)
    elif form.validate_on_submit() and not form.preview.data:
        appeal = services.start_appeal(current_user, form.content(), form.signature_goal.data, form.deadline.data)
        db.session.commit()
        flash(_("Draft saved."), "success")
        return redirect(url_for("organizer.show", slug=appeal.slug), code=303)
    return _editor(form, appeal=None)


@bp.route("/appeals/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    """Change the text; on an open appeal the change waits as an unpublished revision."""
    appeal = appeal_for(slug, "edit")
    form = LetterForm()
    try:
        appeal.ensure_editable()
    except IllegalTransition as exc:
        if request.method == "GET":
            flash(str(exc), "error")
            return redirect(url_for("organizer.show", slug=slug))
        return render_template("public/message.html", title=_("Not saved"), message=str(exc)), 409
    if request.method == "GET":
        form.fill(appeal.content())
        form.signature_goal.data = appeal.signature_goal
        form.deadline.data = appeal.deadline.date() if appeal.deadline else None
        form.base_revision.data = appeal.revision_count
        return _editor(form, appeal)
    if not form.validate_on_submit() or form.preview.data:
        return _editor(form, appeal)
    try:
        saved = _save(appeal, form)
    except services.EditConflict as exc:
        db.session.rollback()
        form.base_revision.data = exc.current.number  # saving again now overwrites, knowingly
        changes = content_diff(exc.current.content, services.normalize_content(form.content()))
        flash(_("Someone saved revision %(n)d while you were editing. Review the differences below; "
                "save again to replace their version with yours.", n=exc.current.number), "error")
        return _editor(form, appeal, conflict=changes, status=409)
    db.session.commit()
    if saved is not None and appeal.status is AppealStatus.OPEN:
        flash(_("Saved as revision %(n)d. Signers still see revision %(p)d until you publish the amendment.",
                n=saved.number, p=appeal.published_revision.number), "success")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("organizer.show", slug=slug), code=303)


def _save(appeal: Appeal, form: LetterForm, automatic: bool = False):
    return services.save_draft(appeal, current_user, form.content(), base_revision=parse_int(form.base_revision.data),
                               goal=form.signature_goal.data, deadline_day=form.deadline.data, automatic=automatic)


def _editor(form: LetterForm, appeal: Appeal | None, conflict=None, status: int | None = None):
    # The preview shows the text in the form from the start, rendered here so it needs no JavaScript.
    preview = None if form.errors else services.normalize_content(form.content())
    if preview is not None and not (preview["title"] or preview["body"] or preview["addressees"]):
        preview = None  # a blank start: the hint says what the preview will show
    if len(form.addressees.entries) == 0 or any(e.data.get("name") for e in form.addressees.entries[-1:]):
        form.addressees.append_entry({})  # always one blank block to add an addressee without JavaScript
    code = status or (422 if form.errors else 200)
    return render_template("organizer/edit.html", form=form, appeal=appeal, preview=preview,
                           preview_language=appeal.original_language if appeal else _interface_language(),
                           conflict=conflict, template_form=TemplateForm()), code


@bp.post("/preview")
def preview():
    """Render a letter from posted form data with the public page's pipeline (for the live preview)."""
    form = LetterForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    language = request.args.get("lang")
    return render_template("organizer/_preview.html", preview=services.normalize_content(form.content()),
                           language=language if looks_like_language(language) else _interface_language())


def _interface_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.post("/appeals/<slug>/autosave")
def autosave(slug: str):
    """Save a draft in the background; answer 409 if someone else saved since."""
    appeal = appeal_for(slug, "edit")
    form = LetterForm()
    if appeal.status is not AppealStatus.DRAFT:
        return jsonify(error="Only drafts are saved automatically."), 409
    if not form.validate_on_submit():
        return jsonify(error="Not saved: some fields need attention.", fields=sorted(form.errors)), 422
    try:
        saved = _save(appeal, form, automatic=True)
    except services.EditConflict as exc:
        db.session.rollback()
        return jsonify(error=f"Revision {exc.current.number} was saved by someone else.", conflict=True,
                       revision=exc.current.number), 409
    db.session.commit()
    return jsonify(revision=appeal.revision_count, saved=saved is not None)


@bp.get("/appeals/<slug>")
def show(slug: str):
    """Show an appeal as signers see it, its state, counts and the actions the role allows."""
    appeal = appeal_for(slug, "view")
    services.close_if_due(appeal)  # committed below with the access log entry
    counts = services.signature_counts([appeal.id])[appeal.id]
    chart = bar_chart(confirmed_per_day([appeal.id])[appeal.id], width=480, height=80)
    accesslog.viewed(appeal, "signatory list", actor=current_user)  # it shows addressee-only names
    db.session.commit()
    return render_template(
        "organizer/show.html", appeal=appeal, counts=counts, chart=chart, action_form=ActionForm(),
        template_form=TemplateForm(),
        # The newest few: the whole list is the review queue's and the export's, both a page at a time.
        groups=services.group_by_revision(appeal, latest_listed(
            appeal, "export", int(current_app.config["ORGANIZER_LATEST_SIGNATORIES"]))),
        unpublished=services.has_unpublished_changes(appeal),
        outdated=reconfirming.outdated_total(appeal) if appeal.published_revision_id else 0,
        mail=mail_panel(appeal),
    )


def _act(slug: str, perform, success, **kw):
    return act(perform, success, url_for("organizer.show", slug=slug), **kw)


TRANSITION_MESSAGES = {
    "publish": _l("Published: the appeal is open for signatures."),
    "close": _l("Closed: no more signatures are accepted."),
    "reopen": _l("Reopened: signatures are accepted again."),
    "archive": _l("Archived."),
}


# "Delivered" has no button here: it follows the first delivery logged in petitions/delivery (a cover mail, or
# by post or in person), so an appeal is never delivered without a record of to whom and when.
@bp.post("/appeals/<slug>/<any(publish, close, reopen, archive):action>")
def transition(slug: str, action: str):
    """Move the appeal through its lifecycle."""
    appeal = appeal_for(slug, "publish" if action in ("publish", "reopen") else
                        "deliver" if action == "archive" else "close")
    return _act(slug, lambda: services.transition(appeal, action, current_user), str(TRANSITION_MESSAGES[action]))


@bp.post("/appeals/<slug>/publish-revision")
def publish_revision(slug: str):
    """Make the newest revision the text new signers sign."""
    appeal = appeal_for(slug, "publish")
    return _act(slug, lambda: services.publish_revision(appeal, current_user),
                lambda rev: _("Revision %(n)d is now the text people sign.", n=rev.number))


@bp.post("/appeals/<slug>/reconfirm")
def request_reconfirmation(slug: str):
    """Ask signatories of earlier revisions to sign the published one."""
    appeal = appeal_for(slug, "publish")

    def ask():
        if appeal.status is not AppealStatus.OPEN:
            raise IllegalTransition(_("Re-confirmation can only be asked while the appeal is open."))
        return reconfirming.request_reconfirmation(appeal, current_user)

    return _act(slug, ask, lambda sent: _("Asked %(n)d signatories of earlier revisions to re-confirm.", n=sent))


@bp.get("/appeals/<slug>/history")
def history(slug: str):
    """List the revisions and compare any two of them."""
    appeal = appeal_for(slug, "view")
    revs = services.revisions(appeal)
    a, b = arg_int("a"), arg_int("b")
    changes = None
    if a is not None and b is not None:
        old, new = services.revision(appeal, a), services.revision(appeal, b)
        if old is None or new is None:
            abort(404)
        changes = content_diff(old.content, new.content)
    return render_template("organizer/history.html", appeal=appeal, revisions=revs, a=a, b=b, changes=changes,
                           action_form=ActionForm())


@bp.post("/appeals/<slug>/restore/<int:number>")
def restore(slug: str, number: int):
    """Make an old revision's text the newest revision."""
    appeal = appeal_for(slug, "edit")
    return act(lambda: services.restore_revision(appeal, number, current_user),
               lambda new: _("Revision %(old)d restored as revision %(new)d.", old=number, new=new.number) if new
               else _("That text is already the newest."),
               url_for("organizer.history", slug=slug), done=url_for("organizer.show", slug=slug),
               refused=(IllegalTransition, services.InvalidContent))  # an old text may hold what is now refused


@bp.post("/appeals/<slug>/template")
def save_template(slug: str):
    """Keep this appeal's text as a template of the organizer's own."""
    appeal = appeal_for(slug, "view")
    form = TemplateForm()
    if not form.validate_on_submit():
        flash(_("Give the template a name."), "error")
        return redirect(url_for("organizer.show", slug=slug), code=303)
    services.save_as_template(appeal, current_user, form.name.data)
    db.session.commit()
    flash(_("Saved as a template: it appears when you start a new appeal."), "success")
    return redirect(url_for("organizer.show", slug=slug), code=303)


@bp.get("/appeals/<slug>/audit")
def audit(slug: str):
    """Show the appeal's audit log to its owners."""
    appeal = appeal_for(slug, "audit")
    return render_template("privacy/audit.html", appeal=appeal, events=events_for(appeal),
                           personal=set(accesslog.PERSONAL_DATA_ACTIONS))


@bp.post("/appeals/<slug>/delete")
def delete(slug: str):
    """Delete a draft (appeals that people signed are archived instead)."""
    appeal = appeal_for(slug, "delete")
    return _act(slug, lambda: services.delete_draft(appeal, current_user), _("Draft deleted."),
                done=url_for("organizer.dashboard"))


@bp.get("/appeals/<slug>/pdf")
def pdf(slug: str):
    """Download the current signed PDF for the addressees, with every confirmed signatory."""
    appeal = appeal_for(slug, "pdf")
    response = download_current(appeal)
    accesslog.exported(appeal, "addressee PDF", actor=current_user)
    db.session.commit()
    return response
