"""Serve the Debian-installed fonts under /fonts/, so pages never load fonts from a third-party host."""
import os

from flask import Blueprint, abort, send_file

bp = Blueprint("fonts", __name__, url_prefix="/fonts")

DEJAVU = "/usr/share/fonts/truetype/dejavu"
NOTO = "/usr/share/fonts/truetype/noto"
# Only these files, by name: a font URL must never reach any other file on the server.
# fonts-dejavu-core: Latin (Azerbaijani, Turkish...) and Cyrillic; fonts-noto-core: the other scripts.
ALLOWED = {
    "DejaVuSans.ttf": DEJAVU, "DejaVuSans-Bold.ttf": DEJAVU, "DejaVuSans-Oblique.ttf": DEJAVU,
    "DejaVuSerif.ttf": DEJAVU, "DejaVuSerif-Bold.ttf": DEJAVU, "DejaVuSerif-Italic.ttf": DEJAVU,
    "NotoSansArmenian-Regular.ttf": NOTO, "NotoSansArmenian-Bold.ttf": NOTO,
    "NotoSerifArmenian-Regular.ttf": NOTO, "NotoSerifArmenian-Bold.ttf": NOTO,
    "NotoSansGeorgian-Regular.ttf": NOTO, "NotoSansGeorgian-Bold.ttf": NOTO,
    "NotoSerifGeorgian-Regular.ttf": NOTO, "NotoSerifGeorgian-Bold.ttf": NOTO,
    "NotoSansArabic-Regular.ttf": NOTO, "NotoSansArabic-Bold.ttf": NOTO,
    "NotoNaskhArabic-Regular.ttf": NOTO, "NotoNaskhArabic-Bold.ttf": NOTO,
    "NotoSansHebrew-Regular.ttf": NOTO, "NotoSansHebrew-Bold.ttf": NOTO,
    "NotoSerifHebrew-Regular.ttf": NOTO, "NotoSerifHebrew-Bold.ttf": NOTO,
}
ONE_YEAR = 365 * 24 * 3600


def font_path(name: str) -> str | None:
    """Return the installed file of an allowed font name, or None."""
    folder = ALLOWED.get(name)
    if folder is None:
        return None
    path = os.path.join(folder, name)
    return path if os.path.isfile(path) else None


@bp.get("/<name>")
def font(name: str):
    """Send one allowed font file with long cache headers."""
    path = font_path(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="font/ttf", max_age=ONE_YEAR, conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["Access-Control-Allow-Origin"] = "*"  # fonts are public; lets other tabs reuse the cache
    return response
