"""Each appeal's letterhead settings: read by the mapping, written from the organizers' PDF page."""
from __future__ import annotations

from typing import TYPE_CHECKING

from petitions.extensions import db
from petitions.pdf.models import PdfSettings

if TYPE_CHECKING:
    from petitions.pdf.forms import SettingsForm


def settings_of(appeal) -> PdfSettings | None:
    """Return the appeal's letterhead settings, or None while it has the defaults."""
    return db.session.get(PdfSettings, appeal.id)


def save_settings(appeal, form: SettingsForm) -> PdfSettings:
    """Store the letterhead settings of a validated form (SettingsForm checked the logo's content)."""
    settings = settings_of(appeal) or PdfSettings(appeal_id=appeal.id)
    settings.coalition_name = (form.coalition_name.data or "").strip()
    settings.place = (form.place.data or "").strip()
    settings.page_size = form.page_size.data
    settings.columns = int(form.columns.data)
    settings.grouping = form.grouping.data
    if form.remove_logo.data:
        settings.logo, settings.logo_mime = None, None
    elif form.checked_logo is not None:
        settings.logo, settings.logo_mime = form.checked_logo
    db.session.add(settings)
    return settings
