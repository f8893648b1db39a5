"""Languages: locale selection, names and writing direction, per-language dates and quotation marks."""
import functools
import re
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime
from urllib.parse import urlencode

from babel import Locale, support
from babel.dates import format_date
from flask import Blueprint, abort, current_app, has_request_context, redirect, request
from flask_babel import force_locale, get_locale, refresh
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms.i18n import messages_path

from petitions.pdf.engine import bidi
from petitions.pdf.engine.bidi import base_direction
from petitions.security import safe_next

# Languages an appeal version may be written in. Babel knows their names; we add what it lacks:
# quotation marks (CLDR "delimiters", which Babel does not ship).
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ckb"}
QUOTES = {
    "en": ("“", "”"), "fr": ("«\u202f", "\u202f»"), "de": ("„", "“"), "ru": ("«", "»"), "uk": ("«", "»"),
    "az": ("“", "”"), "tr": ("“", "”"), "hy": ("«", "»"), "ka": ("„", "“"), "ar": ("”", "“"),
    "fa": ("«", "»"), "he": ("”", "”"), "es": ("«", "»"), "it": ("«", "»"), "pl": ("„", "”"),
    "be": ("«", "»"), "kk": ("«", "»"), "ro": ("„", "”"), "lt": ("„", "“"), "lv": ("«", "»"),
}
# Languages of the Council of Europe's region and beyond that organizers may add; Babel must know each.
VERSION_LANGUAGES = ("en", "fr", "de", "ru", "az", "tr", "hy", "ka", "uk", "be", "kk", "ar", "fa", "he", "es", "it",
                     "pl", "ro", "lt", "lv")
_CODE = re.compile(r"^[a-z]{2,3}$")
# Where the reader's own choice of interface language is remembered (the switcher in every page's header).
LANGUAGE_COOKIE = "ui_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# Scripts whose first letter must stay as Babel writes it: Georgian's upper case is Mtavruli, which the
# language's own name never starts with ("ქართული", not "Ქართული").
_UNCASED_FIRST = ("GEORGIAN",)


def is_version_language(code: str | None) -> bool:
    """Tell whether an appeal may have a version in this language."""
    return bool(code) and code in VERSION_LANGUAGES


def looks_like_language(code: str | None) -> bool:
    """Tell whether a URL segment has the shape of a language code (two or three lowercase letters)."""
    return bool(code) and bool(_CODE.match(code))


def direction(code: str | None) -> str:
    """Return "rtl" for right-to-left scripts, else "ltr"."""
    return "rtl" if (code or "").split("-")[0].split("_")[0] in RTL_LANGUAGES else "ltr"


@functools.lru_cache(maxsize=256)  # every page's language switcher names each language
def native_name(code: str) -> str:
    """Return the language's name in itself, capitalized where its script does ("Русский", "Հայերեն", "ქართული")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, TypeError):
        return code
    return capitalize_name(name)


def capitalize_name(name: str) -> str:
    """Upper-case the first letter of a language's name where its script has cases and uses them so."""
    first = name[:1]
    if not first or not first.islower() or unicodedata.name(first, "").startswith(_UNCASED_FIRST):
        return name
    return first.upper() + name[1:]


def language_name(code: str, in_language: str | None = None) -> str:
    """Return the language's name in another language (the interface's by default)."""
    try:
        target = in_language or str(get_locale() or "en")
        return Locale.parse(code).get_display_name(target) or code
    except (ValueError, TypeError):
        return code


def ui_languages() -> list[str]:
    """Return the interface languages that have a catalog (config LANGUAGES)."""
    return list(current_app.config["LANGUAGES"])


def ui_language_for(code: str | None) -> str:
    """Return the interface language to use with a content language: itself if translated, else the default."""
    if code and code in ui_languages():
        return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def url_language() -> str | None:
    """Return the language named by the URL (?lang=, or the route part <lang> of a public page), if any."""
    if not has_request_context():
        return None
    return request.args.get("lang") or route_language()


def route_language() -> str | None:
    """Return the route part <lang> of a public page (the version read); organizer pages' <lang> is content only."""
    if getattr(current_app.blueprints.get(request.blueprint or ""), "behind_login", False):
        return None  # the translation editor must not switch the organizer's interface to the translation's
    lang = (request.view_args or {}).get("lang")
    return lang if isinstance(lang, str) else None


def switcher_next() -> str:
    """Return this page's path and query without ?lang=, where the language switcher comes back to."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + ("?" + urlencode(args) if args else "")


def remembered_language() -> str | None:
    """Return the interface language the reader chose with the switcher, if it has a catalog."""
    lang = request.cookies.get(LANGUAGE_COOKIE)
    return lang if lang in ui_languages() else None


def select_locale() -> str:
    """Pick the interface language: ?lang=, the reader's choice in the switcher, a public page's <lang>, Accept-Language."""
    if not has_request_context():  # CLI, PDF and mail outside a request: the default unless forced
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = ui_languages()
    for lang in (request.args.get("lang"), remembered_language(), route_language()):
        if lang in languages:
            return lang
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


@functools.lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def selected_locale() -> Locale:
    """Give Flask-Babel the interface language as a Locale, parsed once per language rather than per request."""
    return _locale(select_locale())


bp = Blueprint("language", __name__)


@bp.get("/language")
def choose():
    """Remember the interface language picked in the switcher and go back to the page it was picked on."""
    back = safe_next(request.args.get("next"), "/")
    lang = request.args.get("lang")
    if lang not in ui_languages():
        abort(400)
    response = redirect(back, code=303)
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax",
                        secure=request.is_secure, httponly=True)
    return response


@contextmanager
def with_locale(language: str | None):
    """Render mail or documents in this language (the default where the interface has no catalog)."""
    with force_locale(ui_language_for(language)):
        yield


def format_letter_date(value: date | datetime | str | None, language: str) -> str:
    """Format a letter's date the way the language writes it ("7 мая 2026 г.", "May 7, 2026")."""
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    try:
        return format_date(value, format="long", locale=language)
    except (ValueError, LookupError):
        return format_date(value, format="long", locale="en")


def quote(text: str, language: str) -> str:
    """Put the language's quotation marks around a text („…“, «…», “…”)."""
    start, end = QUOTES.get((language or "en").split("-")[0], QUOTES["en"])
    return f"{start}{text}{end}"


@functools.lru_cache(maxsize=8192)
def isolate(text: str | None) -> Markup:
    """Escape a person's text and isolate runs in the other direction, so neighbours keep their order.

    Without isolation, "Lawyer for مريم علي, 2019" shows the year left of the Arabic name: the number
    takes the direction of the Arabic run before it. Each opposite-direction run becomes a <bdi>.
    """
    text = text or ""
    directions = {bidi.strong(ch) for ch in set(text)}
    if "rtl" not in directions or "ltr" not in directions:
        # One direction only (nearly every name): no run to isolate inside, so no walk through the characters.
        return Markup('<bdi dir="{}">{}</bdi>').format("rtl" if "rtl" in directions else "ltr", text)
    return isolated_runs(text)


def isolated_runs(text: str) -> Markup:
    """Return `isolate` of a text by walking it character by character (what mixed directions need)."""
    out = [Markup('<bdi dir="{}">{}</bdi>{}').format(d, core, tail) if d else escape(core + tail)
           for core, tail, d in bidi.direction_runs(text)]
    return Markup('<bdi dir="{}">{}</bdi>').format(base_direction(text), Markup("").join(out))


@functools.lru_cache(maxsize=64)
def _form_catalog(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FormMessages:
    """WTForms' own messages ("This field is required.") in the current language.

    Flask-WTF reads the catalog from disk once per request; on the sign form that was a tenth of its CPU.
    Catalogs do not change while the process runs, so each is read once per process.
    """

    def gettext(self, string: str) -> str:
        return _form_catalog(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _form_catalog(str(get_locale())).ungettext(singular, plural, n)


FORM_MESSAGES = FormMessages()


def init_app(app) -> None:
    """Register the template helpers and the forms' messages."""
    FlaskForm.Meta.get_translations = lambda meta, form: FORM_MESSAGES
    # Flask-Babel caches the locale on the app context, which a request may share (tests, CLI-started
    # requests); each request must choose its own language.
    app.before_request(refresh)
    app.add_template_filter(isolate, "isolate")
    app.register_blueprint(bp)
    app.add_template_global(native_name, "native_name")
    app.add_template_global(ui_languages, "ui_languages")
    app.add_template_global(switcher_next, "switcher_next")
    app.add_template_global(language_name, "language_name")
    app.add_template_global(direction, "text_direction")
    app.add_template_filter(format_letter_date, "letter_date")
    app.add_template_filter(quote, "quote")

    @app.context_processor
    def _ui_language():
        return {"ui_lang": str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])}
