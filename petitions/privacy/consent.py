"""Consent: the deployment's privacy notice and the version recorded with every signature."""
import os

from flask import current_app
from markupsafe import Markup

from petitions.appeals.markdown import render_markdown

NOTICE_FILE = "privacy_notice.md"


def current_version() -> str:
    """Return the version of the consent text in force; signatures store it."""
    return str(current_app.config["CONSENT_VERSION"])


def custom_notice() -> Markup | None:
    """Return the operator's own notice (instance/privacy_notice.md) as HTML, if there is one."""
    path = os.path.join(current_app.instance_path, NOTICE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        return render_markdown(fh.read())
