"""Threat: a forged Host header makes a genuine mail of ours carry a link to the attacker's site.

A signer's confirmation token or a self-service token (which shows which appeals someone signed) would then
reach the attacker when the victim clicks. Every absolute link in mail and PDFs is built on PUBLIC_URL.
"""
import re

import pytest

from petitions.mail import sending

from ..conftest import CSRF_RE, message_text

EVIL = "evil.example"
LINK = re.compile(r"https?://[^\s/]+/")


@pytest.fixture
def app(smtp_app):
    return smtp_app


def token_at(client, url: str, **request) -> str:
    return CSRF_RE.search(client.get(url, **request).get_data(as_text=True)).group(1)


def links_of(app, count: int) -> list[str]:
    assert sending.wait_idle(app)
    messages = app.smtp_sink.wait_for(count)
    assert len(messages) >= count
    return [link for msg in messages for link in LINK.findall(message_text(msg))]


def test_mail_links_ignore_a_forged_host(app, world):
    app.config["PUBLIC_URL"] = "https://appeals.example"
    client = app.test_client()  # the attacker's script, talking to our server under a forged Host
    forged = {"base_url": f"http://{EVIL}", "headers": {"X-Forwarded-Host": EVIL}}
    sign = f"/a/{world.appeal.slug}/sign"
    answer = client.post(sign, **forged, data={
        "full_name": "Leyla Əhmədova", "affiliation": "", "email": "leyla@example.org", "consent": "y",
        "csrf_token": token_at(client, sign, **forged)})
    assert answer.status_code == 303
    answer = client.post("/privacy/my-data", **forged, data={
        "email": "leyla@example.org", "csrf_token": token_at(client, "/privacy/my-data", **forged)})
    assert answer.status_code < 400
    links = links_of(app, 2)
    assert links and all(link == "https://appeals.example/" for link in links), links


def test_alternate_links_of_a_page_ignore_a_forged_host(app, world, client):
    app.config["PUBLIC_URL"] = "https://appeals.example"
    html = client.get(f"/a/{world.appeal.slug}", base_url=f"http://{EVIL}").get_data(as_text=True)
    assert EVIL not in html
