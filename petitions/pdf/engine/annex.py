"""Typeset the annex (headings, label/value rows, paragraphs) and draw the QR code."""
from __future__ import annotations

from petitions.pdf.engine.lists import MARGINS, MM, ListLayout
from petitions.pdf.engine.shaping import GREY, SANS, SERIF, SERIF_BOLD, GlyphLog, draw_runs, line_runs, runs_width, wrap


def typeset_annex(blocks: list[tuple], layout: ListLayout) -> tuple[list[bytes], dict[int, dict[int, str]]]:
    """Lay out ("h", text), ("row", label, value) and ("p", text) blocks on as many pages as needed."""
    log = GlyphLog()
    page_w, page_h = layout.size
    left, width = MARGINS["left"], page_w - MARGINS["left"] - MARGINS["right"]
    label_w = 72 * MM
    rtl = layout.rtl

    def at(runs, x: float, w: float) -> float:
        # A right-to-left annex mirrors: each line against the right edge of its box, labels on the right.
        return x + w - runs_width(runs) if rtl else x
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
            runs = line_runs(block[1], SERIF_BOLD, 12 if block[2:] == () else 10, log, "0.12 0.23 0.37", rtl)
            draw_runs(pages[-1], runs, at(runs, left, width), y)
            y -= 16
        elif kind == "row":
            value_lines = wrap(block[2], SANS, 8.2, width - label_w, log, rtl=rtl)
            need(11 * len(value_lines) + 4)
            label = line_runs(block[1], SANS, 8.2, log, GREY, rtl)
            draw_runs(pages[-1], label, left + width - runs_width(label) if rtl else left, y)
            for line in value_lines:
                draw_runs(pages[-1], line, at(line, left, width - label_w) if rtl else left + label_w, y)
                y -= 11
            pages[-1].append(f"0.8 0.8 0.8 RG 0.3 w {left:.2f} {y + 7:.2f} m {left + width:.2f} {y + 7:.2f} l S")
            y -= 3
        elif kind == "p":
            lines = wrap(block[1], SERIF, 9, width, log, rtl=rtl)
            need(12.5 * len(lines) + 6)
            y -= 4
            for line in lines:
                draw_runs(pages[-1], line, at(line, left, width), y)
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
