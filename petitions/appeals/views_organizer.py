"""Organizer pages: dashboard, drafting, publishing, closing, the PDF."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..extensions import db
from . import services
from .forms import ActionForm, AppealForm
from .markdown import render_markdown
from .models import Appeal, IllegalTransition

bp = Blueprint("organizer", __name__, url_prefix="/organizer")


@bp.before_request
@login_required
def _require_login():
    pass


def _own_appeal_or_404(slug: str) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    # 404 rather than 403: another organizer's drafts should not be discoverable.
    if appeal is None or appeal.owner_id != current_user.id:
        abort(404)
    return appeal


@bp.get("/")
def dashboard():
    """List this organizer's appeals with their counts."""
    appeals = list(db.session.scalars(
        select(Appeal).where(Appeal.owner_id == current_user.id).order_by(Appeal.created_at.desc())
    ))
    counts = services.signature_counts([a.id for a in appeals])
    return render_template("organizer/dashboard.html", appeals=appeals, counts=counts)


@bp.route("/appeals/new", methods=["GET", "POST"])
def new():
    """Draft a new appeal."""
    form = AppealForm()
    if form.validate_on_submit() and not form.preview.data:
        appeal = services.create_appeal(current_user, form.title.data, form.addressees.data, form.body.data)
        db.session.commit()
        flash("Draft saved.", "success")
        return redirect(url_for("organizer.show", slug=appeal.slug), code=303)
    return _editor(form, appeal=None)


@bp.route("/appeals/<slug>/edit", methods=["GET", "POST"])
def edit(slug: str):
    """Change a draft's text."""
    appeal = _own_appeal_or_404(slug)
    form = AppealForm(obj=appeal)
    if request.method == "GET" and not _editable(appeal):
        flash("Only drafts can be edited.", "error")
        return redirect(url_for("organizer.show", slug=slug))
    if form.validate_on_submit() and not form.preview.data:
        try:
            services.update_appeal(appeal, form.title.data, form.addressees.data, form.body.data)
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


def _editor(form: AppealForm, appeal: Appeal | None):
    preview = render_markdown(form.body.data) if form.preview.data and not form.body.errors else None
    status = 422 if form.errors else 200
    return render_template("organizer/edit.html", form=form, appeal=appeal, preview=preview), status


@bp.get("/appeals/<slug>")
def show(slug: str):
    """Show an appeal as it will appear, its signatures and the actions its state allows."""
    appeal = _own_appeal_or_404(slug)
    counts = services.signature_counts([appeal.id])[appeal.id]
    return render_template("organizer/show.html", appeal=appeal, counts=counts, action_form=ActionForm(),
                           signatures=services.confirmed_signatures(appeal))


@bp.post("/appeals/<slug>/<any(publish, close):action>")
def transition(slug: str, action: str):
    """Publish or close an appeal."""
    appeal = _own_appeal_or_404(slug)
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
    """Download the current signed PDF with every confirmed signatory."""
    from ..pdf.services import download_current

    return download_current(_own_appeal_or_404(slug))
