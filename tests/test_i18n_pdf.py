"""PDF versions in Azerbaijani, Russian, Armenian, Georgian and Arabic: the text is there, every glyph is real.

Written against the current renderer's URL fetcher and print stylesheet (petitions.pdf.render); the
per-language and combined PDFs will go through the same WeasyPrint set-up.
"""
import io
import unicodedata

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream
from weasyprint import HTML

from petitions.i18n import direction, format_letter_date, quote
from petitions.pdf.render import print_stylesheet, url_fetcher

from .i18n_data import ORIGINAL, VERSIONS

LETTERS = {"az": ORIGINAL, **{k: v for k, v in VERSIONS.items() if k in ("ru", "hy", "ka", "ar")}}


def letter_html(lang: str, letter: dict) -> str:
    from markupsafe import escape

    demands = "".join(f"<li>{escape(d)}</li>" for d in letter["demands"])
    return (f'<!doctype html><html lang="{lang}" dir="{direction(lang)}"><head><meta charset="utf-8">'
            f'<title>{escape(letter["title"])}</title></head><body><h1>{escape(letter["title"])}</h1>'
            f'<p class="date">{format_letter_date("2026-05-07", lang)}</p>'
            f'<div class="body"><p>{escape(quote(letter["body"], lang))}</p></div><ol>{demands}</ol>'
            f'<p>{escape(letter["closing"])}</p></body></html>')


def render(html: str) -> bytes:
    return HTML(string=html, base_url=None, url_fetcher=url_fetcher()).write_pdf(stylesheets=[print_stylesheet()])


def _shown_strings(operations):
    """Yield (font resource name, bytes shown) for every text-showing operator."""
    font = None
    for operands, op in operations:
        if op == b"Tf":
            font = operands[0]
        elif op in (b"Tj", b"'", b'"'):
            yield font, bytes(operands[-1])
        elif op == b"TJ":
            for item in operands[0]:
                if not isinstance(item, (int, float)) and hasattr(item, "original_bytes"):
                    yield font, bytes(item.original_bytes)


def to_unicode(font) -> dict[int, str]:
    """Read a font's ToUnicode CMap: glyph id -> text (a shaped Arabic glyph has no cmap entry of its own)."""
    import re

    out = {}
    if "/ToUnicode" not in font:
        return out
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    hex_text = lambda h: bytes.fromhex(h).decode("utf-16-be")  # noqa: E731
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            out[int(src, 16)] = hex_text(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for i, gid in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[gid] = chr(int(dst, 16) + i)
    return out


def glyph_report(data: bytes):
    """Return ({font name: TTFont}, {font name: set of glyph ids shown}) for every page and form."""
    reader = PdfReader(io.BytesIO(data))
    programs, used = {}, {}

    def walk(resources, contents):
        fonts = resources.get("/Font", {}) if resources else {}
        for name, ref in fonts.items():
            font = ref.get_object()
            assert font["/Subtype"] == "/Type0" and font["/Encoding"] == "/Identity-H", font
            cid = font["/DescendantFonts"][0].get_object()
            assert cid.get("/CIDToGIDMap", "/Identity") == "/Identity"  # CIDs are glyph ids
            descriptor = cid["/FontDescriptor"]
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            programs[name] = (str(font["/BaseFont"]), TTFont(io.BytesIO(descriptor["/FontFile2"].get_data())),
                              to_unicode(font))
        for name, raw in _shown_strings(ContentStream(contents, reader).operations):
            used.setdefault(name, set()).update(int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2))
        for xobject in (resources.get("/XObject", {}) if resources else {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"), xobject)

    for page in reader.pages:
        walk(page["/Resources"], page.get_contents())
    return reader, programs, used


@pytest.mark.parametrize("lang", ["az", "ru", "hy", "ka", "ar"])
def test_language_version_pdf_has_its_text_in_embedded_glyphs(lang):
    letter = LETTERS[lang]
    reader, programs, used = glyph_report(render(letter_html(lang, letter)))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    # Extraction puts right-to-left sentence punctuation in visual order, so compare without it.
    for part in (letter["title"], letter["demands"][0], letter["closing"], letter["body"]):
        assert part.strip(".։") in text, (lang, part, text)

    covered = set()
    for name, glyph_ids in used.items():
        base, font, unicode_of = programs[name]
        glyf, cmap = font["glyf"], font.getBestCmap()
        blank_ok = {gid for ch, g in cmap.items() if unicodedata.category(chr(ch)).startswith("Z")
                    for gid in [font.getGlyphID(g)]}
        for gid in glyph_ids:
            assert gid != 0, f"{lang}: .notdef shown from {base}"
            assert gid < font["maxp"].numGlyphs, f"{lang}: glyph {gid} is not in {base}"
            glyph = glyf[font.getGlyphName(gid)]
            assert glyph.numberOfContours != 0 or gid in blank_ok, f"{lang}: empty glyph {gid} from {base}"
            covered.update(ord(ch) for ch in unicode_of.get(gid, ""))
        covered.update(cmap)
    # Every character of the letter was drawn by a real glyph of an embedded font: the font's own cmap
    # says so, or (for glyphs shaped from several characters, as in Arabic) the PDF's ToUnicode map.
    wanted = {ord(ch) for part in (letter["title"], letter["body"], letter["closing"], *letter["demands"])
              for ch in part if not ch.isspace()}
    assert not wanted - covered, f"{lang}: no embedded glyph for {sorted(map(chr, wanted - covered))}"


def test_armenian_georgian_and_arabic_use_fonts_from_the_installed_packages():
    names = set()
    for lang in ("hy", "ka", "ar"):
        _, programs, used = glyph_report(render(letter_html(lang, LETTERS[lang])))
        names |= {programs[n][0].split("+", 1)[1] for n in used}
    # Only DejaVu (fonts-dejavu-core) and Noto (fonts-noto-core): nothing the set-up did not install.
    assert names and all(n.startswith(("DejaVu", "Noto")) for n in names), names
    assert any("Arabic" in n for n in names)
