"""Rendering time of one-page letters per script with the installed fonts, against an English baseline.

Run: .venv/bin/python bench/fonts.py [rounds]. Prints median milliseconds per render and PDF size; the
languages are interleaved round by round, so a busy machine slows them alike.
"""
import statistics
import sys
import tempfile
import time

sys.path.insert(0, ".")

from markupsafe import escape  # noqa: E402

from petitions.i18n import quote  # noqa: E402
from petitions.pdf.engine.assemble import build  # noqa: E402
from petitions.pdf.engine.document import LetterDocument, SignatoryEntry  # noqa: E402
from tests.i18n_data import ORIGINAL, VERSIONS  # noqa: E402
from tests.test_i18n_pdf import SIGNERS  # noqa: E402

LETTERS = {"en (baseline)": ("en", VERSIONS["en"]), "az": ("az", ORIGINAL), "ru": ("ru", VERSIONS["ru"]),
           "hy": ("hy", VERSIONS["hy"]), "ka": ("ka", VERSIONS["ka"]), "ar": ("ar", VERSIONS["ar"])}
SIGNER = {**SIGNERS, "en": ("Anna Schmidt", "Journalist")}


def render(lang: str, letter: dict) -> bytes:
    """Render one language version with a signatory in its script, unsigned, on an empty letter cache."""
    name, affiliation = SIGNER[lang]
    doc = LetterDocument(
        title=letter["title"], body_html=f"<p>{escape(quote(letter['body'], lang))}</p>",
        demands=list(letter["demands"]), closing=letter["closing"], language=lang,
        signatories=[SignatoryEntry(name=name, affiliation=affiliation, level="email")], appeal_slug=f"v-{lang}")
    with tempfile.TemporaryDirectory() as cache:
        return build(doc, cache).pdf


def main(rounds: int = 5) -> None:
    render("en", VERSIONS["en"])  # warm-up: fontconfig cache, WeasyPrint imports
    times = {label: [] for label in LETTERS}
    sizes = {}
    for _ in range(rounds):
        for label, (lang, letter) in LETTERS.items():
            start = time.perf_counter()
            sizes[label] = len(render(lang, letter))
            times[label].append((time.perf_counter() - start) * 1000)
    base = statistics.median(times["en (baseline)"])
    print(f"{'version':<14} {'median ms':>9} {'vs en':>6} {'PDF kB':>7}")
    for label in LETTERS:
        median = statistics.median(times[label])
        print(f"{label:<14} {median:9.0f} {median / base:6.2f} {sizes[label] / 1024:7.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
