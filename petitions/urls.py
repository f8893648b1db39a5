"""Build absolute links for e-mails, PDFs and the CLI: always on PUBLIC_URL, never on the request's Host."""
from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """Return an absolute URL based on PUBLIC_URL, whether or not a request is being served."""
    # A link in a mail must not follow the Host header: a forged Host would send a signer's confirmation or
    # self-service token to the attacker's site, from a genuine mail of ours.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def signer_url(endpoint: str, language: str | None, **values) -> str:
    """Return the absolute URL of a link mailed to a signer, carrying the language of the version they read."""
    # The page the link opens speaks that language (?lang= picks the interface), whatever the browser prefers.
    return external_url(endpoint, **values, **({"lang": language} if language else {}))
