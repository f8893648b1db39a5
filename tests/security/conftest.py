"""The attacker's cast: two coalitions, a co-organizer of each smaller role, a signer, and logged-in clients."""
from dataclasses import dataclass

import pytest

from petitions.appeals.models import Appeal
from petitions.members.models import AppealMember, Role
from petitions.auth.models import User
from petitions.auth.services import register_user
from petitions.extensions import db

from ..conftest import csrf_token, new_appeal

PASSWORD = "a long password"


@dataclass
class World:
    """Two owners with one open appeal each, an editor and a reviewer on the first, an outsider."""

    owner: User
    appeal: Appeal
    other_owner: User
    other_appeal: Appeal
    editor: User
    reviewer: User
    outsider: User


def login(client, email: str, password: str = PASSWORD):
    """Log the client in through the real form; return the response."""
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_token(client, "/auth/login")})


def build_world() -> World:
    """Register the cast and their appeals in the current app context."""
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    other = register_user("Other Owner", "owner@other.example", PASSWORD)
    editor = register_user("Editor", "editor@coalition.example", PASSWORD)
    reviewer = register_user("Reviewer", "reviewer@coalition.example", PASSWORD)
    outsider = register_user("Outsider", "attacker@attacker.example", PASSWORD)
    appeal = new_appeal(owner, "Free the journalists", "Secretary General", "We ask for their release.")
    appeal.publish()
    other_appeal = new_appeal(other, "Stop torture", "Rapporteur", "We ask for an inquiry.")
    other_appeal.publish()
    db.session.add_all([AppealMember(appeal=appeal, user=editor, role=Role.EDITOR),
                        AppealMember(appeal=appeal, user=reviewer, role=Role.REVIEWER)])
    db.session.commit()
    return World(owner, appeal, other, other_appeal, editor, reviewer, outsider)


@pytest.fixture
def world(app) -> World:
    return build_world()


@pytest.fixture
def client_as(app):
    """Return a factory: a fresh test client logged in as the given user."""

    def factory(user: User):
        client = app.test_client()
        response = login(client, user.email)
        assert response.status_code in (302, 303), response.status_code
        return client

    return factory
