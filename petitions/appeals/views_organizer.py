"""Organizer pages: dashboard, drafting, publishing, closing, the PDF."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..pdf.render import render_appeal_pdf
from ..privacy import accesslog
from ..privacy.visibility import listed_signatures
from . import services
from .access import appeal_for, appeals_of
from .forms import ActionForm, AppealForm
from .models import Appeal, IllegalTransition

bp = Blueprint("organizer", __name__, url_prefix="/organizer")


@bp.before_request
@login_required
def _require_login():
    pass


@bp.get("/")
def dashboard():
    """List this organizer's appeals with their counts."""
    appeals = appeals_of(current_user)
    counts = services.signature_counts([a.id for a in appeals])
    return render_template("organizer/dashboard.html", appeals=appeals, counts=counts)


@bp.route("/appeals/new", methods=["GET", "POST"])
def new():
    """Draft a new appeal."""
    form = AppealForm()
    if form.validate_on_submit() and not form.preview.data:
        appeal = services.create_appeal(current_user, _content_from(form))
        db.session.commit()
        flash("Draft saved.", "success")
        return redirect(url_for("organizer.show", slug=appeal.slug), code=303)
    return _editor(form, appeal=None)


@bp.route("/appeals/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    """Change a draft's text."""
    appeal = appeal_for(slug, "edit")
    form = AppealForm(data={"title": appeal.title, "body": appeal.body,
                            "addressees": "\n".join(a.get("name", "") for a in appeal.addressees)})
    if request.method == "GET" and not _editable(appeal):
        flash("Only drafts can be edited.", "error")
        return redirect(url_for("organizer.show", slug=slug))
    if form.validate_on_submit() and not form.preview.data:
        try:
            services.save_text(appeal, current_user, appeal.content() | _content_from(form))
        except IllegalTransition as exc:
            return render_template("public/message.html", title="Not saved", message=str(exc)), 409
        db.session.commit()
        flash("Draft saved.", "success")
        return redirect(url_for("organizer.show", slug=slug), code=303)
    return _editor(form, appeal=appeal)


def _editable(appeal: Appeal) -> bool:
    try:
        appeal.ensure_editable()
    except IllegalTransition:
        return False
    return True


def _content_from(form: AppealForm) -> dict:
    return {"title": form.title.data, "body": form.body.data,
            "addressees": services.addressees_from_lines(form.addressees.data)}


def _editor(form: AppealForm, appeal: Appeal | None):
    preview = None
    if form.preview.data and not form.body.errors:
        preview = services.normalize_content((appeal.content() if appeal else {}) | _content_from(form))
    status = 422 if form.errors else 200
    return render_template("organizer/edit.html", form=form, appeal=appeal, preview=preview), status


@bp.get("/appeals/<slug>")
def show(slug: str):
    """Show an appeal as it will appear, its signatures and the actions its state allows."""
    appeal = appeal_for(slug, "view")
    counts = services.signature_counts([appeal.id])[appeal.id]
    accesslog.viewed(appeal, "signatory list")  # it shows addressee-only names
    db.session.commit()
    return render_template("organizer/show.html", appeal=appeal, counts=counts, action_form=ActionForm(),
                           signatures=listed_signatures(appeal, "export"))


@bp.post("/appeals/<slug>/<any(publish, close):action>")
def transition(slug: str, action: str):
    """Publish or close an appeal."""
    appeal = appeal_for(slug, action)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        {"publish": services.publish_appeal, "close": services.close_appeal}[action](appeal)
    except IllegalTransition as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("organizer.show", slug=slug), code=303)
    db.session.commit()
    flash({"publish": "Published: the appeal is open for signatures.",
           "close": "Closed: no more signatures are accepted."}[action], "success")
    return redirect(url_for("organizer.show", slug=slug), code=303)


@bp.get("/appeals/<slug>/pdf")
def pdf(slug: str):
    """Download the PDF with every confirmed signatory."""
    appeal = appeal_for(slug, "pdf")
    data = render_appeal_pdf(appeal, audience="addressee_pdf")
    accesslog.exported(appeal, "addressee PDF")
    db.session.commit()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{appeal.slug}.pdf"',
        "Cache-Control": "no-store",
    })
