"""Organizer pages for co-organizers: the member list, invitations (send, revoke, accept) and roles."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from petitions.extensions import db, utcnow
from petitions.ratelimit import account_key, limiter
from petitions.links import TokenError
from petitions.members import services as membership
from petitions.members.access import appeal_for, can
from petitions.members.forms import InviteForm
from petitions.members.models import Role
from petitions.organizer_pages import ActionForm, act, blueprint

bp = blueprint("members", __name__, url_prefix="/organizer")


def _invite_limit():
    return current_app.config["INVITE_RATE_LIMIT"]


@bp.route("/appeals/<slug>/members", methods=["GET", "POST"])
@limiter.limit(_invite_limit, methods=["POST"], key_func=account_key("invite"))
def members(slug: str):
    """List co-organizers and invite new ones."""
    appeal = appeal_for(slug, "view")
    form = InviteForm()
    status = 200
    if request.method == "POST":
        appeal_for(slug, "roles")
        if form.validate_on_submit():
            membership.invite(appeal, current_user, form.email.data, Role(form.role.data))
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("members.members", slug=slug), code=303)
        status = 422
    invitations = membership.pending(appeal) if can(appeal, current_user, "roles") else []
    return render_template("members/index.html", appeal=appeal, form=form, action_form=ActionForm(),
                           members=membership.members(appeal), roles=list(Role), invitations=invitations,
                           expires_at=membership.expires_at, now=utcnow()), status


@bp.post("/appeals/<slug>/invitations/<int:invitation_id>/revoke")
def revoke_invitation(slug: str, invitation_id: int):
    """Withdraw a pending invitation; its link then says so."""
    appeal = appeal_for(slug, "roles")
    return act(lambda: membership.revoke(appeal, current_user, invitation_id),
               lambda invitation: _("Invitation to %(email)s revoked: its link no longer works.",
                                    email=invitation.email),
               url_for("members.members", slug=slug), refused=(membership.InvitationError,))


@bp.post("/appeals/<slug>/members/<int:user_id>")
def change_member(slug: str, user_id: int):
    """Change a co-organizer's role or remove them."""
    appeal = appeal_for(slug, "roles")

    def change():
        value = request.form.get("role", "")
        if value not in {r.value for r in Role} | {"remove"}:
            abort(400)
        membership.change_role(appeal, current_user, user_id, None if value == "remove" else Role(value))

    return act(change, _("Roles updated."), url_for("members.members", slug=slug),
               refused=(membership.InvitationError,))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Show an invitation and accept it for the logged-in organizer."""
    form = ActionForm()
    try:
        invitation = membership.invitation_for(token, current_user)
    except TokenError as exc:
        return render_template("public/message.html", title=_("This invitation does not work"),
                               message=str(exc)), 410 if exc.expired else 400
    except membership.InvitationError as exc:
        return render_template("public/message.html", title=_("This invitation does not work"),
                               message=str(exc)), (403 if isinstance(exc, membership.NotTheInvitee) else
                                                   410 if isinstance(exc, membership.InvitationWithdrawn) else 409)
    if form.validate_on_submit():
        membership.accept(token, current_user)
        db.session.commit()
        flash(_("You joined “%(title)s” as %(role)s.", title=invitation.appeal.title, role=invitation.role.value),
              "success")
        return redirect(url_for("organizer.show", slug=invitation.appeal.slug), code=303)
    return render_template("members/invitation.html", invitation=invitation, form=form)
