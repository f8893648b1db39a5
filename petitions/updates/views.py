"""The public unsubscribe link of update mails (blueprint `updates`): a page with a button, and RFC 8058 one-click."""
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from petitions.extensions import csrf, db
from petitions.signing.views import until_pressed
from petitions.translations.services import localized_title
from petitions.updates import operations
from petitions.updates.forms import UnsubscribeForm

bp = Blueprint("updates", __name__)


def _one_click() -> bool:
    """Tell whether this POST is exactly what a mail client sends for List-Unsubscribe-Post (RFC 8058)."""
    return not request.files and list(request.form.items(multi=True)) == [tuple(operations.ONE_CLICK.split("="))]


def _stopped(appeal=None):
    return render_template("public/message.html", title=_l("You will get no more updates"), appeal=appeal,
                           message=_l("You will get no more updates about this appeal. "
                                      "Your signature stays as it was."))


@bp.route("/updates/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # only for the one-click POST, which carries no session; every other POST is checked below
def unsubscribe(token: str):
    """Show a button that stops the updates; a mail client's one-click POST stops them directly."""
    if request.method == "POST" and _one_click():
        # The token is the authentication; the answer is the same whatever it is, so it reveals nothing.
        try:
            operations.unsubscribe(token)
        except operations.TokenError:
            pass
        else:
            db.session.commit()
        return _stopped(), 200
    if request.method == "POST":
        csrf.protect()
    signature, page = until_pressed(token, operations.signature_for_unsubscribe, UnsubscribeForm(),
                                     "updates/unsubscribe.html",
                                     lambda s: {"appeal_title": localized_title(s.appeal, s.language)})
    if page is not None:
        return page
    operations.unsubscribe(token)
    db.session.commit()
    return _stopped(signature.appeal)
