"""Embed the glyphs used by the typeset pages as TrueType subsets (CIDFontType2, Identity-H)."""
from __future__ import annotations

import hashlib
import io
import os

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont

from petitions.pdf.engine.files import write_atomically
from petitions.pdf.engine.shaping import face


def _subset_bytes(path: str, gids: list[int], cache_dir: str | None) -> bytes:
    key = hashlib.sha256(f"{path}|{os.path.getsize(path)}|".encode() + ",".join(map(str, gids)).encode()
                         ).hexdigest()
    cached = os.path.join(cache_dir, f"font-{key}.ttf") if cache_dir else None
    if cached and os.path.exists(cached):
        with open(cached, "rb") as fh:
            return fh.read()
    options = subset.Options()
    # Glyph ids in the content streams are those of the full font, so they must stay valid.
    options.retain_gids = True
    options.notdef_outline = True
    options.layout_features = []
    options.hinting = False
    options.name_IDs = ["*"]
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    tt = TTFont(path)
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=[0, *gids])
    subsetter.subset(tt)
    buf = io.BytesIO()
    tt.save(buf)
    data = buf.getvalue()
    if cached:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(cached, data)
    return data


def _tag(face_index: int, gids: list[int]) -> str:
    digest = hashlib.sha1(f"{face_index}:{gids}".encode()).digest()
    return "".join(chr(65 + b % 26) for b in digest[:6])


def _to_unicode(table: dict[int, str]) -> bytes:
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange"]
    items = [(gid, text) for gid, text in sorted(table.items()) if text]
    for start in range(0, len(items), 100):
        block = items[start:start + 100]
        lines.append(f"{len(block)} beginbfchar")
        for gid, text in block:
            lines.append(f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>")
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def embed_fonts(pdf: pikepdf.Pdf, used: dict[int, dict[int, str]], cache_dir: str | None = None
                ) -> pikepdf.Dictionary:
    """Add one subset font per face used; return the /Font resource dictionary (/SF0, /SF1, ...)."""
    resources = pikepdf.Dictionary()
    for face_index, table in sorted(used.items()):
        f = face(face_index)
        gids = sorted(g for g in table if g)
        scale = 1000 / f.upem
        name = pikepdf.Name("/" + _tag(face_index, gids) + "+" + f.postscript_name)
        font_file = pikepdf.Stream(pdf, _subset_bytes(f.path, gids, cache_dir))
        descriptor = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor, FontName=name, Flags=32 if face_index != 2 else 32,
            FontBBox=[round(v * scale) for v in f.bbox], ItalicAngle=f.italic_angle,
            Ascent=round(f.ascent * scale), Descent=round(f.descent * scale),
            CapHeight=round(f.cap_height * scale), StemV=80, FontFile2=pdf.make_indirect(font_file)))
        widths = pikepdf.Array()
        for gid in [0, *gids]:
            widths.append(gid)
            widths.append(pikepdf.Array([round(f.advances[gid] * scale)]))
        cid_font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=name,
            CIDSystemInfo=pikepdf.Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor, DW=round(f.advances[0] * scale), W=widths,
            CIDToGIDMap=pikepdf.Name.Identity))
        font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=name,
            Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=pikepdf.Array([cid_font]),
            ToUnicode=pdf.make_indirect(pikepdf.Stream(pdf, _to_unicode(table)))))
        resources[f"/SF{face_index}"] = font
    return resources
