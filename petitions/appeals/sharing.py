"""Sharing an appeal: plain share links, the Mastodon instance check, the page's meta description, embed code.

Every link is a plain URL opened by the reader's own browser: no third-party script or request from our pages.
"""
import html
import re
from urllib.parse import quote, urlencode

import idna
import nh3
from babel.core import Locale, UnknownLocaleError, get_global
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from petitions.appeals.markdown import render_markdown
from petitions.http import parse_int
from petitions.urls import external_url

DESCRIPTION_CHARS = 200
# An alphabetic top-level label (or its punycode): a host typed as an IP address is no Mastodon instance.
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Embed sizes an organizer may ask for (pixels) and the default.
EMBED_WIDTH, EMBED_HEIGHT = (200, 1200, 360), (120, 1200, 220)
EMBED_NAMES = 5  # latest public names an embed shows when asked to


def share_links(url: str, title: str) -> dict[str, str]:
    """Return the share URL of each service for a page, its title as the text (all URL-encoded)."""
    text, body = f"{title} {url}", f"{title}\n\n{url}"
    return {
        "email": f"mailto:?subject={quote(title)}&body={quote(body)}",
        "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": title}, quote_via=quote),
        "whatsapp": "https://wa.me/?" + urlencode({"text": text}, quote_via=quote),
        "x": "https://x.com/intent/post?" + urlencode({"text": title, "url": url}, quote_via=quote),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote),
        "bluesky": "https://bsky.app/intent/compose?" + urlencode({"text": text}, quote_via=quote),
    }


def instance_host(typed: str) -> str | None:
    """Return the domain name of a Mastodon instance as a reader typed it, or None if it is not one.

    Accepted: "mastodon.social", "https://mastodon.social/", "@me@mastodon.social", IDNs. Anything with a
    port, a path, a user or an address that is not a domain name is refused, so the redirect built from it can
    only lead to https://<a domain>/share.
    """
    text = (typed or "").strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
            break
    text = text.rstrip("/")
    if text.startswith("@") and text.count("@") == 2:  # a handle: the instance is after the second @
        text = text.rsplit("@", 1)[1]
    try:
        host = idna.encode(text, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    labels = host.split(".")
    if len(labels) < 2 or not _TLD.match(labels[-1]) or len(host) > 253:
        return None
    return host


def mastodon_url(host: str, url: str, title: str) -> str:
    """Return the instance's share page with the text filled in."""
    return f"https://{host}/share?" + urlencode({"text": f"{title} {url}"}, quote_via=quote)


class MastodonForm(FlaskForm):
    instance = StringField(_l("Your Mastodon instance"), validators=[DataRequired(), Length(max=300)],
                           render_kw={"placeholder": "mastodon.social", "translate": "no", "autocomplete": "off",
                                      "spellcheck": "false", "inputmode": "url"})
    submit = SubmitField(_l("Share on Mastodon"))

    def validate_instance(self, field):
        if instance_host(field.data) is None:
            raise ValidationError(_l("Type the name of your instance, e.g. mastodon.social."))


def description(content: dict) -> str:
    """Return a short plain-text description of a letter (its subject, else its opening) for link previews."""
    text = (content.get("subject") or "").strip()
    if not text:
        plain = nh3.clean(str(render_markdown(content.get("body") or "")), tags=set())
        text = html.unescape(plain)
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_CHARS:
        return text
    cut = text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] or text[:DESCRIPTION_CHARS]
    return cut.rstrip(",;:.") + "…"


def og_locale(language: str) -> str:
    """Return the Open Graph locale of a language ("ru" → "ru_RU", "ar" → "ar_EG")."""
    likely = get_global("likely_subtags").get(language, language)
    try:
        locale = Locale.parse(likely)
    except (ValueError, UnknownLocaleError):
        return language
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


def embed_options(args, languages: list[str]) -> dict:
    """Return the embed generator's choices from a query string, each within bounds (defaults otherwise)."""
    def size(name, bounds):
        low, high, default = bounds
        return parse_int(args.get(name), low, high) or default
    lang = args.get("embed_lang")
    return {"width": size("embed_width", EMBED_WIDTH), "height": size("embed_height", EMBED_HEIGHT),
            "lang": lang if lang in languages else languages[0], "names": args.get("embed_names") == "1",
            "bounds": {"width": EMBED_WIDTH, "height": EMBED_HEIGHT}}


def embed_code(slug: str, options: dict) -> str:
    """Return the <iframe> snippet other sites paste to show the embed with these options."""
    params = {"lang": options["lang"]}
    if options["names"]:
        params["names"] = "1"
    src = external_url("privacy.embed", slug=slug, **params)
    return (f'<iframe src="{html.escape(src)}" width="{options["width"]}" height="{options["height"]}" '
            f'style="border:0" loading="lazy" referrerpolicy="no-referrer"></iframe>')
