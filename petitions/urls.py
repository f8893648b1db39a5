"""Build absolute links for e-mails and the CLI, with or without a request."""
from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """Return an absolute URL; outside a request it is based on PUBLIC_URL."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)
