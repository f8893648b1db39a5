"""The PDF as users get it: rendered by the jobs path, stored, registered for /verify and signed."""
from petitions.pdf import jobs


def rendered_pdf(appeal, audience: str = "addressees", variant: str = "standard") -> bytes:
    """Return the bytes of the appeal's current stored PDF of this kind, rendering it if needed."""
    with open(jobs.file_path(jobs.render_now(appeal, audience, variant)), "rb") as fh:
        return fh.read()
