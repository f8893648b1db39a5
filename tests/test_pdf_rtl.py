"""Right-to-left PDFs of an Arabic, Persian or Hebrew version, rendered through the jobs path and looked at as images.

The first page is rasterized by pdftoppm (poppler-utils, in the test list of scripts/install-system.sh): the first
line of the body must hug the right margin; pypdf's text extraction must give the sentences in logical order;
the date must be Babel's for the locale.
"""
import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import date

import pytest
from babel.dates import format_date
from PIL import Image
from pypdf import PdfReader

from petitions.appeals import services as appeals
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.pdf.engine.lists import MARGINS
from petitions.signing import operations as signing
from petitions.translations import services as translations

from .i18n_data import ensure_catalogs
from .pdf_files import rendered_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")

DPI = 100
SENTENCES = {
    "ar": ["يقبع الصحفي رشاد علييف في السجن منذ ثمانية أشهر.", "قضيته تنتهك الحق في محاكمة عادلة.",
           "نطالب بالإفراج عنه فوراً."],
    "fa": ["روزنامه‌نگار رشاد علی‌یف هشت ماه است که در زندان است.", "پرونده او حق دادرسی عادلانه را نقض می‌کند."],
    "he": ["העיתונאי רשאד אלייב עצור כבר שמונה חודשים.", "התיק שלו מפר את הזכות להליך הוגן."],
}
TITLES = {"ar": "الحرية لرشاد علييف", "fa": "آزادی برای رشاد علی‌یف", "he": "חופש לרשאד אלייב"}
ORIGINAL = {"title": "Rəşad Əliyevə azadlıq", "place": "Bakı", "letter_date": "2026-12-01",
            "addressees": [{"name": "Secretary General", "institution": "Council of Europe",
                            "salutation": "Dear Secretary General,"}],
            "body": "Jurnalist Rəşad Əliyev səkkiz aydır ki, həbsdədir. Onun işi ədalətli məhkəmə hüququnu pozur.",
            "demands": ["Onu dərhal azad edin."], "closing": "Hörmətlə"}


def rtl_appeal(language: str, *, signers=(("Anna Petrosyan", "Lawyer"), ("مريم علي", "محامية"))):
    """Create an open Azerbaijani appeal with one approved right-to-left version and confirmed signers."""
    owner = register_user("Coalition", "coalition@example.org", "a long password")
    appeal = appeals.create_appeal(owner, ORIGINAL, language="az")
    appeals.publish_appeal(appeal)
    version = {"title": TITLES[language], "body": " ".join(SENTENCES[language]), "closing": "مع الاحترام",
               "place": {"ar": "باكو", "fa": "باکو", "he": "באקו"}[language],
               "addressees": [{"name": "الأمين العام", "institution": "مجلس أوروبا",
                               "salutation": "السيد الأمين العام المحترم،"}]}
    translations.approve(translations.save_translation(appeal, language, version, owner), owner)
    for n, (name, affiliation) in enumerate(signers):
        sig = signing.sign(appeal, name, affiliation, f"signer{n}@example.org", language=language).signature
        signing.confirm(signing.confirmation_token(sig))
    db.session.commit()
    return appeal, owner


def first_page_image(data: bytes, tmp_path, name: str = "page") -> Image.Image:
    """Rasterize the first page with pdftoppm and return it in grey."""
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / name)], check=True)
    return Image.open(tmp_path / f"{name}.png").convert("L")


def line_ink(image: Image.Image, top_pt: float, bottom_pt: float) -> tuple[int, int]:
    """Return the leftmost and rightmost dark pixel columns between two heights (points from the page top)."""
    scale = DPI / 72
    band = image.crop((0, int(top_pt * scale), image.width, int(bottom_pt * scale)))
    dark = band.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert dark, "no ink in the band"
    return dark[0], dark[2]


def device(cm, tm) -> tuple[float, float]:
    """Return where a text matrix puts its origin on the page, in PDF points."""
    x, y = tm[4], tm[5]
    return x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]


def words_top(page, needle: str) -> float:
    """Return the height (points from the top) of the line holding a text, read from the PDF itself."""
    found = []

    needle = normalized(needle)

    def visit(text, cm, tm, font, size):
        if needle in normalized(text):
            found.append(float(page.mediabox.height) - device(cm, tm)[1])
    page.extract_text(visitor_text=visit)
    assert found, needle
    return found[0]


@pytest.fixture
def app(make_app):
    ensure_catalogs()
    app = make_app(MAIL_TRANSPORT="outbox")
    with app.app_context():
        yield app


def assert_date_line(page, language: str, place: str) -> None:
    """Check that one extracted line holds the place and exactly the words of Babel's long date for the locale."""
    wanted = normalized(format_date(date(2026, 12, 1), "long", locale=language)).split()
    lines = [normalized(line) for line in page.extract_text().splitlines() if place in line]
    assert lines, place
    words = re.sub(r"[,،]", " ", lines[0].replace(place, " ")).split()
    glued = re.findall(r"\d+|\D+", " ".join(words))
    assert sorted(wanted) == sorted(w.strip() for w in glued if w.strip()), (wanted, lines[0])


def normalized(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text.replace("\u200c", "")).strip()


def test_arabic_version_pdf_is_laid_out_right_to_left(app, tmp_path):
    ensure_catalogs()
    appeal, _ = rtl_appeal("ar")
    data = rendered_pdf(appeal, variant="lang:ar")
    if os.environ.get("PETITIONS_SAVE_PDF"):
        open(os.environ["PETITIONS_SAVE_PDF"], "wb").write(data)
    reader = PdfReader(io.BytesIO(data))
    first = reader.pages[0]
    text = normalized(first.extract_text())
    # Logical order: the sentences come out as written, one after the other.
    at = [text.find(normalized(s)) for s in SENTENCES["ar"]]
    assert all(i >= 0 for i in at) and at == sorted(at), (at, text)
    # The date as Babel writes it for Arabic, on the line of the place. Extraction cannot undo the visual order
    # of the numbers inside a right-to-left line, so the line must hold exactly the date's words and the place.
    assert_date_line(first, "ar", "باكو")
    assert "باكو" in text and "Dear Secretary General" not in text and "السيد الأمين العام المحترم" in text
    # The page as an image: the body's first line ends at the right margin and starts far from the left one.
    image = first_page_image(data, tmp_path)
    scale = DPI / 72
    width_pt = float(first.mediabox.width)
    top = words_top(first, SENTENCES["ar"][0].split()[0]) - 10
    left, right = line_ink(image, top, top + 12)
    right_edge = (width_pt - 20 * 72 / 25.4) * scale  # print.css: 20 mm right margin
    assert abs(right - right_edge) < 6 * scale, (right, right_edge)
    assert left > (MARGINS["left"] + 30) * scale, left
    if os.environ.get("PETITIONS_SAVE_SCREENSHOTS"):
        image.convert("RGB").save(os.environ["PETITIONS_SAVE_SCREENSHOTS"])


def word_boxes(data: bytes, tmp_path, page: int) -> dict[str, tuple[float, float]]:
    """Return each word's left and right edge on one page (pdftotext -bbox, points), first occurrence only."""
    pdf = tmp_path / "boxes.pdf"
    pdf.write_bytes(data)
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    boxes = {}
    for x_min, x_max, word in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                                         html):
        boxes.setdefault(word, (float(x_min), float(x_max)))
        # Glyphs drawn right to left come out in visual order: keep the word under its logical spelling too.
        boxes.setdefault(word[::-1], (float(x_min), float(x_max)))
    return boxes


def test_signatory_list_of_an_arabic_version_starts_at_the_right(app, tmp_path):
    appeal, _ = rtl_appeal("ar")
    data = rendered_pdf(appeal, variant="lang:ar")
    reader = PdfReader(io.BytesIO(data))
    index = next(i for i, p in enumerate(reader.pages) if "Petrosyan" in (p.extract_text() or ""))
    width = float(reader.pages[index].mediabox.width)
    boxes = word_boxes(data, tmp_path, index + 1)
    right_edge = width - MARGINS["right"]
    # Arabic collation puts مريم first: the first column is the rightmost, its line ends at the right margin
    # (the verification mark sits in the gutter there).
    assert right_edge - 20 < boxes["مريم"][1] <= right_edge + 1, (boxes["مريم"], right_edge)
    assert boxes["Anna"][1] < boxes["مريم"][0]
    # The Latin name is its own left-to-right run; the detail follows it on its left.
    assert boxes["Anna"][1] < boxes["Petrosyan"][0], boxes
    assert boxes["Lawyer"][1] < boxes["Anna"][0], boxes


@pytest.mark.parametrize("language", ["fa", "he"])
def test_persian_and_hebrew_versions_are_right_to_left(app, tmp_path, language):
    appeal, _ = rtl_appeal(language, signers=())
    data = rendered_pdf(appeal, variant=f"lang:{language}")
    first = PdfReader(io.BytesIO(data)).pages[0]
    assert_date_line(first, language, {"fa": "باکو", "he": "באקו"}[language])
    image = first_page_image(data, tmp_path, language)
    scale = DPI / 72
    top = words_top(first, SENTENCES[language][0].split()[0]) - 10
    left, right = line_ink(image, top, top + 12)
    right_edge = (float(first.mediabox.width) - 20 * 72 / 25.4) * scale
    assert abs(right - right_edge) < 6 * scale and left > (MARGINS["left"] + 30) * scale, (left, right)
