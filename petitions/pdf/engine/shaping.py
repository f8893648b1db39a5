"""Shape text with HarfBuzz into glyph runs, with font fallback, and draw them as PDF operators.

WeasyPrint lays out a line in about a millisecond, which is minutes for 100,000 names. The list and
the annex are uniform (a few runs of text each), so they are shaped here and placed directly
(lists.py, annex.py); the letter itself stays with WeasyPrint. Fonts are the same Debian fonts,
embedded as subsets by fonts.embed_fonts, which reads the GlyphLog of what was drawn.
"""
from __future__ import annotations

import json
import marshal
import os
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import icu
import uharfbuzz as hb
from fontTools.ttLib import TTFont

from petitions.pdf.engine import bidi
from petitions.pdf.engine.files import write_atomically


# The face list is fixed so resource names (/SF0, /SF1, ...) mean the same font in every chunk.
FACE_QUERIES = [
    "DejaVu Serif:style=Book",
    "DejaVu Serif:style=Bold",
    "DejaVu Sans:style=Book",
    "Noto Serif Armenian:style=Regular",
    "Noto Serif Georgian:style=Regular",
    "Noto Naskh Arabic:style=Regular",
    "Noto Serif Hebrew:style=Regular",
    "Noto Sans:style=Regular",
]
SERIF, SERIF_BOLD, SANS = 0, 1, 2
FALLBACKS = (3, 4, 5, 6, 7)

# Names are black, everything else a readable grey.
GREY = "0.33 0.33 0.33"


class FontMissing(RuntimeError):
    """A Debian font the PDF needs is not installed."""


@dataclass
class Face:
    """One font file, ready for shaping and for embedding."""

    index: int
    path: str
    postscript_name: str
    upem: int
    cmap: dict[int, int]
    advances: list[int]
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: float
    hb_font: hb.Font = field(repr=False)

    def has(self, cp: int) -> bool:
        return cp in self.cmap


def _find_font_file(query: str) -> str:
    out = subprocess.run(["fc-match", "-f", "%{family}\x1f%{file}", query], capture_output=True, text=True,
                         check=False).stdout
    family, _, path = out.partition("\x1f")
    wanted = query.split(":")[0]
    if wanted not in family.split(","):
        raise FontMissing(f"The font {wanted!r} is missing: install fonts-dejavu-core and fonts-noto-core "
                          "(scripts/install-system.sh).")
    return path


METRICS_DIR: str | None = None  # set by the renderer: parsed font metrics are kept there


def use_metrics_cache(directory: str | None) -> None:
    """Keep parsed font metrics in this folder; parsing them costs more than a whole incremental render."""
    global METRICS_DIR
    METRICS_DIR = directory


def _metrics(path: str) -> dict:
    stat = os.stat(path)
    cached = None
    if METRICS_DIR:
        cached = os.path.join(METRICS_DIR, f"metrics-{os.path.basename(path)}-{stat.st_size}-{int(stat.st_mtime)}"
                                           ".marshal")
        try:
            with open(cached, "rb") as fh:
                return marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            pass
    tt = TTFont(path, lazy=True)
    hhea, head, os2 = tt["hhea"], tt["head"], tt["OS/2"]
    hmtx = tt["hmtx"].metrics
    order = tt.getGlyphOrder()
    ids = {name: i for i, name in enumerate(order)}
    metrics = {
        "name": str(tt["name"].getDebugName(6) or os.path.basename(path)).replace(" ", ""),
        "upem": head.unitsPerEm, "cmap": {cp: ids[n] for cp, n in tt.getBestCmap().items()},
        "advances": [hmtx[n][0] for n in order], "ascent": hhea.ascent, "descent": hhea.descent,
        "cap": getattr(os2, "sCapHeight", 0) or int(hhea.ascent * 0.7),
        "bbox": (head.xMin, head.yMin, head.xMax, head.yMax), "italic": float(tt["post"].italicAngle),
    }
    tt.close()
    if cached:
        os.makedirs(METRICS_DIR, exist_ok=True)
        write_atomically(cached, marshal.dumps(metrics))
    return metrics


def _font_path(query: str) -> str:
    # Asking fontconfig costs tens of milliseconds a font; the answer is kept until the file goes away.
    index_file = os.path.join(METRICS_DIR, "font-paths.json") if METRICS_DIR else None
    known: dict[str, str] = {}
    if index_file:
        try:
            with open(index_file, encoding="utf-8") as fh:
                known = json.load(fh)
        except (OSError, ValueError):
            known = {}
        if query in known and os.path.exists(known[query]):
            return known[query]
    path = _find_font_file(query)
    if index_file:
        known[query] = path
        os.makedirs(METRICS_DIR, exist_ok=True)
        write_atomically(index_file, json.dumps(known).encode())
    return path


@lru_cache(maxsize=None)
def face(index: int) -> Face:
    """Load a face of FACE_QUERIES once per process."""
    path = _font_path(FACE_QUERIES[index])
    m = _metrics(path)
    return Face(index=index, path=path, postscript_name=m["name"], upem=m["upem"], cmap=m["cmap"],
                advances=m["advances"], ascent=m["ascent"], descent=m["descent"], cap_height=m["cap"],
                bbox=tuple(m["bbox"]), italic_angle=m["italic"],
                hb_font=hb.Font(hb.Face(hb.Blob.from_file_path(path))))


@dataclass
class Glyphs:
    """A shaped run: one face and size, glyph ids with their advances in font units."""

    face: int
    size: float
    gids: list[int]
    advances: list[int]
    rtl: bool
    color: str = "0 0 0"
    rise: float = 0.0

    @property
    def width(self) -> float:
        return sum(self.advances) * self.size / face(self.face).upem


class GlyphLog:
    """Remember which glyphs were used and which text each stands for (for subsets and ToUnicode)."""

    def __init__(self):
        self.used: dict[int, dict[int, str]] = {}

    def add(self, face_index: int, gid: int, text: str) -> None:
        table = self.used.setdefault(face_index, {})
        if gid not in table or (not table[gid] and text):
            table[gid] = text

    def merge(self, other: dict[int, dict[int, str]]) -> None:
        for face_index, table in other.items():
            for gid, text in table.items():
                self.add(int(face_index), int(gid), text)


def _face_for(cp: int, preferred: int, current: int | None) -> int:
    category = unicodedata.category(chr(cp))
    if current is not None and category[0] in "ZPC" and face(current).has(cp):
        return current
    if face(preferred).has(cp):
        return preferred
    for index in FALLBACKS:
        if face(index).has(cp):
            return index
    return preferred  # .notdef: better a visible box than a silently dropped name


@lru_cache(maxsize=200_000)
def _shape_cached(text: str, preferred: int, rtl: bool | None = None) -> tuple[
        tuple[int, tuple[int, ...], tuple[int, ...], bool, tuple[str, ...]], ...]:
    cmap = face(preferred).cmap
    if all(ord(ch) in cmap for ch in text):
        runs_in = [(preferred, text)]
    else:
        runs_in = _runs(text, preferred)
    shaped = tuple(_shape_run(face_index, run, rtl) for face_index, run in runs_in)
    # A right-to-left piece drawn in several faces shows its last face run first.
    return shaped[::-1] if rtl else shaped


def _runs(text: str, preferred: int) -> list[tuple[int, str]]:
    runs, start, current = [], 0, None
    for i, ch in enumerate(text):
        f = _face_for(ord(ch), preferred, current)
        if current is not None and f != current:
            runs.append((current, text[start:i]))
            start = i
        current = f
    if current is not None:
        runs.append((current, text[start:]))
    return runs


def _shape_run(face_index: int, run: str, rtl: bool | None = None):
    buf = hb.Buffer()
    buf.add_codepoints([ord(c) for c in run])
    buf.guess_segment_properties()
    if rtl is not None:  # the direction the bidi algorithm resolved for this piece
        buf.direction = "rtl" if rtl else "ltr"
    hb.shape(face(face_index).hb_font, buf, {"liga": False, "clig": False, "dlig": False})
    infos, positions = buf.glyph_infos, buf.glyph_positions
    rtl = buf.direction == "rtl"
    clusters = sorted({i.cluster for i in infos})
    ends = {c: (clusters[k + 1] if k + 1 < len(clusters) else len(run)) for k, c in enumerate(clusters)}
    seen, texts = set(), []
    for info in infos:
        # The first glyph of a cluster carries its text; the others map to nothing.
        texts.append("" if info.cluster in seen else run[info.cluster:ends[info.cluster]])
        seen.add(info.cluster)
    return (face_index, tuple(i.codepoint for i in infos), tuple(p.x_advance for p in positions),
            rtl, tuple(texts))


def shape(text: str, preferred: int, size: float, log: GlyphLog, color: str = "0 0 0",
          rise: float = 0.0, rtl: bool | None = None) -> list[Glyphs]:
    """Shape text with font fallback (in this direction, or HarfBuzz's guess); record the glyphs used."""
    result = []
    for face_index, gids, advances, rtl, texts in _shape_cached(text, preferred, rtl):
        for gid, t in zip(gids, texts):
            log.add(face_index, gid, t)
        result.append(Glyphs(face_index, size, list(gids), list(advances), rtl, color, rise))
    return result


# Bidi: one line of styled pieces in display order. First-strong isolates (FSI ... PDI) around a person's
# text and around each run of the other direction inside it, as petitions.i18n.isolate does with <bdi> on the
# web: "Lawyer for مريم علي, 2019" keeps the year after the name in either paragraph direction.
FSI, PDI = "\u2068", "\u2069"
def has_rtl(text: str) -> bool:
    """Tell whether a text holds a right-to-left letter."""
    return any(unicodedata.bidirectional(c) in bidi.RTL_CLASSES for c in text)


def isolated(text: str) -> str:
    """Wrap a person's text in an isolate, and each run of the other direction inside it in its own."""
    if len({bidi.strong(c) for c in text} - {None}) <= 1:
        return FSI + text + PDI
    return FSI + "".join(FSI + core + PDI + tail if d else core + tail
                         for core, tail, d in bidi.direction_runs(text)) + PDI


Piece = tuple  # (text, face, size, color)


def ordered_line(pieces: list[Piece], log: GlyphLog, rtl: bool = False) -> list[Glyphs]:
    """Shape one line of styled pieces and put them in display order (Unicode bidi by ICU, base `rtl`).

    Each run of one resolved level is shaped by HarfBuzz in its own direction; isolate marks are not drawn.
    """
    text = "".join(p[0] for p in pieces)
    if not rtl and not has_rtl(text):  # nearly every line of a left-to-right list: logical order is display order
        return [g for t, f, size, color in pieces for g in shape(t.replace(FSI, "").replace(PDI, ""), f, size, log,
                                                                color) if t.strip(FSI + PDI)]
    bidi = icu.Bidi()
    bidi.setPara(icu.UnicodeString(text), 1 if rtl else 0)
    levels, unit = [], 0
    for ch in text:  # ICU counts UTF-16 code units
        levels.append(bidi.getLevelAt(unit))
        unit += 2 if ord(ch) > 0xFFFF else 1
    runs: list[tuple] = []  # (level, text, face, size, color, end) in logical order
    at = 0
    for t, f, size, color in pieces:
        for offset, ch in enumerate(t):
            if ch in (FSI, PDI):
                continue
            level = levels[at + offset]
            if runs and runs[-1][0] == level and runs[-1][2:5] == (f, size, color) and runs[-1][5] == at + offset:
                runs[-1] = (level, runs[-1][1] + ch, f, size, color, at + offset + 1)
            else:
                runs.append((level, ch, f, size, color, at + offset + 1))
        at += len(t)
    # Rule L2: from the highest level down to the lowest odd one, reverse every sequence at that level or above.
    order = list(runs)
    if order:
        top = max(r[0] for r in order)
        lowest_odd = min((r[0] for r in order if r[0] % 2), default=top + 1)
        for level in range(top, lowest_odd - 1, -1):
            i = 0
            while i < len(order):
                if order[i][0] >= level:
                    j = i
                    while j < len(order) and order[j][0] >= level:
                        j += 1
                    order[i:j] = order[i:j][::-1]
                    i = j
                else:
                    i += 1
    return [g for level, t, f, size, color, _end in order for g in shape(t, f, size, log, color, rtl=bool(level % 2))]


def line_runs(text: str, preferred: int, size: float, log: GlyphLog, color: str = "0 0 0",
              rtl: bool = False) -> list[Glyphs]:
    """Shape one line of one style in display order for a paragraph of this direction."""
    return ordered_line([(text, preferred, size, color)], log, rtl)


def runs_width(runs: list[Glyphs]) -> float:
    return sum(r.width for r in runs)


def draw_runs(out: list[str], runs: list[Glyphs], x: float, y: float) -> None:
    """Append PDF operators that draw shaped runs from (x, y) on the baseline."""
    out.append(f"BT 1 0 0 1 {x:.2f} {y:.2f} Tm")
    state = (None, None, None, None)
    for run in runs:
        f = face(run.face)
        if state[0] != run.face or state[1] != run.size:
            out.append(f"/SF{run.face} {run.size:g} Tf")
        if state[2] != run.color:
            out.append(f"{run.color} rg")
        if state[3] != run.rise:
            out.append(f"{run.rise:g} Ts")
        state = (run.face, run.size, run.color, run.rise)
        parts, pending = [], []
        for gid, adv in zip(run.gids, run.advances):
            pending.append(f"{gid:04X}")
            natural = f.advances[gid] if gid < len(f.advances) else adv
            if adv != natural:
                parts.append(f"<{''.join(pending)}>{(natural - adv) * 1000 // f.upem}")
                pending = []
        if pending:
            parts.append(f"<{''.join(pending)}>")
        out.append(f"[{''.join(parts)}] TJ")
    out.append("ET")


@lru_cache(maxsize=64)
def space_width(f: int, size: float) -> float:
    """Return the width of a space in this face and size, in points."""
    return face(f).advances[face(f).cmap.get(32, 0)] * size / face(f).upem


def wrap(text: str, f: int, size: float, width: float, log: GlyphLog, color: str = "0 0 0",
         rtl: bool = False) -> list[list[Glyphs]]:
    """Break text into lines no wider than width (words too long for a line are broken), each in display order."""
    lines: list[list[str]] = [[]]
    used = 0.0
    space = space_width(f, size)
    words = text.split()
    while words:
        word = words.pop(0)
        w = runs_width(shape(word, f, size, log, color))
        if w > width and len(word) > 1:  # a hash or a URL: break it where it must
            half = len(word) // 2
            words[:0] = [word[:half], word[half:]]
            continue
        if lines[-1] and used + space + w > width:
            lines.append([])
            used = 0.0
        if lines[-1]:
            used += space
        lines[-1].append(word)
        used += w
    return [line_runs(" ".join(words), f, size, log, color, rtl) if words else [] for words in lines]
