"""Build the final PDF from a LetterDocument: letter and annex by WeasyPrint, list pages from chunks.

Page decorations ("Page X of Y", the running title) are stamped on the merged pages in one cheap pass,
so a chunk never needs to know where it lands and numbering is continuous by construction.
"""
from __future__ import annotations

import base64
import gettext
import hashlib
import io
import json
import os
import string
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import pikepdf
import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from petitions.pdf.engine import chunks as chunking
from petitions.pdf.engine.document import (
    LEVEL_DESCRIPTIONS, LEVEL_LABELS, LEVEL_MARKS, LetterDocument, SignatoryEntry, grouped_entries, paragraphs,
)
from petitions.pdf.engine.files import write_atomically
from petitions.pdf.engine.fonts import embed_fonts
from petitions.pdf.engine.logo import LogoError, sanitize_svg
from petitions.pdf.engine.annex import qr_operators, typeset_annex
from petitions.pdf.engine.lists import MARGINS, MM, ListLayout
from petitions.pdf.engine.shaping import GREY, SANS, GlyphLog, draw_runs, line_runs, runs_width, shape
from petitions.pdf.engine.words import _, ngettext, number, speaking, words_direction

_HERE = os.path.dirname(__file__)
_TEMPLATES = os.path.join(_HERE, "templates")
_STYLESHEET = os.path.join(_HERE, "print.css")
_env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))

PAGE_LABEL = {"en": "Page {x} of {y}", "fr": "Page {x} sur {y}", "de": "Seite {x} von {y}",
              "ru": "Страница {x} из {y}", "az": "Səhifə {x} / {y}", "uk": "Сторінка {x} з {y}"}
Progress = Callable[[str, float], None]
LETTER_VERSION = "letter-4"


class InlineOnly(URLFetcher):
    """Fetch only inline data: URLs, and rebuild any markup they hold from the logo allow-list."""

    def fetch(self, url, headers=None):
        response = super().fetch(url, headers)
        body, mime = response.read(), response.content_type
        response.close()
        # An SVG is a document that may refer to others: rebuild it, whatever stored or wrote it. WeasyPrint
        # also tries markup under any other type as SVG, so markup is rebuilt whatever its declared type.
        if mime == "image/svg+xml" or body.lstrip()[:1] == b"<":
            try:
                body, mime = sanitize_svg(body), "image/svg+xml"
            except LogoError as exc:
                raise ValueError(str(exc)) from None
        return URLFetcherResponse(response.url, body, {"Content-Type": mime})


def url_fetcher() -> InlineOnly:
    """Allow only inline data: URLs, so a document can never read local files or call out."""
    return InlineOnly(allowed_protocols={"data"}, fail_on_errors=False)


def print_stylesheet(page_size: str = "A4") -> list[CSS]:
    """Return the one print stylesheet, with the page size chosen for this document."""
    with open(_STYLESHEET, encoding="utf-8") as fh:
        sheets = [CSS(string=fh.read(), url_fetcher=url_fetcher())]
    if page_size == "Letter":
        sheets.append(CSS(string="@page { size: Letter; }"))
    return sheets


def _date_text(doc: LetterDocument) -> str:
    return doc.date_text or (doc.date or doc.generated_at.date()).isoformat()


def front_html(doc: LetterDocument) -> str:
    """Return the HTML of the letter; it holds nothing that changes with each new signature."""
    logo_uri = None
    if doc.logo:
        logo_uri = f"data:{doc.logo.mime};base64,{base64.b64encode(doc.logo.data).decode()}"
    return _env.get_template("letter.html").render(
        doc=doc, logo_uri=logo_uri, date_text=_date_text(doc), has_signatories=bool(doc.signatory_count),
        words_dir=words_direction(),
        closing_paragraphs=paragraphs(doc.closing),
        earlier=[(g, paragraphs(g.closing)) for g in doc.earlier_revisions], _=_,
    )


def render_translations(doc: LetterDocument, cache_dir: str | None) -> bytes | None:
    """Render the language versions annexed to a combined PDF (cached like the letter), or None."""
    if not doc.translations:
        return None
    html_text = _env.get_template("translation.html").render(
        doc=doc, versions=[(t, t.direction, t.language_name or t.language) for t in doc.translations],
        paragraphs=paragraphs, _=_)
    key = hashlib.sha256(f"{LETTER_VERSION}|{doc.page_size}|".encode() + html_text.encode()
                         + open(_STYLESHEET, "rb").read()).hexdigest()
    path = os.path.join(cache_dir, f"translations-{key}.pdf") if cache_dir else None
    if path and os.path.exists(path):
        with open(path, "rb") as fh:
            return fh.read()
    html = HTML(string=html_text, base_url=None, url_fetcher=url_fetcher())
    data = html.write_pdf(stylesheets=print_stylesheet(doc.page_size), pdf_tags=True)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        write_atomically(path, data)
    return data


@dataclass
class Letter:
    """The rendered letter pages, where the QR code goes on the first page, where each earlier text starts."""

    pdf: bytes
    qr_box: tuple[float, float, float] | None  # x, top y, size in PDF points
    sections: dict[int, int] = field(default_factory=dict)  # earlier revision number -> its first page index


def render_letter(doc: LetterDocument, cache_dir: str | None, archival: bool = False) -> Letter:
    """Render the letter with WeasyPrint, or reuse the cached render of the same letter."""
    html_text = front_html(doc)
    key = hashlib.sha256(f"{LETTER_VERSION}|{archival}|{doc.page_size}|".encode() + html_text.encode()
                         + open(_STYLESHEET, "rb").read()).hexdigest()
    path = os.path.join(cache_dir, f"letter-{key}.pdf") if cache_dir else None
    if path and os.path.exists(path) and os.path.exists(path + ".json"):
        with open(path, "rb") as fh, open(path + ".json", encoding="utf-8") as meta:
            info = json.load(meta)
            box = info["qr_box"]
            return Letter(fh.read(), tuple(box) if box else None,
                          {int(k): v for k, v in info.get("sections", {}).items()})
    html = HTML(string=html_text, base_url=None, url_fetcher=url_fetcher())
    rendered = html.render(stylesheets=print_stylesheet(doc.page_size), pdf_tags=True)
    height = ListLayout(doc.page_size).size[1]
    anchor = rendered.pages[0].anchors.get("qr-slot")
    # Anchors are CSS pixels from the top left; PDF points go up from the bottom left.
    box = (anchor[0] * 0.75, height - anchor[1] * 0.75, 19 * MM) if anchor else None
    sections = {}
    for index, page in enumerate(rendered.pages):
        for name in page.anchors:
            if name.startswith("revision-") and name[9:].isdigit():
                sections.setdefault(int(name[9:]), index)
    options = {"pdf_tags": True}
    if archival:
        options["pdf_variant"] = "pdf/a-3b"
    data = rendered.write_pdf(**options)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        with open(path + ".json", "w", encoding="utf-8") as meta:
            json.dump({"qr_box": box, "sections": sections}, meta)
        write_atomically(path, data)
    return Letter(data, box, sections)


def annex_blocks(doc: LetterDocument, document_id: str, verify_url: str,
                 first_pages: dict[int, int] | None = None) -> list[tuple]:
    """Return what the annex says: counts per revision and per level present, the text's hash, when it was made.

    `first_pages` maps a revision number to the page its signatory list starts on.
    """
    first_pages = first_pages or {}
    counts = doc.level_counts()
    listed = doc.signatory_count
    total = max(doc.counted_total or 0, listed)
    summary = (_("Signatories (%(total)s)", total=number(total)) if total == listed else
               _("Signatories (%(total)s), of whom %(listed)s are named in this copy; the others are counted "
                 "but chose not to be named here.", total=number(total), listed=number(listed)))
    blocks: list[tuple] = [("h", _("Annex: how this document was made")), ("p", summary)]
    if doc.earlier_revisions:
        # Every named signatory signed exactly one text: the rows below add up to the named total.
        parts = [(doc.revision_number, len(doc.signatories), True)]
        parts += [(g.revision_number, len(g.signatories), False) for g in doc.earlier_revisions]
        for revision, n, is_current in parts:
            label = (_("Signed the current text, revision %(n)s", n=revision) if is_current
                     else _("Signed the earlier text, revision %(n)s", n=revision))
            page = first_pages.get(revision)
            value = (_("%(count)s (list from page %(page)s)", count=number(n), page=page) if page and n
                     else number(n))
            blocks.append(("row", label, value))
    blocks.append(("row", _("Named in this copy"), number(listed)))
    if doc.organization_count:  # organizations are printed in bold, with who signed for them
        blocks.append(("row", _("On behalf of an organization"), number(doc.organization_count)))
    for level, n in counts.items():
        blocks.append(("row", f"   {LEVEL_MARKS[level]}  {str(LEVEL_LABELS[level])}", number(n)))
    blocks += [
        ("row", _("Text"), _("revision %(n)s, language version “%(language)s”", n=doc.revision_number,
                             language=doc.language)),
        ("row", _("Text fingerprint (SHA-256)"), doc.revision_hash or "–"),
    ]
    for g in doc.earlier_revisions:
        blocks.append(("row", _("Earlier text, revision %(n)s", n=g.revision_number), g.revision_hash))
    blocks.append(("row", _("Generated"), doc.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")))
    if document_id:
        blocks.append(("row", _("Document"), document_id))
    if verify_url:
        blocks.append(("row", _("Verify at"), verify_url))
    if counts:
        blocks.append(("h", _("How the signatures were verified"), "small"))
    for level, n in counts.items():
        blocks.append(("p", f"{LEVEL_MARKS[level]}  " + LEVEL_DESCRIPTIONS[level](n)))
    blocks.append(("p", _("Names are printed as the signatories entered them. This file carries the digital "
                          "signature of the service that collected the signatures: any change made to it "
                          "afterwards shows at the address above, which the QR code on the first page opens.")))
    return blocks


@dataclass
class BuildResult:
    """The finished (unsigned) PDF and what went into it."""

    pdf: bytes
    pages: int
    chunks: int
    rendered_chunks: int
    timings: dict[str, float] = field(default_factory=dict)


def legend_note(doc: LetterDocument, entries: list[SignatoryEntry], intro: bool = True) -> str:
    """Return the note under a list's heading: how it is ordered and the marks of the levels it contains."""
    present = {e.level for e in entries}
    legend = " · ".join(f"{LEVEL_MARKS[level]} {LEVEL_LABELS[level]}" for level in LEVEL_LABELS if level in present)
    if doc.grouping == "kind":
        order = _("Organizations first, then individuals, each in alphabetical order of surname.")
    elif doc.grouping == "country":
        order = _("By country, then in alphabetical order of surname.")
    else:
        order = _("In alphabetical order of surname.")
    lines = [order + " " + _("The letter before each name says how the signature was verified; the annex gives "
                             "the counts.")] if intro else []
    return "\n".join([*lines, _("Marks: %(legend)s", legend=legend)])


def list_specs(doc: LetterDocument) -> tuple[list[chunking.ChunkSpec], list[list[chunking.ChunkSpec]]]:
    """Plan the chunks of the current list and, one list each, of the earlier revisions' lists."""
    layout = ListLayout(doc.page_size, doc.columns, doc.direction)
    groups = grouped_entries(doc)
    if doc.earlier_revisions:
        # With earlier texts in the file, the heading says which text these people signed.
        heading = _("Signatories of the current text (revision %(n)s)", n=doc.revision_number)
        groups = [(heading if i == 0 and not title else (f"{heading}: {title}" if i == 0 else title), entries)
                  for i, (title, entries) in enumerate(groups)] or [(heading, [])]
    else:
        groups = [(title or _("Signatories"), entries) for title, entries in groups]
    if doc.signatories:
        note = legend_note(doc, list(doc.signatories))
        if doc.earlier_revisions:  # say at once where the others are
            others = sum(len(g.signatories) for g in doc.earlier_revisions)
            note += "\n" + ngettext("%(count)s more signatory signed an earlier text; each earlier text follows, "
                                    "with its own signatories. The annex gives the totals.",
                                    "%(count)s more signatories signed an earlier text; each earlier text follows, "
                                    "with its own signatories. The annex gives the totals.", others,
                                    count=number(others))
        current = chunking.plan(groups, layout, note)
    elif doc.earlier_revisions:
        current = chunking.plan(groups, layout, _("Nobody has signed the current text yet; the signatories of "
                                                  "earlier texts follow, each after the text they signed."))
    else:
        current = []
    earlier = [chunking.plan([(_("Signatories of revision %(n)s (text fingerprint %(hash)s…)",
                                 n=g.revision_number, hash=g.revision_hash[:16]), g.signatories)],
                             layout, legend_note(doc, list(g.signatories), intro=False))
               for g in doc.earlier_revisions]
    return current, earlier


def build(doc: LetterDocument, cache_dir: str, *, catalog: gettext.NullTranslations | None = None,
          **options) -> BuildResult:
    """Render the whole PDF, its own words from `catalog` (None: English), typesetting only uncached chunks."""
    with speaking(catalog, doc.language):
        return _build(doc, cache_dir, **options)


def _build(doc: LetterDocument, cache_dir: str, *, document_id: str = "", verify_url: str = "",
           archival: bool = False, csv_data: bytes | None = None, workers: int = 2,
           progress: Progress | None = None) -> BuildResult:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    current, earlier = list_specs(doc)
    specs = current + [spec for group in earlier for spec in group]
    timings["plan"] = time.perf_counter() - t0

    def chunk_progress(done: int, total: int) -> None:
        if progress:
            progress("list", done / total if total else 1.0)

    chunk_list, rendered = chunking.render_all(specs, cache_dir, workers=workers, progress=chunk_progress)
    timings["list"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    letter = render_letter(doc, cache_dir, archival)
    layout = ListLayout(doc.page_size, doc.columns, doc.direction)
    pdf = pikepdf.open(io.BytesIO(letter.pdf))
    width, height = layout.size
    rendered_pages = len(pdf.pages)
    # The order a reader needs: the current text and its signatories, then each earlier text with its own.
    lists: list[tuple[int, list[bytes]]] = [(doc.revision_number, [p for c in chunk_list[:len(current)]
                                                                    for p in c.pages])]
    at = len(current)
    for g, group_specs in zip(doc.earlier_revisions, earlier):
        lists.append((g.revision_number, [p for c in chunk_list[at:at + len(group_specs)] for p in c.pages]))
        at += len(group_specs)
    starts = [letter.sections.get(g.revision_number, rendered_pages) for g in doc.earlier_revisions]
    bounds = [*starts, rendered_pages]  # where each list goes in the WeasyPrint pages: after its text
    first_pages: dict[int, int] = {}  # revision number -> the page number its list starts on
    inserted = 0
    for (number, pages), bound in zip(lists, bounds):
        if pages:
            first_pages[number] = bound + inserted + 1
        inserted += len(pages)
    annex_pages, annex_glyphs = typeset_annex(annex_blocks(doc, document_id, verify_url, first_pages), layout)
    timings["letter"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    if progress:
        progress("merge", 0.0)
    annex = [zlib.compress(p, 6) for p in annex_pages]
    translations = render_translations(doc, cache_dir)
    translation_pdf = pikepdf.open(io.BytesIO(translations)) if translations else None
    translation_pages = len(translation_pdf.pages) if translation_pdf else 0
    list_pages = sum(len(pages) for _n, pages in lists)
    total = rendered_pages + list_pages + len(annex) + translation_pages

    log = GlyphLog()
    for c in chunk_list:
        log.merge(c.glyphs)
    log.merge(annex_glyphs)
    log.merge(_id_glyphs(layout))
    stamps = _stamps(doc, total, width, height, log)
    fonts = pdf.make_indirect(embed_fonts(pdf, log.used, cache_dir))
    resources = pdf.make_indirect(pikepdf.Dictionary(Font=fonts))
    added: list[tuple[int, str]] = []  # (page index, structure kind) of the pages typeset here
    inserted = 0
    for (number, pages), bound in zip(lists, bounds):
        index = bound + inserted
        for offset, content in enumerate(pages):
            pdf.pages.insert(index + offset, _page(pdf, content, width, height, resources))
            added.append((index + offset, "L"))
        inserted += len(pages)
    annex_at = len(pdf.pages)
    pdf.pages.extend([_page(pdf, content, width, height, resources) for content in annex])
    added += [(annex_at + i, "Sect") for i in range(len(annex))]
    _tag_added_pages(pdf, added)
    if translation_pdf is not None:
        pdf.pages.extend(translation_pdf.pages)

    ours = {index for index, _kind in added}
    for index, page in enumerate(pdf.pages):
        _stamp(pdf, page, stamps[index], fonts, added=index in ours)
    if verify_url and letter.qr_box:
        x, top, size = letter.qr_box
        matrix = segno.make(verify_url, error="m").matrix
        pdf.pages[0].contents_add(pdf.make_stream(b"/Artifact BMC\n" + qr_operators(matrix, x, top, size)
                                                  + b"\nEMC\n"))
    if archival:
        _attach_csv(pdf, csv_data or b"", doc)
    if document_id:
        pdf.docinfo[pikepdf.Name("/PetitionsDocument")] = document_id
    out = io.BytesIO()
    # Streams keep their encoding: chunks arrive compressed, and recompressing 100,000 names costs seconds.
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=True)
    timings["merge"] = time.perf_counter() - t2
    if progress:
        progress("merge", 1.0)
    return BuildResult(out.getvalue(), total, len(specs), rendered, timings)


def _attach_csv(pdf: pikepdf.Pdf, data: bytes, doc: LetterDocument) -> None:
    # PDF/A-3 wants the relationship and the /AF array on the catalog, besides the usual name tree.
    spec = pikepdf.AttachedFileSpec(pdf, data, description="Signatories, as in the CSV export",
                                    filename="signatories.csv", mime_type="text/csv",
                                    relationship=pikepdf.Name.Data)
    pdf.attachments["signatories.csv"] = spec
    filespec = pdf.Root.Names.EmbeddedFiles.Names[-1]
    if "/AF" not in pdf.Root:
        pdf.Root.AF = pikepdf.Array()
    if not any(item.objgen == filespec.objgen for item in pdf.Root.AF):
        pdf.Root.AF.append(filespec)


# Every character a document id (secrets.token_urlsafe) or a verification link may hold.
ID_CHARACTERS = string.ascii_letters + string.digits + "-_.:/?=&%#~+"


def _id_glyphs(layout: ListLayout) -> dict[int, dict[int, str]]:
    """Return the glyphs of every character a document id or link may hold, as the annex's rows set them.

    Each render prints a new random id: with these always embedded, the font subsets (fontTools, about 0.35 s)
    stay the same from one render to the next and come from the cache.
    """
    return typeset_annex([("row", "ID", ID_CHARACTERS)], layout)[1]


def _page(pdf: pikepdf.Pdf, content: bytes, width: float, height: float, resources) -> pikepdf.Page:
    stream = pikepdf.Stream(pdf, b"")
    stream.write(content, filter=pikepdf.Name.FlateDecode)
    return pikepdf.Page(pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, width, height],
                                           Resources=resources, Contents=stream))


def _stamps(doc: LetterDocument, total: int, width: float, height: float, log: GlyphLog) -> list[bytes]:
    # The catalog's words where the document's language has a catalog; PAGE_LABEL for the others (uk).
    label = _("Page {x} of {y}")
    if label == "Page {x} of {y}":
        label = PAGE_LABEL.get((doc.language or "en").split("-")[0], PAGE_LABEL["en"])
    title = doc.title if len(doc.title) <= 90 else doc.title[:88] + "…"
    title_runs = line_runs(title, SANS, 7.2, log, GREY, doc.direction == "rtl")
    left = doc.coalition[:60]
    left_runs = line_runs(left, SANS, 7.2, log, GREY, doc.direction == "rtl") if left else []
    # The running header mirrors in a right-to-left document: the coalition at the start side, the title at the end.
    title_x = width - MARGINS["right"] - runs_width(title_runs)
    left_x = MARGINS["left"]
    if doc.direction == "rtl":
        title_x, left_x = MARGINS["left"], width - MARGINS["right"] - runs_width(left_runs)
    head_y = height - MARGINS["top"] + 10
    rule_y = head_y - 3.5
    result = []
    for page in range(1, total + 1):
        out = ["/Artifact BMC q"]
        if page > 1:
            draw_runs(out, title_runs, title_x, head_y)
            if left_runs:
                draw_runs(out, left_runs, left_x, head_y)
            out.append(f"0.75 0.75 0.75 RG 0.4 w {MARGINS['left']:.2f} {rule_y:.2f} m "
                       f"{width - MARGINS['right']:.2f} {rule_y:.2f} l S")
        foot = shape(label.format(x=number(page), y=number(total)), SANS, 7.5, log, "0.25 0.25 0.25")
        draw_runs(out, foot, (width - runs_width(foot)) / 2, MARGINS["bottom"] - 12)
        out.append("Q EMC")
        result.append("\n".join(out).encode("ascii"))
    return result


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, stamp: bytes, fonts, added: bool) -> None:
    if not added:
        resources = page.obj.get("/Resources")
        if resources is None:
            page.obj.Resources = resources = pikepdf.Dictionary()
        font_dict = resources.get("/Font")
        if font_dict is None:
            resources.Font = fonts
        elif font_dict.objgen != fonts.objgen:
            for name, font in fonts.items():
                font_dict[name] = font
        # The page's own drawing may leave a transformed state behind; isolate it.
        page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(pdf.make_stream(b"\nQ\n" + stamp))
    else:
        page.contents_add(pdf.make_stream(b"\n" + stamp))


def _tag_added_pages(pdf: pikepdf.Pdf, added: list[tuple[int, str]]) -> None:
    """Link the typeset pages into the letter's structure tree, so screen readers reach the names."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None or not added:
        return
    document = root.K[0] if isinstance(root.K, pikepdf.Array) else root.K
    nums = root.ParentTree.get("/Nums")
    if nums is None:
        return  # a deep number tree from another producer: leave the added pages untagged
    next_key = int(root.get("/ParentTreeNextKey", len(nums) // 2))
    kids = document.K if isinstance(document.K, pikepdf.Array) else pikepdf.Array([document.K])
    parent = None
    previous = (None, -2)
    for index, kind in added:
        if (kind, index - 1) != previous:  # a new run of pages (after a text, or of another kind)
            parent = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name("/" + kind), P=document, K=pikepdf.Array()))
            kids.append(parent)
        previous = (kind, index)
        page = pdf.pages[index]
        element = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.LI if kind == "L" else pikepdf.Name.P,
            P=parent, Pg=page.obj, K=0))
        parent.K.append(element)
        page.obj.StructParents = next_key
        nums.append(next_key)
        nums.append(pikepdf.Array([element]))
        next_key += 1
    document.K = kids
    root.ParentTreeNextKey = next_key
