"""The share image of an appeal (Open Graph / Twitter card): a 1200×630 PNG drawn on the server, kept as a file.

Pillow lays text out with raqm (FriBiDi + HarfBuzz), so Arabic is shaped and runs right to left, and each line
is drawn in a Debian font that has every one of its characters. The image shows the count rounded down to its
two leading digits ("1,200+"), so it is drawn again only when the count crosses such a step, or when the
title, goal, language or drawing code change: the file's name is the hash of exactly what it shows.
"""
import functools
import glob
import hashlib
import io
import json
import os

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from petitions.appeals.models import Appeal
from petitions.pdf.engine.bidi import base_direction
from petitions.i18n import direction, with_locale
from petitions.pdf.engine.files import write_atomically
from petitions.webfonts import font_path

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
DRAWING_VERSION = 1  # bump when the drawing changes: every image is made again
TITLE_SIZES = (68, 58, 50)  # the largest size at which the title fits in TITLE_LINES, else the smallest, cut
TITLE_LINES = 4
BACKGROUND, INK, MUTED, TRACK, FILL = "#1d3557", "#ffffff", "#c9d6e8", "#3d5a80", "#f4a261"
# Fonts tried in order for a line: the script's Noto face first when the line uses that script, DejaVu
# (Latin, Cyrillic and a little of everything) otherwise; the first that has every character wins.
SCRIPT_FONTS = (
    (("\u0600", "\u06ff"), ("\u0750", "\u077f"), ("\ufb50", "\ufdff"), ("\ufe70", "\ufeff"), "NotoSansArabic"),
    (("\u0590", "\u05ff"), "NotoSansHebrew"),
    (("\u0530", "\u058f"), "NotoSansArmenian"),
    (("\u10a0", "\u10ff"), ("\u1c90", "\u1cbf"), "NotoSansGeorgian"),
)
FALLBACK = "DejaVuSans"
FOLDER = "share-images"


def count_step(count: int) -> int:
    """Return the count the image shows: exact below 100, else rounded down to its two leading digits."""
    if count < 100:
        return max(count, 0)
    unit = 10 ** (len(str(count)) - 2)
    return count // unit * unit


@functools.lru_cache(maxsize=32)
def _covered(name: str) -> frozenset[int]:
    path = font_path(f"{name}.ttf")
    if path is None:
        return frozenset()
    return frozenset(TTFont(path, lazy=True).getBestCmap())


@functools.lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(f"{name}.ttf"), size, layout_engine=ImageFont.Layout.RAQM)


def font_name_for(text: str, bold: bool = True) -> str:
    """Return the name of the installed font that can draw every character of `text`."""
    suffix = "-Bold" if bold else "-Regular"
    candidates = [family + suffix for *ranges, family in SCRIPT_FONTS
                  if any(lo <= ch <= hi for ch in text for lo, hi in ranges)]
    candidates.append(f"{FALLBACK}-Bold" if bold else FALLBACK)
    needed = {ord(ch) for ch in text if not ch.isspace()}
    for name in candidates:
        if needed <= _covered(name):
            return name
    return max(candidates, key=lambda n: len(needed & _covered(n)))


def _width(text: str, font, language: str, rtl: bool) -> float:
    return font.getlength(text, direction="rtl" if rtl else "ltr", language=language)


def wrap(text: str, font, width: float, max_lines: int, language: str, rtl: bool) -> list[str]:
    """Break `text` into at most `max_lines` lines of `width`, the last ending in "…" if text was left over."""
    lines: list[str] = []
    words = text.split()
    current = ""
    while words:
        word = words[0]
        trial = f"{current} {word}" if current else word
        if _width(trial, font, language, rtl) <= width:
            current = trial
            words.pop(0)
            continue
        if not current:  # one word wider than the line: cut it where it stops fitting
            cut = len(word)
            while cut > 1 and _width(word[:cut], font, language, rtl) > width:
                cut -= 1
            current, words[0] = word[:cut], word[cut:]
        lines.append(current)
        current = ""
        if len(lines) == max_lines:
            break
    if current and len(lines) < max_lines:
        lines.append(current)
    if words:  # text left over: end the last line with an ellipsis that fits
        last = lines[-1]
        while last and _width(last + "…", font, language, rtl) > width:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    return lines


def _title_layout(title: str, language: str, rtl: bool):
    name = font_name_for(title)
    for size in TITLE_SIZES:
        font = _font(name, size)
        lines = wrap(title, font, WIDTH - 2 * MARGIN, TITLE_LINES, language, rtl)
        if not lines[-1].endswith("…") or size == TITLE_SIZES[-1]:
            return font, size, lines
    raise AssertionError("unreachable")


def texts(appeal: Appeal, title: str, language: str) -> dict:
    """Return the words the image shows, in the version's language (the interface's default without a catalog)."""
    shown = count_step(appeal.signature_count)
    number = format_decimal(shown, locale=language)
    with with_locale(language):
        if shown < appeal.signature_count:
            count = ngettext("%(count)s+ signature", "%(count)s+ signatures", shown, count=number)
        else:
            count = ngettext("%(count)s signature", "%(count)s signatures", shown, count=number)
        goal = (_("Goal: %(goal)s", goal=format_decimal(appeal.signature_goal, locale=language))
                if appeal.signature_goal else "")
        site = current_app.config.get("SITE_NAME") or _("Petitions")
    return {"title": title.strip() or appeal.slug, "count": count, "goal": goal, "site": site,
            "shown": shown, "goal_value": appeal.signature_goal or 0}


def image_key(words: dict, language: str) -> str:
    """Return the hash of everything the image shows: its file name and its ETag."""
    made_of = [DRAWING_VERSION, language, words]
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:32]


def draw(words: dict, language: str) -> bytes:
    """Draw the image and return its PNG bytes."""
    rtl = direction(language) == "rtl"
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    pen = ImageDraw.Draw(image)
    start, anchor = (WIDTH - MARGIN, "r") if rtl else (MARGIN, "l")
    text_dir = "rtl" if rtl else "ltr"

    def line(y: int, text: str, size: int, colour: str, bold: bool = True) -> None:
        # Without a catalog for the language these words are in the default language: their own direction
        # orders them ("12,000+ signatures"), the page's direction places them.
        font = _font(font_name_for(text, bold), size)
        pen.text((start, y), text, font=font, fill=colour, anchor=anchor + "s", direction=base_direction(text),
                 language=language)

    line(MARGIN + 30, words["site"], 34, MUTED, bold=False)
    font, size, lines = _title_layout(words["title"], language, rtl)
    y = MARGIN + 70 + size
    for text in lines:
        pen.text((start, y), text, font=font, fill=INK, anchor=anchor + "s", direction=text_dir, language=language)
        y += int(size * 1.25)
    line(HEIGHT - MARGIN - 70, words["count"], 48, INK)
    if words["goal_value"]:
        bar_top, bar_height = HEIGHT - MARGIN - 40, 22
        pen.rounded_rectangle((MARGIN, bar_top, WIDTH - MARGIN, bar_top + bar_height), 11, fill=TRACK)
        done = min(words["shown"] / words["goal_value"], 1.0)
        if done > 0:
            span = max(int((WIDTH - 2 * MARGIN) * done), bar_height)
            box = ((WIDTH - MARGIN - span, bar_top, WIDTH - MARGIN, bar_top + bar_height) if rtl
                   else (MARGIN, bar_top, MARGIN + span, bar_top + bar_height))
            pen.rounded_rectangle(box, 11, fill=FILL)
        goal_font = _font(font_name_for(words["goal"], False), 30)
        end, end_anchor = (MARGIN, "l") if rtl else (WIDTH - MARGIN, "r")
        pen.text((end, HEIGHT - MARGIN - 70), words["goal"], font=goal_font, fill=MUTED, anchor=end_anchor + "s",
                 direction=base_direction(words["goal"]), language=language)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def folder() -> str:
    """Return the folder the images are kept in (SHARE_IMAGE_DIR, else share-images/ in the instance folder)."""
    path = current_app.config.get("SHARE_IMAGE_DIR") or os.path.join(current_app.instance_path, FOLDER)
    os.makedirs(path, exist_ok=True)
    return path


def share_image(appeal: Appeal, title: str, language: str) -> tuple[str, str]:
    """Return the path of the appeal's share image in this language and its key, drawing it if it is not kept."""
    words = texts(appeal, title, language)
    key = image_key(words, language)
    prefix = os.path.join(folder(), f"{appeal.id}-{language}-")
    path = f"{prefix}{key}.png"
    if not os.path.exists(path):
        write_atomically(path, draw(words, language))
        for old in glob.glob(f"{glob.escape(prefix)}*.png"):  # the steps before this one are never asked for again
            if old != path:
                try:
                    os.remove(old)
                except FileNotFoundError:  # another worker removed it first
                    pass
    return path, key
