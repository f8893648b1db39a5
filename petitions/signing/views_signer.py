"""Public pages for signers after signing: withdraw a signature, get the confirmation mail again."""
from flask import current_app, render_template
from flask_babel import gettext as _

from petitions.appeals.views_public import public_appeal_or_404
from petitions.extensions import db
from petitions.ratelimit import limiter
from petitions.signing import followup
from petitions.signing.forms_signer import ResendForm, WithdrawForm
from petitions.links import TokenError
from petitions.signing.views import bp  # the signatures blueprint: these are signatures.withdraw and signatures.resend


@bp.app_template_global()
def withdrawal_link(signature) -> str:
    """Give mail templates the withdrawal link of a signature."""
    return followup.withdrawal_link(signature)


def _resend_limit():
    return current_app.config["RESEND_RATE_LIMIT"]


@bp.route("/withdraw/<token>", methods=["GET", "POST"])
def withdraw(token: str):
    """Show a Withdraw button; only its POST withdraws, since mail scanners open links by themselves."""
    form = WithdrawForm()
    try:
        signature = followup.signature_for_withdrawal(token)
    except TokenError as exc:
        return render_template("public/message.html", title=_("This link does not work"),
                               message=str(exc)), 410 if exc.expired else 400
    if not form.validate_on_submit():
        return render_template("signer/withdraw.html", signature=signature, appeal=signature.appeal, form=form)
    appeal = signature.appeal
    followup.withdraw(token)
    db.session.commit()
    return render_template("public/message.html", title=_("Your signature is withdrawn"), appeal=appeal,
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
    followup.resend_confirmation(appeal, form.email.data)
    db.session.commit()
    return render_template("public/message.html", title=_("Check your e-mail"), appeal=appeal,
                           message=_("If this address signed the appeal and has not confirmed yet, "
                                     "we have sent the confirmation link again."))
