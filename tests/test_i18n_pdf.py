"""PDF versions in Azerbaijani, Russian, Armenian, Georgian and Arabic: the text is there, every glyph is real.

Rendered by the real renderer (petitions.pdf.engine.assemble.build): the letter through WeasyPrint, the signatory
list and annex typeset with HarfBuzz, so both paths are checked.
"""
import io
import unicodedata

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream
from markupsafe import escape

from petitions.i18n import quote
from petitions.pdf.engine.assemble import build
from petitions.pdf.engine.document import LetterDocument, SignatoryEntry

from .i18n_data import ORIGINAL, VERSIONS

LETTERS = {"az": ORIGINAL, **{k: v for k, v in VERSIONS.items() if k in ("ru", "hy", "ka", "ar")}}


SIGNERS = {"az": ("Gülşən Əliyeva", "Hüquqşünas"), "ru": ("Ирина Жукова", "Адвокат"),
           "hy": ("Անահիտ Սարգսյան", "Լրագրող"), "ka": ("ნინო ბერიძე", "ჟურნალისტი"),
           "ar": ("مريم علي", "محامية")}


def render(lang: str, letter: dict, cache_dir) -> bytes:
    """Render one language version with a signatory written in its script, unsigned."""
    name, affiliation = SIGNERS[lang]
    doc = LetterDocument(
        title=letter["title"], body_html=f"<p>{escape(quote(letter['body'], lang))}</p>",
        demands=list(letter["demands"]), closing=letter["closing"], language=lang,
        signatories=[SignatoryEntry(name=name, affiliation=affiliation, level="email")], appeal_slug=f"v-{lang}")
    return build(doc, str(cache_dir)).pdf


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
def test_language_version_pdf_has_its_text_in_embedded_glyphs(lang, tmp_path):
    letter = LETTERS[lang]
    reader, programs, used = glyph_report(render(lang, letter, tmp_path))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    # Extraction puts right-to-left sentence punctuation in visual order, so compare without it.
    for part in (letter["title"], letter["demands"][0], letter["closing"], letter["body"]):
        assert part.strip(".։") in text, (lang, part, text)
    if lang != "ar":  # extraction reorders right-to-left runs; the glyph check below still covers them
        assert SIGNERS[lang][0] in text

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
    wanted = {ord(ch) for part in (letter["title"], letter["body"], letter["closing"], *letter["demands"],
                                   *SIGNERS[lang]) for ch in part if not ch.isspace()}
    assert not wanted - covered, f"{lang}: no embedded glyph for {sorted(map(chr, wanted - covered))}"


def test_armenian_georgian_and_arabic_use_fonts_from_the_installed_packages(tmp_path):
    names = set()
    for lang in ("hy", "ka", "ar"):
        _, programs, used = glyph_report(render(lang, LETTERS[lang], tmp_path))
        names |= {programs[n][0].split("+", 1)[1] for n in used}
    # Only DejaVu (fonts-dejavu-core) and Noto (fonts-noto-core): nothing the set-up did not install.
    assert names and all(n.startswith(("DejaVu", "Noto")) for n in names), names
    assert any("Arabic" in n for n in names)
