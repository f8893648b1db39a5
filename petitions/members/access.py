"""Who may do what on an appeal: owners everything, editors the text, reviewers the signatories."""
from flask import abort
from flask_login import current_user
from sqlalchemy import select

from petitions.auth.models import User
from petitions.extensions import db
from petitions.appeals.models import Appeal
from petitions.members.models import AppealMember, Role

# What each role may do; views ask for an action, never for a role.
PERMISSIONS: dict[Role, set[str]] = {
    Role.OWNER: {"view", "edit", "publish", "close", "deliver", "delete", "roles", "audit", "export",
                 "moderate", "translate", "pdf"},
    Role.EDITOR: {"view", "edit", "translate", "pdf"},
    Role.REVIEWER: {"view", "moderate", "pdf"},
}


def role_of(appeal: Appeal, user: User) -> Role | None:
    """Return the user's role on the appeal, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if appeal.owner_id == user.id:
        return Role.OWNER
    return db.session.scalar(
        select(AppealMember.role).where(AppealMember.appeal_id == appeal.id, AppealMember.user_id == user.id)
    )


def can(appeal: Appeal, user: User, action: str) -> bool:
    """Tell whether the user may do this action on the appeal."""
    role = role_of(appeal, user)
    return role is not None and action in PERMISSIONS[role]


def appeal_for(slug: str, action: str = "view") -> Appeal:
    """Load an appeal for the current organizer: 404 if they have no role, 403 if the role forbids the action."""
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == slug))
    role = role_of(appeal, current_user) if appeal is not None else None
    # 404 rather than 403 for outsiders: other coalitions' drafts should not be discoverable.
    if role is None:
        abort(404)
    if action not in PERMISSIONS[role]:
        abort(403)
    return appeal


def appeals_of(user: User) -> list[Appeal]:
    """Return the appeals the user owns or is a member of, newest first."""
    member_of = select(AppealMember.appeal_id).where(AppealMember.user_id == user.id)
    return list(db.session.scalars(
        select(Appeal).where((Appeal.owner_id == user.id) | Appeal.id.in_(member_of)).order_by(Appeal.created_at.desc())
    ))
