"""Public privacy pages: the notice, self-service and the embeddable widget."""
import json

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.exceptions import NotFound

from petitions.appeals.sharing import EMBED_NAMES
from petitions.appeals.views_public import public_appeal_or_404
from petitions.extensions import db
from petitions.ratelimit import limiter
from petitions.security import embeddable
from petitions.links import TokenError
from petitions.privacy import consent, selfservice
from petitions.privacy.forms import CorrectForm, EraseForm, RequestLinkForm
from petitions.signing.rules import latest_listed, offered_choices, shown_on_public_page
from petitions.translations.public import version_context

bp = Blueprint("privacy", __name__)


def _self_service_limit():
    return current_app.config["SELF_SERVICE_RATE_LIMIT"]


@bp.get("/privacy")
def notice():
    """Show this deployment's privacy notice and the consent version in force."""
    return render_template("privacy/notice.html", version=consent.current_version(), custom=consent.custom_notice())


@bp.route("/privacy/my-data", methods=["GET", "POST"])
@limiter.limit(_self_service_limit, methods=["POST"])
def request_link():
    """Ask for a link by e-mail; the answer is the same whether or not the address signed anything."""
    form = RequestLinkForm()
    if form.validate_on_submit():
        selfservice.request_link(form.email.data)
        db.session.commit()
        return render_template("privacy/link_sent.html"), 200
    return render_template("privacy/request.html", form=form), 422 if form.errors else 200


def _hash_or_error(token: str):
    try:
        return selfservice.hash_for_token(token), None
    except TokenError as exc:
        if exc.expired:
            message = _("This link has expired. Ask for a new link on the page about your data. Nothing was changed.")
        else:
            message = _("%(reason)s Nothing was changed.", reason=str(exc))
        page = render_template("public/message.html", title=_l("This link does not work"), message=message)
        return None, (page, 410 if exc.expired else 400)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/privacy/my-data/<token>")
def my_data(token: str):
    """Show everything stored under the address the link was sent to."""
    key, error = _hash_or_error(token)
    if error:
        return error
    signatures = selfservice.signatures_for_hash(key)
    forms = {s.id: _correct_form(s, formdata=None, data={
        "full_name": s.full_name, "affiliation": s.affiliation, "country": s.country,
        "visibility": s.visibility.value, **_kind_data(s)}) for s in signatures}
    return _no_store(Response(render_template(
        "privacy/my_data.html", token=token, signatures=signatures, forms=forms,
        shown_publicly=shown_on_public_page, delivered=selfservice.in_delivered_letter)))


def _kind_data(signature) -> dict:
    # What a form without these fields (an older page) leaves as it is.
    return {"kind": signature.kind.value, "organization_name": signature.organization_name,
            "signer_role": signature.signer_role}


def _correct_form(signature, **kwargs) -> CorrectForm:
    # A prefix per signature keeps element ids unique when one page holds several forms.
    return CorrectForm(offered=_offered(signature), prefix=f"s{signature.id}", **kwargs)


def _offered(signature) -> list[str]:
    offered = offered_choices(signature.appeal)
    current = signature.visibility.value
    return offered if current in offered else [current, *offered]


@bp.get("/privacy/my-data/<token>/data.json")
def download(token: str):
    """Download the signer's data as JSON."""
    key, error = _hash_or_error(token)
    if error:
        return error
    body = json.dumps(selfservice.export(key), ensure_ascii=False, indent=2)
    return _no_store(Response(body, mimetype="application/json", headers={
        "Content-Disposition": 'attachment; filename="my-signatures.json"'}))


def _own(key: str, signature_id: int):
    try:
        return selfservice.own_signature(key, signature_id)
    except selfservice.NotYours:
        abort(404)


@bp.post("/privacy/my-data/<token>/<int:signature_id>/correct")
def correct(token: str, signature_id: int):
    """Save the signer's corrections."""
    key, error = _hash_or_error(token)
    if error:
        return error
    signature = _own(key, signature_id)
    form = _correct_form(signature, **_kind_data(signature))
    if not form.validate():
        return _no_store(Response(render_template(
            "privacy/correct_error.html", token=token, signature=signature, form=form), status=422))
    changed = selfservice.correct(signature, form.full_name.data, form.affiliation.data, form.country.data,
                                  form.visibility.data, kind=form.kind.data,
                                  organization_name=form.organization_name.data, signer_role=form.signer_role.data)
    delivered = selfservice.in_delivered_letter(signature)
    db.session.commit()
    return _no_store(Response(render_template(
        "privacy/done.html", token=token, title=_("Saved") if changed else _("Nothing changed"),
        done=[_("Your corrections are saved.")] if changed else [_("You changed nothing.")],
        kept=[_("The letter already delivered to the addressees keeps the earlier wording.")]
        if changed and delivered else [])))


@bp.route("/privacy/my-data/<token>/<int:signature_id>/erase", methods=["GET", "POST"])
def erase(token: str, signature_id: int):
    """Ask for confirmation, then erase one signature."""
    key, error = _hash_or_error(token)
    if error:
        return error
    signature = _own(key, signature_id)
    form = EraseForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return _no_store(Response(render_template(
            "privacy/erase.html", token=token, signature=signature, form=form,
            delivered=selfservice.in_delivered_letter(signature)), status=status))
    report = selfservice.erase(signature)
    db.session.commit()
    return _no_store(Response(render_template(
        "privacy/done.html", token=token, title=_("Erased"),
        done=[_("Erased: %(items)s.", items=", ".join(str(item) for item in report.erased))], kept=report.kept)))


@bp.get("/a/<slug>/embed")
@embeddable
def embed(slug: str):
    """Show a small box with the count and a link to sign, for other sites to frame (?lang=, ?names=1).

    An unknown appeal gets a tiny box too, with status 404: a page that frames it shows no site error page.
    """
    try:
        appeal = public_appeal_or_404(slug)
    except NotFound:
        return render_template("privacy/embed.html", appeal=None), 404
    version = version_context(appeal, request.args.get("lang"))
    names = request.args.get("names") == "1"
    latest = latest_listed(appeal, "public_page", EMBED_NAMES) if names else []
    page = render_template("privacy/embed.html", appeal=appeal, total=appeal.signature_count,  # = counted_total
                           latest=latest, **version)
    db.session.commit()  # the one commit: a close the deadline rule made while loading
    return page