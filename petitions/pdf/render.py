"""Render the final PDF of an appeal with WeasyPrint."""
import os
from datetime import datetime, timezone

from flask import render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from ..appeals.markdown import render_markdown
from ..appeals.models import Appeal
from ..privacy.visibility import counted_total, listed_signatures

_STYLESHEET = os.path.join(os.path.dirname(__file__), "print.css")


def url_fetcher() -> URLFetcher:
    """Allow only inline data: URLs, so a document can never read local files or call out."""
    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=False)


def print_stylesheet() -> CSS:
    """Return the one print stylesheet."""
    with open(_STYLESHEET, encoding="utf-8") as fh:
        return CSS(string=fh.read(), url_fetcher=url_fetcher())


def render_appeal_pdf(appeal: Appeal, generated_at: datetime | None = None,
                      audience: str = "addressee_pdf") -> bytes:
    """Return the PDF of the appeal for the addressees ("addressee_pdf") or the public ("public_pdf")."""
    generated_at = generated_at or datetime.now(timezone.utc)
    signatures = listed_signatures(appeal, audience)  # names only as each signer chose
    html = render_template(
        "pdf/appeal.html",
        appeal=appeal,
        body=render_markdown(appeal.body),
        signatures=signatures,
        total=counted_total(appeal),
        public_version=audience == "public_pdf",
        generated_at=generated_at,
    )
    document = HTML(string=html, base_url=None, url_fetcher=url_fetcher())
    return document.write_pdf(stylesheets=[print_stylesheet()])


def write_atomically(path: str, data: bytes) -> None:
    """Write a file so that readers never see half of it."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
