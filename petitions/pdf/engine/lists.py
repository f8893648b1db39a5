"""Typeset the signatory list in columns on fresh pages: each entry's lines, page geometry, balanced columns."""
from __future__ import annotations

from dataclasses import dataclass

from petitions.pdf.engine.document import LEVEL_MARKS, SignatoryEntry
from petitions.pdf.engine.shaping import (
    FSI, GREY, PDI, SANS, SERIF, SERIF_BOLD, GlyphLog, Glyphs, draw_runs, isolated, line_runs, ordered_line, runs_width,
    shape, space_width, wrap,
)

MM = 72 / 25.4
PAGE_SIZES_PT = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0)}
MARGINS = {"top": 24 * MM, "bottom": 22 * MM, "left": 22 * MM, "right": 20 * MM}

# Layout of the list, in points.
NAME_SIZE, AFF_SIZE, MARK_SIZE, LEADING = 8.2, 7.2, 5.2, 10.4
HEADING_SIZE, HEADING_SPACE = 11.0, 22.0
COLUMN_GAP, INDENT, GUTTER = 13.0, 8.0, 7.0


@dataclass
class Line:
    runs: list[Glyphs]
    indent: float = 0.0
    prefix: list[Glyphs] | None = None  # the verification mark, in the gutter of the first line


def entry_lines(entry: SignatoryEntry, width: float, log: GlyphLog, rtl: bool = False) -> list[Line]:
    """Break one entry into lines of the column width: mark in the gutter, name, "–", detail.

    The name and the detail are each isolated (shaping.isolated), then each line is put in display order for
    the list's direction (shaping.ordered_line), so a Latin name in an Arabic list is one left-to-right run.
    """
    name_face = SERIF_BOLD if entry.is_organization else SERIF
    tokens = [(w, name_face, NAME_SIZE, "0 0 0") for w in isolated(entry.name).split()]
    detail = entry.detail or entry.affiliation
    if detail.strip():
        tokens.append(("–", SERIF, AFF_SIZE, GREY))
        tokens += [(w, SERIF, AFF_SIZE, GREY) for w in isolated(detail).split()]
    lines: list[list[tuple[str, int, float, str]]] = [[]]
    used, first = 0.0, True
    for word, f, size, color in tokens:
        w = runs_width(shape(word.replace(FSI, "").replace(PDI, ""), f, size, log, color))
        space = space_width(f, size) if lines[-1] else 0.0
        limit = width - GUTTER - (0 if first else INDENT)
        if lines[-1] and used + space + w > limit:
            lines.append([])
            first, used, space = False, 0.0, 0.0
        if space:
            lines[-1].append((" ", f, size, color))
        lines[-1].append((word, f, size, color))
        used += space + w
    mark = shape(LEVEL_MARKS.get(entry.level, "?"), SANS, MARK_SIZE, log, GREY, 1.0)
    return [Line(ordered_line(parts, log, rtl), GUTTER if n == 0 else GUTTER + INDENT, mark if n == 0 else None)
            for n, parts in enumerate(lines)]


@dataclass
class ListLayout:
    """Page geometry of the list pages."""

    page_size: str = "A4"
    columns: int = 2
    direction: str = "ltr"  # "rtl": columns start at the right, lines hug the right edge

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

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
    rtl = layout.rtl
    blocks = [entry_lines(e, width, log, rtl) for e in entries]
    page_w, page_h = layout.size
    text_w = page_w - MARGINS["left"] - MARGINS["right"]

    def start_x(runs, x: float, w: float) -> float:
        # Where a line of this width starts: at the left edge of its box, or against its right edge.
        return x + w - runs_width(runs) if rtl else x

    cap = layout.lines_per_column
    pages: list[bytes] = []
    first_page_header: list[str] = []
    header_lines = 0
    if heading:
        first_page_header.append("0 0 0 rg")
        heading_runs = line_runs(heading, SERIF_BOLD, HEADING_SIZE, log, rtl=rtl)
        draw_runs(first_page_header, heading_runs, start_x(heading_runs, MARGINS["left"], text_w),
                  page_h - MARGINS["top"] - HEADING_SIZE)
        header_lines = int(HEADING_SPACE // LEADING) + 1
        # The note (how the list is ordered, the legend) sits under the heading, wrapped to the page width.
        note_lines = [line for paragraph in note.split("\n") if paragraph.strip()
                      for line in wrap(paragraph, SANS, 6.8, text_w, log, GREY, rtl)]
        for n, line in enumerate(note_lines):
            draw_runs(first_page_header, line, start_x(line, MARGINS["left"], text_w),
                      page_h - MARGINS["top"] - HEADING_SIZE - 11 - n * 9)
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
            if rtl:  # the first column is the rightmost; the mark sits in the gutter at the right
                x = page_w - MARGINS["right"] - width - col * (width + COLUMN_GAP)
            row = 0
            for block in column_blocks:
                for line in block:
                    y = y0 - row * LEADING
                    if rtl:
                        if line.prefix:
                            draw_runs(out, line.prefix, x + width - runs_width(line.prefix), y)
                        draw_runs(out, line.runs, x + width - line.indent - runs_width(line.runs), y)
                    else:
                        if line.prefix:
                            draw_runs(out, line.prefix, x, y)
                        draw_runs(out, line.runs, x + line.indent, y)
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
