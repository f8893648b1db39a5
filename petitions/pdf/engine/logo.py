"""Check an uploaded letterhead logo: a real PNG or JPEG, or an SVG rebuilt from an allow-list."""
from __future__ import annotations

import io
import re

import tinycss2
from lxml import etree
from PIL import Image, UnidentifiedImageError

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4000 * 4000

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


class LogoError(ValueError):
    """The upload cannot be used as a logo; the message says why."""


def validate_logo(data: bytes) -> tuple[bytes, str]:
    """Return (data, mime type) of an acceptable logo, or raise LogoError with the reason."""
    if not data:
        raise LogoError("The logo file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(f"The logo is {len(data) // 1024} KB; the limit is {MAX_LOGO_BYTES // 1024} KB.")
    head = data[:512].lstrip()
    if head.startswith(b"<") and (b"<svg" in data[:4096] or head.startswith(b"<?xml")):
        return sanitize_svg(data), "image/svg+xml"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise LogoError("The logo is not an image: upload a PNG, JPEG or SVG file.") from None
    if kind not in ("PNG", "JPEG"):
        raise LogoError(f"{kind} images are not accepted: upload a PNG, JPEG or SVG file.")
    if width * height > MAX_LOGO_PIXELS:
        raise LogoError(f"The logo is {width}×{height} pixels; at most 4000×4000 are accepted.")
    return data, "image/png" if kind == "PNG" else "image/jpeg"


# Drawing elements only: nothing that runs code, embeds other documents or pulls in images or styles.
_ELEMENTS = {
    "svg", "g", "defs", "symbol", "use", "title", "desc", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
}
_REFUSED = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video", "image", "feimage",
            "handler", "listener", "set", "animate", "animatetransform", "animatemotion", "a"}
_GEOMETRY = {
    "x", "y", "width", "height", "rx", "ry", "cx", "cy", "r", "fx", "fy", "x1", "y1", "x2", "y2", "points", "d",
    "transform", "viewBox", "preserveAspectRatio", "version", "id", "offset", "gradientUnits", "gradientTransform",
    "spreadMethod", "clipPathUnits", "maskUnits", "maskContentUnits", "dx", "dy", "rotate", "textLength",
    "lengthAdjust", "pathLength",
}
# Presentation attributes, which are also the only properties a style="" may set.
_PRESENTATION = {
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
    "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "stop-color",
    "stop-opacity", "clip-path", "clip-rule", "mask", "visibility", "display", "color", "font-family",
    "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "letter-spacing",
    "word-spacing", "text-decoration",
}
_INTERNAL_URL = re.compile(r"\s*url\(\s*['\"]?#[\w.:-]+['\"]?\s*\)\s*", re.I)
_INTERNAL_HREF = re.compile(r"#[\w.:-]+")
# CSS escapes, at-rules, declarations and markup have no place in a presentation value; without a
# backslash "url(" cannot be spelled any other way, so the word check below is complete.
_UNSAFE_VALUE = re.compile(r"[\\@;{}<>]|url\s*\(|expression|javascript|image-set|\bimage\s*\(|\bsrc\s*\(", re.I)
_EXTERNAL = "SVG logos must not refer to other files or web addresses."


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _css_refers_outside(tokens) -> bool:
    """Tell whether CSS tokens (escapes already decoded by tinycss2) fetch anything or import rules."""
    for token in tokens:
        kind = getattr(token, "type", "")
        if kind == "url" and not token.value.startswith("#"):
            return True
        keyword = getattr(token, "lower_at_keyword", None) or (token.lower_value if kind == "at-keyword" else None)
        if keyword in ("import", "font-face", "namespace"):
            return True
        if kind == "function" and token.lower_name in ("url", "image", "image-set", "src", "element", "cross-fade"):
            argument = tinycss2.serialize(token.arguments).strip(" '\"")
            if not (token.lower_name == "url" and argument.startswith("#")):
                return True
        for attr in ("arguments", "content", "prelude", "value"):
            nested = getattr(token, attr, None)
            if isinstance(nested, list) and _css_refers_outside(nested):
                return True
    return False


def _safe_value(name: str, value: str) -> bool:
    if name in ("fill", "stroke", "clip-path", "mask") and _INTERNAL_URL.fullmatch(value):
        return True
    return not _UNSAFE_VALUE.search(value)


def _declarations(style: str) -> dict[str, str]:
    """Return the presentation properties of a style attribute that are safe to keep as attributes."""
    tokens = tinycss2.parse_component_value_list(style)
    if _css_refers_outside(tokens):
        raise LogoError(_EXTERNAL)
    kept = {}
    for item in tinycss2.parse_blocks_contents(style, skip_whitespace=True, skip_comments=True):
        if item.type != "declaration" or item.lower_name not in _PRESENTATION or item.important:
            continue
        value = tinycss2.serialize(item.value).strip()
        if _safe_value(item.lower_name, value):
            kept[item.lower_name] = value
    return kept


def sanitize_svg(data: bytes) -> bytes:
    """Return the SVG rebuilt from allowed elements and attributes, or raise LogoError if it is hostile."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LogoError("SVG logos with a DOCTYPE or entities are not accepted.")
    # No DTD, no entity expansion, no network: the parser itself cannot be made to read anything.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=True, remove_comments=True, recover=False)
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        raise LogoError("The SVG logo is not well-formed XML.") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise LogoError("SVG logos with a DOCTYPE or entities are not accepted.")
    if not isinstance(root.tag, str) or _local(root.tag) != "svg" or etree.QName(root).namespace not in (None, SVG_NS):
        raise LogoError("The logo is not an SVG image.")
    _check(root)
    _clean(root)
    _check_references(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)


def _check(root) -> None:
    """Refuse, with a reason, what can only be an attack: scripts, handlers and outside references."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            if isinstance(element, etree._Entity):
                raise LogoError("SVG logos with a DOCTYPE or entities are not accepted.")
            continue
        tag = _local(element.tag).lower()
        for name, value in element.attrib.items():
            local = _local(name).lower()
            if local.startswith("on"):
                raise LogoError(f"SVG logos must not contain scripts (the attribute {local}).")
            if local in ("href", "src") and not _INTERNAL_HREF.fullmatch(value.strip()):
                raise LogoError(_EXTERNAL)
            if local == "style":
                _declarations(value)
            elif not _safe_value(local, value) and re.search(r"url|\\|@", value, re.I):
                raise LogoError(_EXTERNAL)
        if tag in _REFUSED:
            raise LogoError(f"SVG logos must not contain <{tag}> elements.")
        if tag == "style" and _css_refers_outside(tinycss2.parse_stylesheet(element.text or "")):
            raise LogoError(_EXTERNAL)


def _check_references(root) -> None:
    """Refuse <use> chains: each level multiplies the drawing, so ten short lines can take hours to render."""
    by_id = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for element in root.iter():
        if not isinstance(element.tag, str) or _local(element.tag) != "use":
            continue
        href = element.get("href") or element.get(f"{{{XLINK_NS}}}href") or ""
        target = by_id.get(href.strip()[1:])
        if target is not None and any(isinstance(e.tag, str) and _local(e.tag) == "use" for e in target.iter()):
            raise LogoError("SVG logos must not repeat shapes that themselves repeat others (nested <use>).")


def _clean(element) -> None:
    """Keep allowed SVG elements and attributes only; styles become presentation attributes."""
    style = element.attrib.get("style")
    declarations = _declarations(style) if style else {}
    for name in list(element.attrib):
        qname = etree.QName(name)
        local, namespace = qname.localname, qname.namespace
        value = element.attrib[name]
        keep = False
        if namespace is None and (local in _GEOMETRY or local in _PRESENTATION):
            keep = _safe_value(local, value)
        elif local == "href" and namespace in (None, XLINK_NS):
            keep = True  # _check allowed internal references only
        elif namespace == XML_NS and local in ("space", "lang"):
            keep = not _UNSAFE_VALUE.search(value)
        if not keep:
            del element.attrib[name]
    for name, value in declarations.items():
        if name not in element.attrib:
            element.set(name, value)
    for child in list(element):
        namespace = etree.QName(child).namespace if isinstance(child.tag, str) else "-"
        if not isinstance(child.tag, str) or namespace not in (None, SVG_NS) or _local(child.tag) not in _ELEMENTS:
            _drop(child)
        else:
            _clean(child)


def _drop(element) -> None:
    """Remove an element and its subtree, keeping the text that follows it."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
