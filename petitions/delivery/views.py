"""Organizer pages of delivery: the log per addressee, the cover mail, manual deliveries and replies."""
import os
from datetime import date

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from petitions.mail import sending
from petitions.appeals.models import IllegalTransition
from petitions.delivery import operations
from petitions.delivery.forms import CoverMailForm, ManualDeliveryForm, ReplyForm
from petitions.delivery.models import DeliveryReply
from petitions.extensions import db
from petitions.i18n import language_name
from petitions.members.access import appeal_for
from petitions.organizer_pages import act, blueprint
from petitions.pdf import jobs

bp = blueprint("delivery", __name__, url_prefix="/organizer/appeals/<slug>/delivery")


@bp.app_template_global()
def delivery_lines(appeal) -> list[operations.PublicLine]:
    """Give the public page its "Delivered to … on …" lines."""
    return operations.public_lines(appeal)


def _index(slug: str):
    return url_for("delivery.index", slug=slug)


def _person(appeal, position: int) -> dict:
    try:
        return operations.addressee(appeal, position - 1)
    except LookupError:
        abort(404)


@bp.get("")
def index(slug: str):
    """Show each addressee with its delivery log and replies."""
    appeal = appeal_for(slug, "view")
    log = operations.deliveries_of(appeal)
    by_addressee = {}
    for delivery in log:
        by_addressee.setdefault(delivery.addressee_index, []).append(delivery)
    revision = operations.revision_number(appeal)
    manual = ManualDeliveryForm(revision=revision, delivered_on=date.today())
    # A mailed delivery's status is the outbox's (queued, retrying, sent, failed); a manual one is "delivered".
    sent = sending.statuses_of([d.message_id for d in log if d.message_id])
    return render_template("delivery/index.html", appeal=appeal, addressees=operations.addressees(appeal),
                           statuses={d.id: sent.get(d.message_id, d.status) for d in log},
                           by_addressee=by_addressee, manual_form=manual, reply_form=ReplyForm(),
                           revision=revision, deliverable=_deliverable(appeal))


def _deliverable(appeal) -> str | None:
    try:
        operations.ensure_deliverable(appeal)
    except IllegalTransition as exc:
        return str(exc)
    return None


def _cover_form(appeal) -> CoverMailForm:
    form = CoverMailForm()
    languages = operations.delivery_languages(appeal)
    form.language.choices = [SelectChoice(code, language_name(code)) for code in languages]
    form.versions.choices = [SelectChoice(code, language_name(code)) for code in languages
                             if code != appeal.original_language]
    return form


@bp.route("/<int:position>", methods=["GET", "POST"])
def compose(slug: str, position: int):
    """Write, preview and send the cover mail to one addressee."""
    appeal = appeal_for(slug, "deliver")
    person = _person(appeal, position)
    refusal = _deliverable(appeal)
    if refusal:
        flash(refusal, "error")
        return redirect(_index(slug), code=303)
    form = _cover_form(appeal)
    if request.method == "GET":
        language = request.args.get("language")
        if language not in {choice.value for choice in form.language.choices}:
            language = appeal.original_language
        subject, body = operations.cover_text(appeal, person, language, current_user)
        form.process(data={"revision": operations.revision_number(appeal), "recipient": person.get("email", ""),
                           "language": language, "subject": subject, "body": body})
        return _compose_page(appeal, person, position, form)
    if not form.validate_on_submit():
        return _compose_page(appeal, person, position, form), 422
    try:
        files = operations.attachments(appeal, form.versions.data or [])
    except operations.AttachmentsTooLarge as exc:
        form.versions.errors = [str(exc)]
        return _compose_page(appeal, person, position, form), 422
    except jobs.RenderFailed as exc:
        flash(str(exc), "error")
        return _compose_page(appeal, person, position, form), 503
    if not form.send.data:
        return _compose_page(appeal, person, position, form, files=files)
    try:
        delivery = operations.send_cover_mail(appeal, position - 1, form.revision.data, form.recipient.data,
                                              form.language.data, form.subject.data, form.body.data, files,
                                              current_user)
    except operations.AlreadyDelivered as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_index(slug), code=303)
    except IllegalTransition as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _compose_page(appeal, person, position, form), 409
    db.session.commit()
    flash(_("The cover mail to %(name)s is queued for sending (Message-ID %(id)s).",
            name=delivery.addressee_name, id=delivery.message_id), "success")
    return redirect(_index(slug), code=303)


def _compose_page(appeal, person: dict, position: int, form: CoverMailForm, files=None):
    return render_template("delivery/compose.html", appeal=appeal, person=person, position=position, form=form,
                           files=files)


def _log_form(slug: str, form, missing: str, perform, success):
    """Validate a form of the log page, then act once (bad CSRF: 400; a missing field or a refusal: said there)."""
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(missing, "error")
        return redirect(_index(slug), code=303)
    return act(perform, success, _index(slug))


@bp.post("/<int:position>/manual")
def manual(slug: str, position: int):
    """Record a delivery by post or in person."""
    appeal = appeal_for(slug, "deliver")
    _person(appeal, position)
    form = ManualDeliveryForm()
    return _log_form(slug, form, _("Give how and when the letter was delivered."),
                     lambda: operations.record_manual_delivery(appeal, position - 1, form.revision.data,
                                                               form.method.data, form.delivered_on.data, current_user),
                     lambda d: _("Recorded: delivered to %(name)s on %(day)s.", name=d.addressee_name,
                                 day=d.delivered_on.isoformat()))


@bp.post("/log/<int:delivery_id>/reply")
def reply(slug: str, delivery_id: int):
    """Record an acknowledgement or reply, with an optional file."""
    appeal = appeal_for(slug, "deliver")
    try:
        delivery = operations.delivery_in(appeal, delivery_id)
    except LookupError:
        abort(404)
    form = ReplyForm()

    def perform():
        upload = form.file.data
        return operations.record_reply(delivery, form.received_on.data, form.note.data or "",
                                       os.path.basename(upload.filename or "") if upload else None,
                                       upload.read() if upload else None, current_user)

    return _log_form(slug, form, _("Give the day the reply arrived."), perform,
                     _("Reply from %(name)s recorded.", name=delivery.addressee_name))


@bp.get("/reply/<int:reply_id>/file")
def reply_file(slug: str, reply_id: int):
    """Send a reply's file to an organizer of the appeal."""
    appeal = appeal_for(slug, "view")
    found = db.session.get(DeliveryReply, reply_id)
    if found is None or found.appeal_id != appeal.id or not found.stored_name:
        abort(404)
    path = operations.reply_file_path(found)
    if not os.path.exists(path):
        abort(404)
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=found.filename or "reply", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
