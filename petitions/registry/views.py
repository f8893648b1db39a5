"""Public page behind a registry proof link: GET shows a button, POST proves (mail scanners only GET)."""
from flask import Blueprint, render_template
from flask_babel import gettext as _

from petitions.extensions import db
from petitions.links import TokenError
from petitions.registry import operations, services
from petitions.registry.forms import ProveForm

bp = Blueprint("registry_public", __name__, url_prefix="/registry")


@bp.route("/prove/<token>", methods=["GET", "POST"])
def prove(token: str):
    """Show what the link proves and a Confirm button; its POST records the proof once."""
    try:
        kind, org, entry = services.proof_for(token)
    except TokenError as exc:
        return render_template("public/message.html", title=_("This link does not work"),
                               message=str(exc)), 410 if exc.expired else 400
    form = ProveForm()
    if not form.validate_on_submit():
        return render_template("registry/prove.html", kind=kind, org=org, entry=entry, form=form)
    operations.prove(token)
    db.session.commit()
    what = entry.domain if entry is not None else org.contact_email
    return render_template("public/message.html", title=_("Thank you"),
                           message=_("%(what)s is now proven for %(name)s.", what=what, name=org.name))
