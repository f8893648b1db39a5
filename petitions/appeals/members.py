"""Co-organizers: invitations by e-mail, roles, removal."""
from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import select

from ..audit import record
from ..auth.models import User
from ..extensions import db, utcnow
from ..mail import sending
from ..signatures import tokens
from ..urls import external_url
from .models import Appeal, AppealInvitation, AppealMember, Role

INVITE = "appeal-invite"


class InvitationError(Exception):
    """An invitation that cannot be used."""


class NotYourInvitation(InvitationError):
    """An invitation opened by an account with another e-mail address than the invited one."""


def members(appeal: Appeal) -> list[tuple[User, Role]]:
    """Return everyone with a role on the appeal, the creator first."""
    rows = db.session.execute(
        select(User, AppealMember.role).join(AppealMember, AppealMember.user_id == User.id)
        .where(AppealMember.appeal_id == appeal.id).order_by(AppealMember.created_at)
    ).all()
    return [(appeal.owner, Role.OWNER)] + [(u, r) for u, r in rows if u.id != appeal.owner_id]


def invite(appeal: Appeal, inviter: User, email: str, role: Role) -> AppealInvitation:
    """Record an invitation and mail its signed link."""
    invitation = AppealInvitation(appeal=appeal, email=email.strip().lower(), role=role, invited_by_id=inviter.id)
    db.session.add(invitation)
    db.session.flush()
    link = external_url("organizer.accept_invitation", token=tokens.make_token(INVITE, {"i": invitation.id}))
    body = render_template("mail/invitation.txt", appeal=appeal, inviter=inviter, role=role, link=link,
                           days=current_app.config["INVITATION_MAX_AGE"] // 86400)
    sending.queue(Message(subject=f"Invitation to co-organize: {appeal.title}", recipients=[invitation.email],
                          body=body))
    record("invited", appeal, actor=inviter, email=invitation.email, role=role.value)
    return invitation


def invitation_for(token: str, user: User | None = None) -> AppealInvitation:
    """Return the open invitation behind a link for this user, or raise TokenError/InvitationError."""
    payload = tokens.read_token(INVITE, token, current_app.config["INVITATION_MAX_AGE"])
    invitation = db.session.get(AppealInvitation, payload.get("i")) if isinstance(payload.get("i"), int) else None
    if invitation is None:
        raise InvitationError("This invitation was withdrawn.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been accepted.")
    # The link is a role on a coalition's appeal: a forwarded or leaked mail must not hand it to anyone else.
    if user is not None and (user.email or "").strip().lower() != invitation.email:
        raise NotYourInvitation(_l("This invitation was sent to another e-mail address. "
                                   "Log in with the account of that address to accept it."))
    return invitation


def accept(token: str, user: User) -> AppealMember:
    """Give the logged-in user the invited role on the appeal."""
    invitation = invitation_for(token, user)
    appeal = invitation.appeal
    member = db.session.scalar(
        select(AppealMember).where(AppealMember.appeal_id == appeal.id, AppealMember.user_id == user.id)
    )
    if appeal.owner_id != user.id:
        if member is None:
            member = AppealMember(appeal=appeal, user=user, role=invitation.role)
            db.session.add(member)
        else:
            member.role = invitation.role
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    record("joined", appeal, actor=user, role=invitation.role.value, invitation=invitation.id)
    return member


def change_role(appeal: Appeal, actor: User, user_id: int, role: Role | None) -> None:
    """Change a member's role, or remove them with role None; the creator stays owner."""
    if user_id == appeal.owner_id:
        raise InvitationError("The appeal's creator always stays an owner.")
    member = db.session.scalar(
        select(AppealMember).where(AppealMember.appeal_id == appeal.id, AppealMember.user_id == user_id)
    )
    if member is None:
        raise InvitationError("This person is not a member of the appeal.")
    if role is None:
        db.session.delete(member)
    else:
        member.role = role
    record("role_changed", appeal, actor=actor, user=user_id, role=role.value if role else None)
