"""The API's shapes as marshmallow schemas: they validate request bodies and make the OpenAPI document."""
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from petitions.signing import names

STRICT_TRUE = {True}
STRICT_FALSE = {False}


def strict_boolean(**kwargs) -> fields.Boolean:
    """Return a JSON boolean field: "yes", 1 or "true" are wrong types, not booleans."""
    return fields.Boolean(truthy=STRICT_TRUE, falsy=STRICT_FALSE, **kwargs)


class SignatureIn(Schema):
    """A signature as the sign form takes it; unknown fields are refused."""

    class Meta:
        unknown = RAISE

    full_name = fields.String(required=True, validate=validate.Length(min=1, max=names.NAME_MAX_LENGTH),
                              metadata={"description": "The signer's name (for an organization: who signs)."})
    email = fields.String(required=True, validate=validate.Length(min=3, max=254),
                          metadata={"format": "email",
                                    "description": "Receives the confirmation link; stored encrypted, never shown."})
    consent = strict_boolean(required=True, metadata={
        "description": "Must be true: the signer signs the appeal and agrees that their name is shown as chosen, "
                       "having read the privacy notice (/privacy)."})
    affiliation = fields.String(load_default="", validate=validate.Length(max=names.AFFILIATION_MAX_LENGTH))
    country = fields.String(load_default="", validate=validate.Length(max=names.COUNTRY_MAX_LENGTH))
    kind = fields.String(load_default="person", validate=validate.OneOf(["person", "organization"]))
    organization_name = fields.String(load_default="", validate=validate.Length(max=names.AFFILIATION_MAX_LENGTH))
    signer_role = fields.String(load_default="", validate=validate.Length(max=names.ROLE_MAX_LENGTH))
    visibility = fields.String(load_default=None, validate=validate.Length(max=20), metadata={
        "description": "One of the appeal's offered choices (see the appeal's visibility_choices); "
                       "absent: the organizer's default."})
    wants_updates = strict_boolean(load_default=False)
    language = fields.String(load_default=None, validate=validate.Length(max=16), metadata={
        "description": "The language version the signer read (an approved one); absent: the appeal's own."})

    @validates_schema
    def _consent_given(self, data, **kwargs):
        if data.get("consent") is not True:
            raise ValidationError(_("Consent is required to sign."), "consent")


class Problem(Schema):
    """An RFC 9457 problem document."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


class SignatureCounts(Schema):
    total = fields.Integer(required=True, metadata={"description": "Every signature that counts."})
    listed = fields.Integer(required=True, metadata={"description": "Those named on the public list."})
    not_listed = fields.Integer(required=True)
    organizations = fields.Integer(required=True)


class AppealLinks(Schema):
    signatures = fields.String(required=True)
    counts = fields.String(required=True)


class AppealOut(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["draft", "open", "closed", "delivered",
                                                                   "archived"]))
    language = fields.String(required=True)
    url = fields.String(required=True)
    published_at = fields.String(required=True, allow_none=True)
    closed_at = fields.String(required=True, allow_none=True)
    visibility_choices = fields.List(fields.String(), required=True)
    signatures = fields.Nested(SignatureCounts, required=True)
    links = fields.Nested(AppealLinks, required=True)


class AppealList(Schema):
    appeals = fields.List(fields.Nested(AppealOut), required=True)
    limit = fields.Integer(required=True)
    after = fields.String(required=True, allow_none=True)
    next = fields.String()


class CountsOut(Schema):
    appeal = fields.String(required=True)
    total = fields.Integer(required=True)
    listed = fields.Integer(required=True)
    not_listed = fields.Integer(required=True)
    organizations = fields.Integer(required=True)
    by_language = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata={
        "description": "Counted signatures per language version read."})


class ListedSignatureOut(Schema):
    name = fields.String(required=True)
    affiliation = fields.String(required=True)
    country = fields.String(required=True)
    withheld = fields.Boolean(required=True)
    kind = fields.String()
    organization = fields.String()
    role = fields.String()


class SignaturePage(Schema):
    appeal = fields.String(required=True)
    total = fields.Integer(required=True)
    listed = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    after = fields.String(required=True, allow_none=True)
    signatures = fields.List(fields.Nested(ListedSignatureOut), required=True)
    next = fields.String()


class Accepted(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["pending"]), metadata={
        "description": "Always pending: the signature counts once confirmed through the mailed link. The answer "
                       "is the same whether or not the address signed before."})
    message = fields.String(required=True)


class OrganizerSignatureOut(ListedSignatureOut):
    id = fields.Integer(required=True)
    visibility = fields.String(required=True)
    level = fields.String(required=True)
    confirmed_at = fields.String(required=True, allow_none=True)


class OrganizerSignaturePage(SignaturePage):
    signatures = fields.List(fields.Nested(OrganizerSignatureOut), required=True)


class ExportOut(Schema):
    appeal = fields.String(required=True)
    columns = fields.List(fields.String(), required=True)
    rows = fields.List(fields.List(fields.String()), required=True)
