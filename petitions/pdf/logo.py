"""Check an uploaded letterhead logo: a real PNG or JPEG, or an SVG without scripts or outside references."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4000 * 4000


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
        return _validate_svg(data), "image/svg+xml"
    from PIL import Image, UnidentifiedImageError

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


_EXTERNAL = re.compile(r"url\(\s*['\"]?(?!#)", re.I)


def _validate_svg(data: bytes) -> bytes:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise LogoError("SVG logos with a DOCTYPE or entities are not accepted.")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise LogoError("The SVG logo is not well-formed XML.") from None
    if not root.tag.endswith("svg"):
        raise LogoError("The logo is not an SVG image.")
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in ("script", "foreignobject", "iframe", "embed", "object", "audio", "video"):
            raise LogoError(f"SVG logos must not contain <{tag}> elements.")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise LogoError(f"SVG logos must not contain scripts (the attribute {local}).")
            if local in ("href", "src") and not value.strip().startswith("#"):
                raise LogoError("SVG logos must not refer to other files or web addresses.")
            if _EXTERNAL.search(value):
                raise LogoError("SVG logos must not refer to other files or web addresses.")
        if tag == "style" and element.text and (_EXTERNAL.search(element.text) or "@import" in element.text):
            raise LogoError("SVG logos must not refer to other files or web addresses.")
    return data
