"""Rendering time of one-page letters per script with the installed fonts, against an English baseline.

Run: .venv/bin/python bench/fonts.py [rounds]. Prints median milliseconds per render and PDF size.
"""
import statistics
import sys
import time

sys.path.insert(0, ".")

from tests.i18n_data import ORIGINAL, VERSIONS  # noqa: E402
from tests.test_i18n_pdf import letter_html, render  # noqa: E402

LETTERS = {"en (baseline)": ("en", VERSIONS["en"]), "az": ("az", ORIGINAL), "ru": ("ru", VERSIONS["ru"]),
           "hy": ("hy", VERSIONS["hy"]), "ka": ("ka", VERSIONS["ka"]), "ar": ("ar", VERSIONS["ar"])}


def main(rounds: int = 5) -> None:
    render(letter_html("en", VERSIONS["en"]))  # warm-up: fontconfig cache, WeasyPrint imports
    base = None
    print(f"{'version':<14} {'median ms':>9} {'vs en':>6} {'PDF kB':>7}")
    for label, (lang, letter) in LETTERS.items():
        html = letter_html(lang, letter)
        times, size = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            size = len(render(html))
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        base = base or median
        print(f"{label:<14} {median:9.0f} {median / base:6.2f} {size / 1024:7.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
