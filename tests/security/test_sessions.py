"""Sessions and accounts: open redirects, logout, cookie rotation, invitations, enumeration, password policy."""
import hashlib
import re
import threading

import pytest
from sqlalchemy import func, select

from petitions.members import services as membership
from petitions.members.models import AppealMember, Role
from petitions.auth.models import User
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions import links as tokens

from ..conftest import CSRF_RE, csrf_token, message_text
from .conftest import PASSWORD

DASHBOARD = "/organizer/"

# Each decodes, in a browser, a proxy or a second unquote, to somewhere other than a path on this site.
HOSTILE_NEXT = [
    "//evil.example", "///evil.example", "/%09/evil.example", "/%0A/x", "/%0D%0ALocation:%20//evil.example",
    "/%00/evil.example", "/%20/evil.example", "%20//evil.example", "/%5Cevil.example", "/%5C/evil.example",
    "/\\evil.example", "\\\\evil.example", "%2F%2Fevil.example", "/%2F/evil.example", "/%252F/evil.example",
    "/%25252F%25252Fevil.example", "https://evil.example/", "https:evil.example", "javascript:alert(1)",
    "data:text/html,x", "evil.example", "/%E3%80%80/evil.example", "/%C2%A0/evil.example", "/%EF%BC%8Fevil.example",
    "/%E2%80%AE/evil.example", "/%7F/evil.example", "/ /evil.example",
]


def _login_next(client, raw_next: str, email: str):
    token = csrf_token(client, "/auth/login")
    return client.post(f"/auth/login?next={raw_next}", data={"email": email, "password": PASSWORD,
                                                             "csrf_token": token})


def test_login_redirects_only_to_local_paths_whatever_the_encoding(app, world):
    answers = {}
    for raw in HOSTILE_NEXT:
        response = _login_next(app.test_client(), raw, world.owner.email)
        answers[raw] = (response.status_code, response.headers.get("Location"))
    # A NUL anywhere in a query string is refused before any view (petitions/http.py): no redirect at all.
    refused = {raw for raw in answers if "%00" in raw}
    assert {raw: answer for raw, answer in answers.items() if answer != (303, DASHBOARD) and raw not in refused} == {}
    assert refused and all(answers[raw] == (400, None) for raw in refused)
    kept = _login_next(app.test_client(), "/organizer/appeals/x%3Ftab%3Dmembers", world.owner.email)
    assert kept.status_code == 303 and kept.headers["Location"] == "/organizer/appeals/x?tab=members"


def test_safe_next_rule_refuses_every_decoding_layer():
    from urllib.parse import unquote

    from petitions.security import safe_next

    for raw in HOSTILE_NEXT + ["/ok\t", "/a\nb", "/x\u2028y", "/\u0000"]:
        # What the query-string parser hands the view is one decoding further than the raw URL.
        assert safe_next(unquote(raw), "/fallback") == "/fallback", raw
    assert safe_next(None, "/fallback") == safe_next("", "/fallback") == "/fallback"
    assert safe_next("/a/free-them?x=1#sign", "/fallback") == "/a/free-them?x=1#sign"


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def _client_with(app, **cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def test_logout_ends_the_session_and_remember_cookies_on_the_server(app, world):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": world.owner.email, "password": PASSWORD, "remember": "y",
                                                "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 303
    stolen = {"session": _cookie(client, "session"), "remember_token": _cookie(client, "remember_token")}
    assert all(stolen.values())
    assert _client_with(app, **stolen).get(DASHBOARD).status_code == 200  # the stolen pair works while logged in
    assert client.post("/auth/logout", data={"csrf_token": csrf_token(client, DASHBOARD)}).status_code == 303
    for cookies in (stolen, {"session": stolen["session"]}, {"remember_token": stolen["remember_token"]}):
        replay = _client_with(app, **cookies).get(DASHBOARD)
        assert replay.status_code == 302 and "/auth/login" in replay.headers["Location"], cookies.keys()


def test_remember_token_rotates_at_each_login_and_the_old_one_dies(app, world):
    tokens_seen = []
    for _ in range(2):
        client = app.test_client()
        client.post("/auth/login", data={"email": world.owner.email, "password": PASSWORD, "remember": "y",
                                         "csrf_token": csrf_token(client, "/auth/login")})
        tokens_seen.append(_cookie(client, "remember_token"))
    first, second = tokens_seen
    assert first and second and first != second
    assert _client_with(app, remember_token=first).get(DASHBOARD).status_code == 302
    assert _client_with(app, remember_token=second).get(DASHBOARD).status_code == 200


def test_a_new_password_ends_every_existing_session(app, world, client_as):
    client = client_as(world.owner)
    assert client.get(DASHBOARD).status_code == 200
    owner = db.session.get(User, world.owner.id)
    owner.set_password("a new long passphrase")
    db.session.commit()
    assert client.get(DASHBOARD).status_code == 302


def test_login_renews_the_session_and_the_csrf_token(app, world):
    client = app.test_client()
    before = csrf_token(client, "/auth/login")
    with client.session_transaction() as planted:  # what a session-fixation attacker put there
        planted["attacker"] = "known value"
    response = client.post("/auth/login", data={"email": world.owner.email, "password": PASSWORD,
                                                "csrf_token": before})
    assert response.status_code == 303
    with client.session_transaction() as renewed:
        assert "attacker" not in renewed
    after = CSRF_RE.search(client.get(DASHBOARD).get_data(as_text=True)).group(1)
    assert after != before
    # The pre-login token no longer authorizes a form.
    refused = client.post("/auth/logout", data={"csrf_token": before})
    assert client.get(DASHBOARD).status_code == 200 and refused.status_code in (303, 400)


def _invitation(world, email: str) -> str:
    invitation = membership.invite(world.appeal, world.owner, email, Role.EDITOR)
    db.session.commit()
    return f"/organizer/invitations/{tokens.make_token(membership.INVITE, {'i': invitation.id})}"


def test_invitation_works_only_for_the_invited_address(app, world, client_as):
    path = _invitation(world, "New.Editor@Coalition.example")
    thief = client_as(world.outsider)
    shown = thief.get(path)
    assert shown.status_code == 403
    assert "new.editor" not in shown.get_data(as_text=True).lower()
    taken = thief.post(path, data={"csrf_token": csrf_token(thief, DASHBOARD)})
    assert taken.status_code == 403 and "new.editor" not in taken.get_data(as_text=True).lower()
    assert db.session.scalar(select(AppealMember).where(AppealMember.user_id == world.outsider.id)) is None
    assert thief.get(f"/organizer/appeals/{world.appeal.slug}").status_code == 404

    invited = register_user("New Editor", "new.editor@coalition.example", PASSWORD)
    db.session.commit()
    client = client_as(invited)
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 303
    assert client.get(f"/organizer/appeals/{world.appeal.slug}/edit").status_code == 200


def test_invitation_refused_by_the_service_too(app, world):
    path = _invitation(world, "someone@coalition.example")
    with pytest.raises(membership.InvitationError):
        membership.accept(path.rsplit("/", 1)[1], world.outsider)


def _register(client, email: str):
    return client.post("/auth/register", data={"email": email, "csrf_token": csrf_token(client, "/auth/register")})


def _link(msg) -> str:
    return "/" + re.search(r"http://\S+/auth/register/\S+", message_text(msg)).group(0).split("/", 3)[3]


def test_registration_answers_the_same_for_existing_and_new_addresses(smtp_app):
    register_user("Owner", "owner@coalition.example", PASSWORD)
    db.session.commit()
    known = _register(smtp_app.test_client(), "Owner@Coalition.example")
    unknown = _register(smtp_app.test_client(), "Nobody@Coalition.example")
    assert known.status_code == unknown.status_code == 200
    assert (known.get_data(as_text=True).replace("Owner@", "X@")
            == unknown.get_data(as_text=True).replace("Nobody@", "X@"))
    mails = {m["To"]: m for m in smtp_app.smtp_sink.wait_for(2)}
    assert "/auth/register/" not in message_text(mails["owner@coalition.example"])
    assert "already have one" in message_text(mails["owner@coalition.example"])
    link = _link(mails["nobody@coalition.example"])
    assert db.session.scalar(select(func.count(User.id))) == 1  # nothing is created before the link is used

    client = smtp_app.test_client()
    done = client.post(link, data={"name": "Nobody", "password": PASSWORD, "password2": PASSWORD,
                                   "csrf_token": csrf_token(client, link)})
    assert done.status_code == 303 and client.get(DASHBOARD).status_code == 200
    again = smtp_app.test_client()
    reused = again.post(link, data={"name": "Thief", "password": PASSWORD, "password2": PASSWORD,
                                    "csrf_token": csrf_token(again, link)})
    assert reused.status_code == 409
    assert db.session.scalar(select(User.name).where(User.email == "nobody@coalition.example")) == "Nobody"


def test_registration_link_is_bound_to_its_purpose_and_address(smtp_app):
    client = smtp_app.test_client()
    forged = tokens.make_token(membership.INVITE, {"e": "victim@coalition.example"})  # another purpose's token
    assert client.get(f"/auth/register/{forged}").status_code == 400
    assert client.get("/auth/register/not-a-token").status_code == 400


def test_concurrent_registrations_of_one_address_get_clean_answers(smtp_app):
    url_app = smtp_app
    results: list[int] = []
    client = url_app.test_client()
    _register(client, "race@coalition.example")
    link = _link(url_app.smtp_sink.wait_for(1)[0])

    def attempt(barrier, path, data_for):
        with url_app.app_context():  # its own context, as each request has in production
            c = url_app.test_client()
            data = data_for(c)
            barrier.wait()
            results.append(c.post(path, data=data).status_code)
            db.session.remove()

    requests_ = [("/auth/register", lambda c: {"email": "race@coalition.example",
                                               "csrf_token": csrf_token(c, "/auth/register")}),
                 (link, lambda c: {"name": "Race", "password": PASSWORD, "password2": PASSWORD,
                                   "csrf_token": csrf_token(c, link)})]
    for path, data_for in requests_:
        barrier = threading.Barrier(10)
        threads = [threading.Thread(target=attempt, args=(barrier, path, data_for)) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert len(results) == 20 and 500 not in results, results
    assert set(results[:10]) == {200}
    assert set(results[10:]) <= {303, 409} and results[10:].count(303) == 1, results
    db.session.expire_all()
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "race@coalition.example")) == 1


def test_unknown_account_costs_the_same_password_hash_as_a_real_one(app, world, monkeypatch):
    """The login timing oracle, structurally: the same key derivation runs whether the account exists."""
    calls = []
    real = hashlib.pbkdf2_hmac

    def counting(name, password, salt, iterations, *args):
        calls.append((name, iterations))
        return real(name, password, salt, iterations, *args)

    monkeypatch.setattr(hashlib, "pbkdf2_hmac", counting)
    per_attempt = {}
    for email, password in [("warm-up@other.example", "wrong password"), (world.owner.email, "wrong password"), (world.owner.email, PASSWORD),
                            ("nobody@coalition.example", PASSWORD), ("NOBODY@other.example", "wrong password")]:
        client = app.test_client()
        token = csrf_token(client, "/auth/login")
        calls.clear()
        client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
        per_attempt[(email, password)] = list(calls)
    derivations = list(per_attempt.values())[1:]
    assert derivations[0] and all(d == derivations[0] for d in derivations), per_attempt


def test_password_policy_refuses_guessable_passwords():
    from petitions.auth.passwords import password_problem

    weak = ["aaaaaaaaaa", "aaaaaaaaaaaa", "abcdefghijkl", "123456789012", "qwertyuiopas", "abcabcabcabc",
            "Password2026!", "P@ssw0rd1234", "passwordpassword", "!!!!!!!!!!!!!", "zyxwvutsrqpo",
            "098765432109", "iloveyou1234", "1q2w3e4r5t6y", "ababababababab", "short pw"]
    assert {p: password_problem(p) for p in weak if password_problem(p) is None} == {}
    assert password_problem("organizer.lena@coalition.example", "organizer.lena@coalition.example")
    for good in [PASSWORD, "demo-organizer-2026", "long enough pw", "correct horse battery staple",
                 "Tbilisi-Rain-Copper-9", "Նարեկ գրում է նամակ"]:
        assert password_problem(good) is None, good


def test_weak_password_refused_by_the_service_and_the_form(smtp_app):
    from petitions.auth.services import WeakPassword

    with pytest.raises(WeakPassword):
        register_user("Weak", "weak@coalition.example", "aaaaaaaaaaaa")
    client = smtp_app.test_client()
    _register(client, "weak@coalition.example")
    link = _link(smtp_app.smtp_sink.wait_for(1)[0])
    refused = client.post(link, data={"name": "Weak", "password": "aaaaaaaaaa", "password2": "aaaaaaaaaa",
                                      "csrf_token": csrf_token(client, link)})
    assert refused.status_code == 422 and "12 characters" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0
