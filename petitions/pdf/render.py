"""Render an appeal's final PDF in one call (CLI, tests, small lists); jobs.py stores and versions it."""
from datetime import datetime, timezone

from petitions.pdf.engine.assemble import build, print_stylesheet, url_fetcher  # noqa: F401  (url_fetcher is the public guard)
from petitions.pdf.engine.document import document_from_appeal


def render_appeal_pdf(appeal, generated_at: datetime | None = None, audience: str = "addressees",
                      signed: bool = True, language: str | None = None, combined: bool = False) -> bytes:
    """Return the signed PDF of the appeal (in one language version, or all combined) with its signatories."""
    from petitions.pdf import jobs
    from petitions.pdf.engine import pades as signing

    doc = document_from_appeal(appeal, audience, generated_at=generated_at or datetime.now(timezone.utc),
                               language=language, combined=combined)
    data = build(doc, jobs.cache_dir(), workers=1).pdf
    if not signed:
        return data
    jobs.ensure_signing_key()
    return signing.sign_pdf(data, signing.load_signer(jobs.keys_dir()))


def write_atomically(path: str, data: bytes) -> None:
    """Write a file so that readers never see half of it."""
    from petitions.pdf.jobs import write_atomically as write

    write(path, data)
