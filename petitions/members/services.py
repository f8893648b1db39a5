"""Co-organizers: invitations by e-mail (pending, replaced, revoked), roles, removal."""
import hmac
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _, lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import select

from petitions import links as tokens
from petitions.links import INVITE
from petitions.appeals.models import Appeal, IllegalTransition
from petitions.audit import record
from petitions.auth.models import User
from petitions.crypto import normalize_email
from petitions.extensions import db
from petitions.mail import sending
from petitions.members.models import AppealInvitation, AppealMember, Role
from petitions.signing import levels as verification
from petitions.urls import external_url



class InvitationError(Exception):
    """An invitation that cannot be used."""


class NotTheInvitee(InvitationError):
    """An invitation opened by an account of another address."""


class InvitationWithdrawn(InvitationError):
    """An invitation an owner revoked, or a newer one to the same address replaced."""


def members(appeal: Appeal) -> list[tuple[User, Role]]:
    """Return everyone with a role on the appeal, the creator first."""
    rows = db.session.execute(
        select(User, AppealMember.role).join(AppealMember, AppealMember.user_id == User.id)
        .where(AppealMember.appeal_id == appeal.id).order_by(AppealMember.created_at)
    ).all()
    return [(appeal.owner, Role.OWNER)] + [(u, r) for u, r in rows if u.id != appeal.owner_id]


def pending(appeal: Appeal) -> list[AppealInvitation]:
    """Return the invitations nobody accepted and nobody revoked, newest first (expired ones too)."""
    return list(db.session.scalars(
        select(AppealInvitation).where(AppealInvitation.appeal_id == appeal.id, AppealInvitation.accepted_at.is_(None),
                                       AppealInvitation.revoked_at.is_(None))
        .order_by(AppealInvitation.created_at.desc(), AppealInvitation.id.desc())
    ))


def expires_at(invitation: AppealInvitation) -> datetime:
    """Return when the invitation's link stops working."""
    return invitation.created_at + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def revoke(appeal: Appeal, actor: User, invitation_id: int) -> AppealInvitation:
    """Withdraw a pending invitation of this appeal, so its link no longer works."""
    invitation = db.session.get(AppealInvitation, invitation_id)
    if invitation is None or invitation.appeal_id != appeal.id:
        raise LookupError(invitation_id)
    try:
        invitation.revoke()
    except IllegalTransition as exc:
        raise InvitationError(str(exc)) from None
    record("invitation_revoked", appeal, actor=actor, email=invitation.email, role=invitation.role.value,
           invitation=invitation.id)
    return invitation


def invite(appeal: Appeal, inviter: User, email: str, role: Role) -> AppealInvitation:
    """Record an invitation and mail its signed link; it replaces a pending one to the same address."""
    address = normalize_email(email)
    # One pending invitation per address: the newest link and role count, earlier links stop working.
    replaced = [i for i in pending(appeal) if normalize_email(i.email) == address]
    for old in replaced:
        old.revoke()
    invitation = AppealInvitation(appeal=appeal, email=email.strip().lower(), role=role, invited_by_id=inviter.id)
    db.session.add(invitation)
    db.session.flush()
    link = external_url("members.accept_invitation", token=tokens.make_token(INVITE, {"i": invitation.id}))
    body = render_template("mail/invitation.txt", appeal=appeal, inviter=inviter, role=role, link=link,
                           days=current_app.config["INVITATION_MAX_AGE"] // 86400)
    sending.queue(Message(subject=_("Invitation to co-organize: %(title)s", title=appeal.title),
                          recipients=[invitation.email], body=body), kind="invitation", appeal=appeal)
    record("invited", appeal, actor=inviter, email=invitation.email, role=role.value,
           **({"replaced": [i.id for i in replaced]} if replaced else {}))
    return invitation


def invitation_for(token: str, user: User) -> AppealInvitation:
    """Return the open invitation behind a link for this user, or raise TokenError/InvitationError."""
    payload = tokens.read_token(INVITE, token, current_app.config["INVITATION_MAX_AGE"])
    invitation = db.session.get(AppealInvitation, payload.get("i")) if isinstance(payload.get("i"), int) else None
    if invitation is None:
        raise InvitationWithdrawn(_l("This invitation was withdrawn."))
    # A forwarded or leaked link must not make its holder a co-organizer; nor may it tell them who was invited.
    if not hmac.compare_digest(normalize_email(user.email).encode(), normalize_email(invitation.email).encode()):
        raise NotTheInvitee(_l("This invitation was sent to another e-mail address. Log in with the account "
                               "of the address that received it."))
    if invitation.accepted_at is not None:
        raise InvitationError(_l("This invitation has already been accepted."))
    if invitation.revoked_at is not None:
        raise InvitationWithdrawn(_l("This invitation was withdrawn or replaced by a newer one. Ask an owner of the "
                                 "appeal to invite you again, or open the newest invitation e-mail."))
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
    invitation.accept(user)
    record("joined", appeal, actor=user, role=invitation.role.value, invitation=invitation.id)
    return member


def change_role(appeal: Appeal, actor: User, user_id: int, role: Role | None) -> None:
    """Change a member's role, or remove them with role None; the creator stays owner."""
    if user_id == appeal.owner_id:
        raise InvitationError(_l("The appeal's creator always stays an owner."))
    member = db.session.scalar(
        select(AppealMember).where(AppealMember.appeal_id == appeal.id, AppealMember.user_id == user_id)
    )
    if member is None:
        raise InvitationError(_l("This person is not a member of the appeal."))
    if role is None:
        db.session.delete(member)
    else:
        member.role = role
    db.session.flush()
    verification.reassess(appeal=appeal)  # registry entries of someone who left confirm nothing here any more
    record("role_changed", appeal, actor=actor, user=user_id, role=role.value if role else None)
