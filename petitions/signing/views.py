"""Every public route of a signer: sign, thanks, confirm, withdraw, send the confirmation again, re-confirm."""
import math
import time

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from petitions.appeals.diff import content_diff
from petitions.appeals.views_public import public_appeal_or_404
from petitions.extensions import db
from petitions.ratelimit import limiter
from petitions.links import TokenError
from petitions.signing import abuse, appeal_copy, operations
from petitions.signing.forms import ConfirmForm, ResendForm, SignForm, WithdrawForm
from petitions.signing.rules import signer_line, signer_text
from petitions.translations.public import signing_language, version_context

bp = Blueprint("signatures", __name__)


@bp.app_template_global()
def withdrawal_link(signature) -> str:
    """Give mail templates the withdrawal link of a signature."""
    return operations.withdrawal_link(signature)


bp.add_app_template_global(signer_line, "signer_line")  # the signer's own line on their pages
bp.add_app_template_global(signer_text, "signer_text")  # and in their mails


def _sign_limit():
    return current_app.config["SIGN_RATE_LIMIT"]


def _resend_limit():
    return current_app.config["RESEND_RATE_LIMIT"]


def until_pressed(token: str, load, form, template: str, context=lambda signature: {}):
    """Return (signature, None) once the link page's button is pressed, else (None, the page or the refusal).

    Only the button's POST acts, since mail scanners open links by themselves.
    """
    try:
        signature = load(token)
    except TokenError as exc:
        return None, (render_template("public/message.html", title=_l("This link does not work"),
                                      message=str(exc)), 410 if exc.expired else 400)
    if form.validate_on_submit():
        return signature, None
    return None, render_template(template, signature=signature, appeal=signature.appeal, form=form,
                                 **context(signature))


def render_sign_page(appeal, form: SignForm, status: int = 200, retry_after: int | None = None):
    """Render the sign form of an appeal (private to its reader: it carries their CSRF token).

    With retry_after, it is the over-the-limit answer: the form again, filled in, saying when to try again.
    """
    version = version_context(appeal, request.args.get("lang"))
    form.restamp()
    minutes = math.ceil(retry_after / 60) if retry_after else None
    page = render_template("public/sign.html", appeal=appeal, form=form, retry_minutes=minutes, **version)
    headers = {"Cache-Control": "no-store", "Content-Language": version["html_lang"]}
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return page, status, headers


def _sign_breached(limit):
    """Answer a client over SIGN_RATE_LIMIT with the form again, filled in, instead of a bare error page."""
    appeal = public_appeal_or_404(request.view_args["slug"])
    retry_after = max(1, math.ceil(limit.reset_at - time.time()))
    page, status, headers = render_sign_page(appeal, SignForm(appeal=appeal), 429, retry_after)
    return current_app.make_response((page, status, headers))


def _closed_page(appeal):
    return render_template("public/message.html", title=_l("Signing has closed"),
                           message=_l("This appeal no longer collects signatures."), appeal=appeal), 409


@bp.route("/a/<slug>/sign", methods=["GET", "POST"])
@limiter.shared_limit(_sign_limit, scope="sign", methods=["POST"], on_breach=_sign_breached)  # one budget with the API
def sign(slug: str):
    """Show the sign form; its POST takes a signature and sends the confirmation mail."""
    if request.method == "GET":
        appeal = public_appeal_or_404(slug)
        page = render_sign_page(appeal, SignForm(appeal=appeal))
        db.session.commit()  # the one commit: a close the deadline rule made while loading
        return page
    appeal = appeal_copy.appeal_to_sign(slug)
    form = SignForm(appeal=appeal)
    if not appeal.is_open:
        return _closed_page(appeal)
    if not form.validate():
        return render_sign_page(appeal, form, status=422)
    thanks_page = url_for("signatures.thanks", slug=appeal.slug, lang=request.args.get("lang"))
    if abuse.honeypot_filled(form.website.data, appeal):
        return redirect(thanks_page, code=303)  # what a real signature gets: nothing tells a script
    try:
        abuse.check_signer(appeal, form.email.data)
    except abuse.SignLimitExceeded as exc:
        return render_sign_page(appeal, form, status=429, retry_after=exc.retry_after)
    refused = _store_signature(appeal, form)
    if refused is not None:
        return refused
    db.session.commit()  # before it, the address: the commit expires the appeal, which would be read again
    return redirect(thanks_page, code=303)


def _store_signature(appeal, form: SignForm):
    """Sign with what the form holds; return None, or the answer for an appeal that changed since it was read.

    The appeal may come from a copy (signing/appeal_copy.py): when the stored one has changed since, it is read
    again and the submission judged anew against it (still open? still a valid choice?), its limits already
    counted.
    """
    while True:
        try:
            operations.sign(appeal, email=form.email.data, language=signing_language(appeal), **form.signer(),
                            unchanged_since=appeal_copy.unchanged_since(appeal))
            return None
        except operations.AppealChanged:
            appeal = appeal_copy.fresh_appeal(appeal)  # read in this transaction: its INSERT needs no check
        if not appeal.is_open:
            return _closed_page(appeal)
        form = SignForm(appeal=appeal)
        if not form.validate():
            return render_sign_page(appeal, form, status=422)


@bp.get("/a/<slug>/thanks")
def thanks(slug: str):
    """Tell the signer to check their mail (the same answer whether or not they signed before)."""
    appeal = public_appeal_or_404(slug)
    return render_template("public/thanks.html", appeal=appeal, language=signing_language(appeal))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Show a Confirm button; only its POST confirms."""
    signature, page = until_pressed(token, operations.signature_for_token, ConfirmForm(), "public/confirm.html")
    if page is not None:
        return page
    try:
        signature, changed = operations.confirm(signature)
    except (operations.SigningClosed, operations.SignatureStateError) as exc:
        return render_template("public/message.html", title=_l("Not confirmed"), message=str(exc),
                               appeal=signature.appeal, language=signature.language), 409
    # Rendered before the commit, which expires the signature and its appeal: no second read of either.
    page = render_template("public/confirmed.html", signature=signature, appeal=signature.appeal, changed=changed)
    db.session.commit()
    return page


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str):
    """Show a Withdraw button; only its POST withdraws."""
    signature, page = until_pressed(token, operations.signature_for_withdrawal, WithdrawForm(),
                                     "signer/withdraw.html")
    if page is not None:
        return page
    appeal, language = signature.appeal, signature.language
    operations.withdraw(token)
    db.session.commit()
    return render_template("public/message.html", title=_("Your signature is withdrawn"), appeal=appeal,
                           language=language,
                           message=_("It no longer appears under the appeal or in any future PDF, "
                                     "and we deleted your e-mail address."))


@bp.route("/a/<slug>/resend", methods=["GET", "POST"])
@limiter.limit(_resend_limit, methods=["POST"])
def resend(slug: str):
    """Send the confirmation link again; the answer is the same whether or not the address signed."""
    appeal = public_appeal_or_404(slug)
    form = ResendForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("signer/resend.html", appeal=appeal, form=form), status
    operations.resend_confirmation(appeal, form.email.data)
    db.session.commit()
    return render_template("public/message.html", title=_("Check your e-mail"), appeal=appeal,
                           message=_("If this address signed the appeal and has not confirmed yet, "
                                     "we have sent the confirmation link again."))


def _changes_since_signed(signature) -> dict:
    old = signature.revision.content if signature.revision else {}
    return {"changes": content_diff(old, signature.appeal.published_revision.content)}


@bp.route("/reconfirm/<token>", methods=["GET", "POST"])
def reconfirm(token: str):
    """Show what changed and a button; only the POST re-confirms."""
    signature, page = until_pressed(token, operations.signature_for_reconfirmation, ConfirmForm(),
                                     "public/reconfirm.html", _changes_since_signed)
    if page is not None:
        return page
    try:
        operations.reconfirm(token)
    except TokenError as exc:
        return render_template("public/message.html", title=_l("Not confirmed"), message=str(exc)), 409
    db.session.commit()
    return render_template("public/message.html", title=_l("Thank you"),
                           message=_l("Your signature now stands under the amended text."), appeal=signature.appeal,
                           language=signature.language)
