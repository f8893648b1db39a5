"""Read numbers from paths, query strings and forms (ASCII digits, bounded, never an exception); JSON as text fields."""
from collections.abc import Iterable

from flask import Flask
from flask import Request as _Request
from flask import request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, FileStorage, MultiDict
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, ValidationError
from wtforms import FieldList as _FieldList
from wtforms import FileField, FormField

# The largest integer SQLite and PostgreSQL (BIGINT) store: beyond it a lookup overflows instead of finding nothing.
MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def parse_int(value: object, low: int = 1, high: int = MAX_ID) -> int | None:
    """Return the number written in ASCII digits in value if it lies in [low, high], else None."""
    if not isinstance(value, str):
        return None
    digits = value[1:] if value.startswith("-") and low < 0 else value
    # str.isdigit() is also true for "²" or "٣", which int() refuses or reads; only 0-9 are numbers here.
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
        return None
    number = int(value)
    return number if low <= number <= high else None


def arg_int(name: str, low: int = 1, high: int = MAX_ID) -> int | None:
    """Return a whole number from the query string, or None if it is missing or not one."""
    return parse_int(request.args.get(name), low, high)


def parse_ids(values: Iterable[object]) -> list[int]:
    """Return the valid ids among values, in order, each once."""
    return list(dict.fromkeys(n for n in map(parse_int, values) if n is not None))


class FieldList(_FieldList):
    """A WTForms FieldList whose entry numbers in field names ("addressees-3-name") follow the same rule."""

    def _extract_indices(self, prefix, formdata):
        # WTForms itself calls int() on anything str.isdigit() accepts: "addressees-²-name" would be a 500.
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                index = parse_int(key[offset:].split(self._field_separator, 1)[0], low=0)
                if index is not None:
                    yield index


class IdConverter(IntegerConverter):
    """Match `<int:…>` only for ASCII digits from 1 to MAX_ID, so that any other value is a 404."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        self.regex = r"-?[0-9]+" if signed else r"[0-9]+"

    def to_python(self, value: str) -> int:
        if len(value.lstrip("-")) > _MAX_DIGITS:  # int() of thousands of digits is slow, then refused
            raise ValidationError()
        return super().to_python(value)


class Request(_Request):
    """A request whose JSON body, if any, is an object of text fields, as a form's would be."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        # Flask-WTF reads a JSON body as the form's fields: a list, a number or a nested object there is a 500.
        value = super().get_json(force=force, silent=silent, cache=cache)
        if value is None or (_text_fields(value) and not _has_nul(value.values())):
            return value
        if silent:
            return None
        raise BadRequest("A JSON body must be an object whose values are text or lists of text.")


NUL_REFUSED = "Text sent to this site may not contain NUL characters."
# The one message for an invisible or control character in a form field (signer names use it too).
REFUSED_CHARACTER = _l("This field contains an invisible or control character, often left by copying and "
                       "pasting. Please type it again.")


def _has_nul(values) -> bool:
    # No form has a use for NUL, and PostgreSQL refuses it in text: a 400 here, not a 500 at the INSERT.
    return any("\x00" in v if isinstance(v, str) else _has_nul(v) for v in values if isinstance(v, (str, list)))


def _refuse_nul_in_query() -> None:
    # A NUL reaches the arguments only as %00 or raw in the query, and the path's parts only through the path:
    # most requests have neither, and are not parsed here.
    query = request.query_string
    if (b"%00" in query or b"\x00" in query) and _has_nul(v for _, v in request.args.items(multi=True)):
        raise BadRequest(NUL_REFUSED)
    if "\x00" in request.path and _has_nul((request.view_args or {}).values()):  # nothing is named so:
        raise NotFound()  # PostgreSQL cannot even look it up


def _text_fields(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)) for v in value.values())


_flask_wtf_formdata = FlaskForm.Meta.wrap_formdata


def _files_only_for_file_fields(meta, form, formdata):
    """Hand uploaded files to a form's file fields only: a file where text belongs is no text (and was a 500)."""
    data = _flask_wtf_formdata(meta, form, formdata)
    if not isinstance(data, CombinedMultiDict):
        return data
    uploads = {field.name for field in form if isinstance(field, FileField)}
    return CombinedMultiDict([MultiDict([(key, value) for key, value in part.items(multi=True)
                                         if key in uploads or not isinstance(value, FileStorage)])
                              for part in data.dicts])


_flask_wtf_validate = FlaskForm.validate


def _leaves(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _leaves(field.form)
        elif isinstance(field, _FieldList):
            yield from _leaves(field.entries)
        else:
            yield field


def _validate_without_nul(form, extra_validators=None) -> bool:
    """Validate as usual, and refuse NUL in any field: the form comes back with what was typed and a message."""
    valid = _flask_wtf_validate(form, extra_validators=extra_validators)
    for field in _leaves(form):
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            if not field.errors:
                field.errors = list(field.errors) + [REFUSED_CHARACTER]
            valid = False
    return valid


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, its serializer built once per set of keys instead of twice per request."""

    def __init__(self):
        self._serializers: dict[tuple, object] = {}

    def get_signing_serializer(self, app: Flask):
        # Keyed by the keys themselves: a test or a rotation that changes SECRET_KEY gets a new serializer.
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


def init_app(app: Flask) -> None:
    """Bound `<int:…>` (before routes are added), install Request and session, keep files out of text, refuse NUL."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = Request
    app.session_interface = SessionInterface()
    app.before_request(_refuse_nul_in_query)
    # Every form of the app is a FlaskForm: its one hook that reads the request is the place for this rule.
    FlaskForm.Meta.wrap_formdata = _files_only_for_file_fields
    FlaskForm.validate = _validate_without_nul
