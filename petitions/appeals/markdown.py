"""Render appeal text: Markdown by markdown-it-py, then sanitized by nh3."""
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML is off at the parser and anything that slips through is removed by nh3.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
# Letter closings and signatures keep every line break the organizer typed ("…disposal.\nRespectfully,").
_md_lines = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "blockquote",
    "ul", "ol", "li", "a", "code", "pre", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
# The Content-Security-Policy blocks inline styles; table alignment survives as the align attribute.
_ALIGN_STYLE = re.compile(r'style="text-align:(left|right|center)"')


def render_markdown(text: str, line_breaks: bool = False) -> Markup:
    """Return safe HTML for Markdown text; with line_breaks, a single newline is a line break too."""
    html = _ALIGN_STYLE.sub(r'align="\1"', (_md_lines if line_breaks else _md).render(text or ""))
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)
