"""Each appeal's letterhead settings: read by the mapping, written from the organizers' PDF page."""
from petitions.extensions import db
from petitions.pdf.engine.logo import validate_logo
from petitions.pdf.models import PdfSettings


def settings_of(appeal) -> PdfSettings | None:
    """Return the appeal's letterhead settings, or None while it has the defaults."""
    return db.session.get(PdfSettings, appeal.id)


def save_settings(appeal, form) -> PdfSettings:
    """Store the letterhead settings; a logo is checked before it is kept (LogoError says why not)."""
    settings = settings_of(appeal) or PdfSettings(appeal_id=appeal.id)
    settings.coalition_name = (form.coalition_name.data or "").strip()
    settings.place = (form.place.data or "").strip()
    settings.page_size = form.page_size.data
    settings.columns = int(form.columns.data)
    settings.grouping = form.grouping.data
    upload = form.logo.data
    if form.remove_logo.data:
        settings.logo, settings.logo_mime = None, None
    elif upload is not None and getattr(upload, "filename", ""):
        settings.logo, settings.logo_mime = validate_logo(upload.read())
    db.session.add(settings)
    return settings
