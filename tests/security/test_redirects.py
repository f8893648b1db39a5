"""Open redirects: the login's ?next= only ever leads to a path of this site, as a browser would read it."""
import re
from urllib.parse import quote, urljoin, urlsplit

import pytest

from ..conftest import csrf_token
from . import _seed
from .conftest import PASSWORD

HOSTILE = ["https://evil.example/", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
           "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\t\\evil.example", " //evil.example",
           "/\x00/evil.example", "javascript:alert(1)", "http:evil.example", "/\x0b/evil.example",
           "\t//evil.example", "%2F%2Fevil.example"]


def as_browser(location: str, base: str = "https://petitions.example/auth/login") -> str:
    """Resolve a Location header the way the WHATWG URL parser does: tabs and newlines vanish, then it resolves."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00 \x0b\x0c")
    return urljoin(base, cleaned.replace("\\", "/"))


@pytest.mark.parametrize("target", HOSTILE, ids=[repr(t) for t in HOSTILE])
def test_login_never_redirects_off_the_site(app, world, target):
    _seed.fresh_requests(app)
    client = app.test_client()
    response = client.post(f"/auth/login?next={quote(target, safe='')}", data={
        "email": world.owner.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/auth/login")})
    if "\x00" in target:  # refused before any view (petitions/http.py): no redirect at all
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 303
    landing = urlsplit(as_browser(response.headers["Location"]))
    assert (landing.scheme, landing.netloc) == ("https", "petitions.example"), response.headers["Location"]


def test_a_local_next_is_kept(app, world):
    _seed.fresh_requests(app)
    client = app.test_client()
    target = f"/organizer/appeals/{world.appeal.slug}/edit?tab=2"
    response = client.post(f"/auth/login?next={quote(target, safe='')}", data={
        "email": world.owner.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 303 and response.headers["Location"] == target
