"""Typeset the signatory list and page decorations straight to PDF content streams.

WeasyPrint lays out a line in about a millisecond, which is minutes for 100,000 names. The list is
uniform (one entry, a few runs of text), so here it is shaped by HarfBuzz and placed in columns
directly; the letter itself stays with WeasyPrint. Fonts are the same Debian fonts, embedded as
subsets by `fonts_for_pdf`.
"""
from __future__ import annotations

import json
import marshal
import os
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import uharfbuzz as hb
from fontTools.ttLib import TTFont

from petitions.pdf.engine.document import LEVEL_MARKS, SignatoryEntry
from petitions.pdf.engine.files import write_atomically

MM = 72 / 25.4
PAGE_SIZES_PT = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}
MARGINS = {"top": 24 * MM, "bottom": 22 * MM, "left": 22 * MM, "right": 20 * MM}

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

# Layout of the list, in points. Names are black, everything else a readable grey.
NAME_SIZE, AFF_SIZE, MARK_SIZE, LEADING = 8.2, 7.2, 5.2, 10.4
HEADING_SIZE, HEADING_SPACE = 11.0, 22.0
COLUMN_GAP, INDENT, GUTTER = 13.0, 8.0, 7.0
GREY = "0.33 0.33 0.33"
RTL_CLASSES = {"R", "AL"}


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
def _shape_cached(text: str, preferred: int) -> tuple[tuple[int, tuple[int, ...], tuple[int, ...], bool,
                                                              tuple[str, ...]], ...]:
    cmap = face(preferred).cmap
    if all(ord(ch) in cmap for ch in text):
        runs_in = [(preferred, text)]
    else:
        runs_in = _runs(text, preferred)
    return tuple(_shape_run(face_index, run) for face_index, run in runs_in)


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


def _shape_run(face_index: int, run: str):
    buf = hb.Buffer()
    buf.add_codepoints([ord(c) for c in run])
    buf.guess_segment_properties()
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
          rise: float = 0.0) -> list[Glyphs]:
    """Shape text with font fallback; record the glyphs used."""
    result = []
    for face_index, gids, advances, rtl, texts in _shape_cached(text, preferred):
        for gid, t in zip(gids, texts):
            log.add(face_index, gid, t)
        result.append(Glyphs(face_index, size, list(gids), list(advances), rtl, color, rise))
    return result


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


# --- The list ------------------------------------------------------------------------------------

@dataclass
class Line:
    runs: list[Glyphs]
    indent: float = 0.0
    prefix: list[Glyphs] | None = None  # the verification mark, in the gutter of the first line


def _is_rtl_word(word: str) -> bool:
    return any(unicodedata.bidirectional(c) in RTL_CLASSES for c in word)


def entry_lines(entry: SignatoryEntry, width: float, log: GlyphLog) -> list[Line]:
    """Break one entry into lines of the column width: mark in the gutter, name, "–", detail."""
    tokens: list[tuple[str, int, float, str, bool]] = []
    for word in entry.name.split():
        tokens.append((word, SERIF_BOLD if entry.is_organization else SERIF, NAME_SIZE, "0 0 0", _is_rtl_word(word)))
    detail = entry.detail or entry.affiliation
    if detail.strip():
        tokens.append(("–", SERIF, AFF_SIZE, GREY, False))
        for word in detail.split():
            tokens.append((word, SERIF, AFF_SIZE, GREY, _is_rtl_word(word)))
    lines: list[list[tuple[list[Glyphs], bool, bool]]] = [[]]
    used, first = 0.0, True
    for word, f, size, color, rtl in tokens:
        runs = shape(word, f, size, log, color)
        w = runs_width(runs)
        space = _space_width(f, size) if lines[-1] else 0.0
        limit = width - GUTTER - (0 if first else INDENT)
        if lines[-1] and used + space + w > limit:
            lines.append([])
            first, used, space = False, 0.0, 0.0
        if space:
            lines[-1].append((shape(" ", f, size, log, color), False, False))
        lines[-1].append((runs, rtl, True))
        used += space + w
    mark = shape(LEVEL_MARKS.get(entry.level, "?"), SANS, MARK_SIZE, log, GREY, 1.0)
    return [Line(_visual_order(parts), GUTTER if n == 0 else GUTTER + INDENT, mark if n == 0 else None)
            for n, parts in enumerate(lines)]


@lru_cache(maxsize=64)
def _space_width(f: int, size: float) -> float:
    return face(f).advances[face(f).cmap.get(32, 0)] * size / face(f).upem


def _visual_order(parts: list[tuple[list[Glyphs], bool, bool]]) -> list[Glyphs]:
    # A run of right-to-left words (with the spaces between them) is shown in reverse word order.
    out: list[Glyphs] = []
    i = 0
    while i < len(parts):
        if parts[i][1]:
            j = i
            while j + 1 < len(parts) and (parts[j + 1][1] or (not parts[j + 1][2] and j + 2 < len(parts)
                                                               and parts[j + 2][1])):
                j += 1
            for runs, _, _ in reversed(parts[i:j + 1]):
                out.extend(runs)
            i = j + 1
        else:
            out.extend(parts[i][0])
            i += 1
    return out


@dataclass
class ListLayout:
    """Page geometry of the list pages."""

    page_size: str = "A4"
    columns: int = 2

    @property
    def size(self) -> tuple[float, float]:
        return PAGE_SIZES_PT.get(self.page_size, PAGE_SIZES_PT["A4"])

    @property
    def column_width(self) -> float:
        width = self.size[0] - MARGINS["left"] - MARGINS["right"]
        return (width - COLUMN_GAP * (self.columns - 1)) / self.columns

    @property
    def lines_per_column(self) -> int:
        return int((self.size[1] - MARGINS["top"] - MARGINS["bottom"]) // LEADING)


def typeset_chunk(entries: list[SignatoryEntry], layout: ListLayout, heading: str = "",
                  note: str = "") -> tuple[list[bytes], dict[int, dict[int, str]]]:
    """Lay entries out in columns on fresh pages; return content streams and the glyphs they use."""
    log = GlyphLog()
    width = layout.column_width
    blocks = [entry_lines(e, width, log) for e in entries]
    page_w, page_h = layout.size
    cap = layout.lines_per_column
    pages: list[bytes] = []
    first_page_header: list[str] = []
    header_lines = 0
    if heading:
        first_page_header.append("0 0 0 rg")
        draw_runs(first_page_header, shape(heading, SERIF_BOLD, HEADING_SIZE, log), MARGINS["left"],
                  page_h - MARGINS["top"] - HEADING_SIZE)
        header_lines = int(HEADING_SPACE // LEADING) + 1
        # The note (how the list is ordered, the legend) sits under the heading, wrapped to the page width.
        note_lines = [line for paragraph in note.split("\n") if paragraph.strip()
                      for line in wrap(paragraph, SANS, 6.8, page_w - MARGINS["left"] - MARGINS["right"], log, GREY)]
        for n, line in enumerate(note_lines):
            draw_runs(first_page_header, line, MARGINS["left"], page_h - MARGINS["top"] - HEADING_SIZE - 11 - n * 9)
        if note_lines:
            header_lines = -(-int(HEADING_SIZE + 11 + (len(note_lines) - 1) * 9 + 12) // int(LEADING))
        y_rule = page_h - MARGINS["top"] - header_lines * LEADING + 4
        first_page_header.append(f"0.6 0.6 0.6 RG 0.4 w {MARGINS['left']:.2f} {y_rule:.2f} m "
                                 f"{page_w - MARGINS['right']:.2f} {y_rule:.2f} l S")
    i = 0
    while i < len(blocks) or (not pages and heading):
        top_lines = header_lines if not pages else 0
        capacity = cap - top_lines
        # How many blocks fit on this page, filling columns in order.
        fitted, j = _fill(blocks, i, capacity, layout.columns)
        if j >= len(blocks):
            # Last page of the chunk: balance the columns so it does not end in one long column.
            fitted = _balanced(blocks[i:j], capacity, layout.columns)
        # One marked-content sequence per page; assemble links it to a list item of the structure tree.
        out = ["/LI <</MCID 0>> BDC"] + (list(first_page_header) if not pages else [])
        y0 = page_h - MARGINS["top"] - top_lines * LEADING - NAME_SIZE
        for col, column_blocks in enumerate(fitted):
            x = MARGINS["left"] + col * (width + COLUMN_GAP)
            row = 0
            for block in column_blocks:
                for line in block:
                    if line.prefix:
                        draw_runs(out, line.prefix, x, y0 - row * LEADING)
                    draw_runs(out, line.runs, x + line.indent, y0 - row * LEADING)
                    row += 1
        out.append("EMC")
        pages.append("\n".join(out).encode("ascii"))
        i = j
        if not blocks:
            break
    return pages, log.used


def _fill(blocks, start: int, capacity: int, columns: int):
    cols: list[list] = [[] for _ in range(columns)]
    col, used, i = 0, 0, start
    while i < len(blocks):
        n = len(blocks[i])
        if used + n > capacity:
            if used == 0:  # an entry taller than a column is cut rather than looping forever
                cols[col].append(blocks[i][:capacity])
                i += 1
            col += 1
            used = 0
            if col == columns:
                break
            continue
        cols[col].append(blocks[i])
        used += n
        i += 1
    return cols, i


def _balanced(blocks, capacity: int, columns: int):
    total = sum(len(b) for b in blocks)
    # Never below the tallest entry: _fill cuts an entry taller than its column.
    target = max(1, -(-total // columns), *(len(b) for b in blocks))
    while target <= capacity:
        cols, i = _fill(blocks, 0, target, columns)
        if i >= len(blocks):
            return cols
        target += 1
    return _fill(blocks, 0, capacity, columns)[0]


# --- The annex: a few headings, label/value rows and paragraphs ------------------------------------

def wrap(text: str, f: int, size: float, width: float, log: GlyphLog, color: str = "0 0 0") -> list[list[Glyphs]]:
    """Break text into lines no wider than width (words too long for a line are broken)."""
    lines: list[list[Glyphs]] = [[]]
    used = 0.0
    space = _space_width(f, size)
    words = text.split()
    while words:
        word = words.pop(0)
        runs = shape(word, f, size, log, color)
        w = runs_width(runs)
        if w > width and len(word) > 1:  # a hash or a URL: break it where it must
            half = len(word) // 2
            words[:0] = [word[:half], word[half:]]
            continue
        if lines[-1] and used + space + w > width:
            lines.append([])
            used = 0.0
        if lines[-1]:
            lines[-1].extend(shape(" ", f, size, log, color))
            used += space
        lines[-1].extend(runs)
        used += w
    return lines


def typeset_annex(blocks: list[tuple], layout: ListLayout) -> tuple[list[bytes], dict[int, dict[int, str]]]:
    """Lay out ("h", text), ("row", label, value) and ("p", text) blocks on as many pages as needed."""
    log = GlyphLog()
    page_w, page_h = layout.size
    left, width = MARGINS["left"], page_w - MARGINS["left"] - MARGINS["right"]
    label_w = 72 * MM
    pages: list[list[str]] = [["/P <</MCID 0>> BDC"]]
    y = page_h - MARGINS["top"] - 12

    def need(height: float) -> None:
        nonlocal y
        if y - height < MARGINS["bottom"]:
            pages[-1].append("EMC")
            pages.append(["/P <</MCID 0>> BDC"])
            y = page_h - MARGINS["top"] - 12

    for block in blocks:
        kind = block[0]
        if kind == "h":
            need(30)
            y -= 6
            draw_runs(pages[-1], shape(block[1], SERIF_BOLD, 12 if block[2:] == () else 10, log, "0.12 0.23 0.37"),
                      left, y)
            y -= 16
        elif kind == "row":
            value_lines = wrap(block[2], SANS, 8.2, width - label_w, log)
            need(11 * len(value_lines) + 4)
            draw_runs(pages[-1], shape(block[1], SANS, 8.2, log, GREY), left, y)
            for line in value_lines:
                draw_runs(pages[-1], line, left + label_w, y)
                y -= 11
            pages[-1].append(f"0.8 0.8 0.8 RG 0.3 w {left:.2f} {y + 7:.2f} m {left + width:.2f} {y + 7:.2f} l S")
            y -= 3
        elif kind == "p":
            lines = wrap(block[1], SERIF, 9, width, log)
            need(12.5 * len(lines) + 6)
            y -= 4
            for line in lines:
                draw_runs(pages[-1], line, left, y)
                y -= 12.5
    pages[-1].append("EMC")
    return ["\n".join(p).encode("utf-8") for p in pages], log.used


def qr_operators(matrix, x: float, y_top: float, size: float, color: str = "0.12 0.23 0.37") -> bytes:
    """Draw a QR code matrix (rows of booleans) as filled squares in a size x size box."""
    rows = [list(r) for r in matrix]
    module = size / len(rows)
    out = [f"q {color} rg"]
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                out.append(f"{x + start * module:.3f} {y_top - (r + 1) * module:.3f} "
                           f"{(c - start) * module:.3f} {module:.3f} re")
            else:
                c += 1
    out.append("f Q")
    return "\n".join(out).encode("ascii")
