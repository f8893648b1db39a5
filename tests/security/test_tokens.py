"""Signed links: every purpose refuses a tampered, expired or foreign token, and a replay does nothing more."""
import pytest

from petitions.extensions import db

from ..conftest import csrf_token, drop_database
from . import _seed
from .conftest import PASSWORD, login

# Each signed-link purpose: its route, its max-age setting, whether it needs a logged-in organizer.
PURPOSES = {
    "confirm": ("/confirm/{}", "CONFIRM_TOKEN_MAX_AGE", None),
    "withdraw": ("/withdraw/{}", "WITHDRAW_TOKEN_MAX_AGE", None),
    "reconfirm": ("/reconfirm/{}", "RECONFIRM_TOKEN_MAX_AGE", None),
    "invitation": ("/organizer/invitations/{}", "INVITATION_MAX_AGE", "newcomer"),
    "self-service": ("/privacy/my-data/{}", "SELF_SERVICE_TOKEN_MAX_AGE", None),
    "registry-proof": ("/registry/prove/{}", "REGISTRY_PROOF_MAX_AGE", None),
    "account-register": ("/auth/register/{}", "REGISTER_TOKEN_MAX_AGE", None),
    "unsubscribe": ("/updates/unsubscribe/{}", "UNSUBSCRIBE_TOKEN_MAX_AGE", None),
}
REFUSED = (400, 404, 410)


def test_every_signed_link_purpose_is_covered():
    """A new make_token purpose must get a route here (grep make_token( across petitions/)."""
    import pathlib
    import re

    from petitions import links

    root = pathlib.Path(__file__).parents[2] / "petitions"
    used, signers = set(), set()
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        # Every token is made for a purpose named in links.py (links.X, tokens.X, or X imported from links).
        used |= set(re.findall(r"\b(?:links|tokens)\.(?:make_token|signature_token)\((?:links\.|tokens\.)?(\w+)",
                               source))
        if re.search(r"itsdangerous|Serializer\(", source):
            signers.add(path.relative_to(root).as_posix())
    assert signers == {"links.py"}, signers  # one module signs links, so these tests see them all
    assert {getattr(links, name) for name in used} == set(links.PURPOSES), used
    assert len(links.PURPOSES) == len(PURPOSES)
    assert set(_seed.TOKEN_OF_ENDPOINT.values()) == set(PURPOSES)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, migrated_db):
    return _seed.seed_template(tmp_path_factory, migrated_db, "tokens")


@pytest.fixture
def fresh(seeded, tmp_path):
    app = _seed.open_copy(seeded, tmp_path / "db.sqlite")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    drop_database(app.config["SQLALCHEMY_DATABASE_URI"])


def _client(app, seeded, purpose):
    client = app.test_client()
    who = PURPOSES[purpose][2]
    if who:
        assert login(client, seeded.emails[who]).status_code in (302, 303)
    return client


def _tamper(token: str) -> str:
    """Change one character of the signature part (the last one may carry no bits, so change the middle)."""
    head, _, sig = token.rpartition(".")
    i = len(sig) // 2
    return f"{head}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1:]}"


# Where a purpose's link acts: its own page, or (self-service) the erasure of the signer's signature.
POST_ROUTES = {"self-service": "/privacy/my-data/{}/{}/erase"}


def _both(client, url, purpose=None, seeded=None):
    """GET then POST with this session's CSRF token; return both responses."""
    got = client.get(url)
    if purpose in POST_ROUTES:
        token = url.rstrip("/").rsplit("/", 1)[1]
        url = POST_ROUTES[purpose].format(token, seeded.a.signature_ids[2])
    # Every field any link's form asks for, so that only the token can make the POST fail.
    posted = client.post(url, data={"csrf_token": csrf_token(client, "/auth/login"), "confirm": "y", "understood": "y",
                                    "name": "New Organizer", "password": PASSWORD, "password2": PASSWORD})
    return got, posted


@pytest.mark.parametrize("purpose", list(PURPOSES))
@pytest.mark.parametrize("attack", ["tampered", "foreign purpose", "other signature", "expired"])
def test_bad_token_is_refused_and_changes_nothing(fresh, seeded, purpose, attack):
    app = fresh
    route, max_age, _ = PURPOSES[purpose]
    token = seeded.a.tokens[purpose]
    if attack == "tampered":
        token = _tamper(token)
    elif attack == "foreign purpose":
        other = next(p for p in PURPOSES if p != purpose)
        token = seeded.a.tokens[other]
    elif attack == "other signature":
        token = seeded.b.tokens[purpose]  # valid, of the other appeal: must not act on this one
    else:
        app.config[max_age] = -1
    client = _client(app, seeded, purpose)
    before = _seed.snapshot_of_appeal(seeded.a.appeal_id)
    whole = _seed.snapshot()
    got, posted = _both(client, route.format(token), purpose, seeded)
    if attack == "other signature":
        # It is a genuine link of appeal B: it may act there, never on A.
        assert got.status_code < 500 and posted.status_code < 500
        assert _seed.changed(before, _seed.snapshot_of_appeal(seeded.a.appeal_id)) == {}
        return
    assert got.status_code in REFUSED and posted.status_code in REFUSED, (got.status_code, posted.status_code)
    if attack == "expired":
        assert got.status_code == 410 and posted.status_code == 410
    changes = _seed.changed(whole, _seed.snapshot())
    assert set(changes) <= {"users"}, changes  # a login may note itself on the user; the link changes nothing


@pytest.mark.parametrize("purpose", list(PURPOSES))
def test_a_valid_token_works_and_its_replay_is_harmless(fresh, seeded, purpose):
    app = fresh
    route, _, _ = PURPOSES[purpose]
    client = _client(app, seeded, purpose)
    url = route.format(seeded.a.tokens[purpose])
    first_get, first = _both(client, url, purpose, seeded)
    assert first_get.status_code == 200 and first.status_code < 400, (first_get.status_code, first.status_code)
    after_first = _seed.snapshot()
    got, again = _both(client, url, purpose, seeded)
    assert got.status_code < 500 and again.status_code < 500
    changes = _seed.changed(after_first, _seed.snapshot())
    # A replay adds at most an audit or access-log line; it never changes a signature or membership again.
    assert set(changes) <= {"audit_events", "access_log", "personal_data_access", "users"}, changes


def test_a_leaked_invitation_does_not_work_for_another_account(fresh, seeded):
    """The link carries a role on a coalition's appeal: only the invited address's account may take it."""
    client = fresh.test_client()
    assert login(client, seeded.emails["outsider"]).status_code in (302, 303)
    url = PURPOSES["invitation"][0].format(seeded.a.tokens["invitation"])
    before = _seed.snapshot()
    got, posted = _both(client, url)
    assert got.status_code == 403 and posted.status_code == 403
    assert "another e-mail address" in posted.get_data(as_text=True)
    assert set(_seed.changed(before, _seed.snapshot())) <= {"users"}
    # The invited person still can.
    invited = fresh.test_client()
    assert login(invited, seeded.emails["newcomer"]).status_code in (302, 303)
    assert _both(invited, url)[1].status_code == 303
