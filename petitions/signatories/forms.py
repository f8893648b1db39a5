"""Forms of the review queue and the import of offline lists."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import Length

from petitions.signing.models import REASON_MAX_LENGTH


class BulkForm(FlaskForm):
    """Approve, reject or vouch for the ticked signatures (their ids come as repeated `ids` fields)."""

    text = StringField(_l("Reason or note"), validators=[Length(max=REASON_MAX_LENGTH)],
                       description=_l("Required to reject; shown to other organizers, never published."))
    approve = SubmitField(_l("Approve"))
    vouch = SubmitField(_l("Vouch"))
    reject = SubmitField(_l("Reject"))


class ImportForm(FlaskForm):
    """Paste lines or upload a CSV; preview first, then import."""

    text = TextAreaField(_l("Paste the list"), validators=[Length(max=1_000_000)],
                         description=_l("One signatory per line, e.g. “Name – Affiliation” or "
                                        "“Name- Affiliation, Member of X”; an e-mail may follow."))
    upload = FileField(_l("…or upload a CSV or text file"),
                       description=_l("UTF-8, UTF-16 or Windows-1251; columns such as Name, Affiliation, E-mail."))
    payload = HiddenField()  # the text as previewed, sent back unchanged by the Import button
    kind = HiddenField()  # "lines" or "csv"
    seal = HiddenField()  # binds the row choices to the previewed payload (importing.seal)
    mode = RadioField(_l("Import as"), default="vouched", choices=[
        SelectChoice("vouched", _l("Vouched by me: they count at once, marked as vouched by you")),
        SelectChoice("invite", _l("Invitations: rows with an e-mail get a link to confirm; "
                                  "rows without one are skipped")),
    ])
    note = StringField(_l("Note"), validators=[Length(max=REASON_MAX_LENGTH)],
                       description=_l("Where the list comes from, e.g. “Paper list, conference in Tbilisi”."))
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Import"))
