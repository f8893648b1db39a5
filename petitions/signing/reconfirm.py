"""Ask signatories of an earlier revision to re-confirm the amended text."""
from flask_babel import lazy_gettext as _l
from flask import Blueprint, current_app, render_template
from flask_mail import Message
from sqlalchemy import select

from petitions import crypto
from petitions.appeals.diff import content_diff
from petitions.appeals.models import Appeal
from petitions.audit import record
from petitions.extensions import db, utcnow
from petitions.mail import sending
from petitions.urls import external_url
from petitions import links as tokens
from petitions.signing.forms import ConfirmForm
from petitions.signing.models import Signature, SignatureStatus

RECONFIRM = "signature-reconfirm"
bp = Blueprint("reconfirm", __name__)


def outdated_signatures(appeal: Appeal) -> list[Signature]:
    """Return confirmed signatures of a revision older than the published one."""
    return list(db.session.scalars(
        select(Signature).where(Signature.appeal_id == appeal.id, Signature.status == SignatureStatus.CONFIRMED,
                                Signature.revision_id != appeal.published_revision_id)
    ))


def request_reconfirmation(appeal: Appeal, actor) -> int:
    """Mail every signatory of an earlier revision a link to sign the published one; return how many."""
    target = appeal.published_revision
    sent = 0
    for signature in outdated_signatures(appeal):
        email = crypto.decrypt(signature.email_encrypted) if signature.email_encrypted else None
        if email is None:
            continue
        token = tokens.make_token(RECONFIRM, {"s": signature.id, "r": target.id, "h": signature.email_hash[:16]})
        link = external_url("reconfirm.reconfirm", token=token)
        body = render_template("mail/reconfirm.txt", appeal=appeal, signature=signature, revision=target, link=link)
        sending.queue(Message(subject=f"The appeal you signed was amended: {appeal.title}", recipients=[email],
                              body=body))
        signature.reconfirm_requested_at = utcnow()
        sent += 1
    record("reconfirmation_requested", appeal, actor=actor, revision=target.number, count=sent)
    return sent


def _load(token: str) -> tuple[Signature, dict]:
    payload = tokens.read_token(RECONFIRM, token, current_app.config["RECONFIRM_TOKEN_MAX_AGE"])
    signature = db.session.get(Signature, payload.get("s")) if isinstance(payload.get("s"), int) else None
    if (signature is None or signature.status is not SignatureStatus.CONFIRMED or not signature.email_hash
            or signature.email_hash[:16] != payload.get("h")):
        raise tokens.TokenError(_l("This link does not match any current signature."))
    if payload.get("r") != signature.appeal.published_revision_id:
        raise tokens.TokenError(_l("The appeal was amended again since this message; a newer link was sent."))
    return signature, payload


def reconfirm(token: str) -> Signature:
    """Move a signature to the published revision of its appeal."""
    signature, _ = _load(token)
    if not signature.appeal.is_open:
        raise tokens.TokenError(_l("Signing this appeal has closed."))
    signature.revision_id = signature.appeal.published_revision_id
    signature.text_hash = signature.appeal.published_revision.content_hash
    return signature


@bp.route("/reconfirm/<token>", methods=["GET", "POST"], endpoint="reconfirm")
def reconfirm_view(token: str):
    """Show what changed and a button; only the POST re-confirms."""
    form = ConfirmForm()
    try:
        signature, _ = _load(token)
    except tokens.TokenError as exc:
        return render_template("public/message.html", title=_l("This link does not work"), message=str(exc)), \
            410 if exc.expired else 400
    if form.validate_on_submit():
        try:
            reconfirm(token)
        except tokens.TokenError as exc:
            return render_template("public/message.html", title=_l("Not confirmed"), message=str(exc)), 409
        db.session.commit()
        return render_template("public/message.html", title=_l("Thank you"),
                               message=_l("Your signature now stands under the amended text."),
                               appeal=signature.appeal)
    old = signature.revision.content if signature.revision else {}
    changes = content_diff(old, signature.appeal.published_revision.content)
    return render_template("public/reconfirm.html", signature=signature, appeal=signature.appeal,
                           changes=changes, form=form)

