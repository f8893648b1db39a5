"""Public signing: the sign form's POST and the confirmation link."""
from flask_babel import lazy_gettext as _l
from flask import Blueprint, redirect, render_template, request, url_for

from petitions.appeals.views_public import public_appeal_or_404, render_appeal_page
from petitions.extensions import db
from petitions.ratelimit import limiter
from petitions.translations.public import signing_language
from petitions.signing import operations as services
from petitions.signing.forms import ConfirmForm, SignForm
from petitions.links import TokenError

bp = Blueprint("signatures", __name__)


def _sign_limit():
    from flask import current_app

    return current_app.config["SIGN_RATE_LIMIT"]


@bp.post("/a/<slug>/sign")
@limiter.limit(_sign_limit, methods=["POST"])
def sign(slug: str):
    """Take a signature and send the confirmation mail."""
    appeal = public_appeal_or_404(slug)
    form = SignForm(appeal=appeal)
    if not appeal.is_open:
        return render_template("public/message.html", title=_l("Signing has closed"),
                               message=_l("This appeal no longer collects signatures."), appeal=appeal), 409
    if not form.validate():
        return render_appeal_page(appeal, form, status=422)
    services.sign(appeal, form.full_name.data, form.affiliation.data, form.email.data,
                  language=signing_language(appeal), visibility=form.visibility.data, country=form.country.data,
                  kind=form.kind.data, organization_name=form.organization_name.data,
                  signer_role=form.signer_role.data)
    db.session.commit()
    return redirect(url_for("signatures.thanks", slug=appeal.slug, lang=request.args.get("lang")), code=303)


@bp.get("/a/<slug>/thanks")
def thanks(slug: str):
    """Tell the signer to check their mail (the same answer whether or not they signed before)."""
    appeal = public_appeal_or_404(slug)
    return render_template("public/thanks.html", appeal=appeal)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Show a Confirm button; only its POST confirms, since mail scanners open links by themselves."""
    form = ConfirmForm()
    try:
        signature = services.signature_for_token(token)
    except TokenError as exc:
        return render_template("public/message.html", title=_l("This link does not work"),
                               message=str(exc)), 410 if exc.expired else 400
    if not form.validate_on_submit():
        return render_template("public/confirm.html", signature=signature, appeal=signature.appeal, form=form)
    try:
        signature, changed = services.confirm(token)
    except (services.SigningClosed, services.SignatureStateError) as exc:
        return render_template("public/message.html", title=_l("Not confirmed"), message=str(exc),
                               appeal=signature.appeal), 409
    db.session.commit()
    return render_template("public/confirmed.html", signature=signature, appeal=signature.appeal,
                           changed=changed)
