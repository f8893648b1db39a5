"""Read whole numbers from paths, query strings and forms: ASCII digits only, bounded, never an exception."""
from collections.abc import Iterable

from flask import Flask, request
from werkzeug.routing import IntegerConverter, ValidationError

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


def form_int(name: str, low: int = 1, high: int = MAX_ID) -> int | None:
    """Return a whole number from the posted form, or None if it is missing or not one."""
    return parse_int(request.form.get(name), low, high)


def parse_ids(values: Iterable[object]) -> list[int]:
    """Return the valid ids among values, in order, each once."""
    return list(dict.fromkeys(n for n in map(parse_int, values) if n is not None))


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


def init_app(app: Flask) -> None:
    """Make `<int:…>` in every route the bounded converter (before any route is added)."""
    app.url_map.converters["int"] = IdConverter
