"""Draw the share image for titles in Azerbaijani, Russian and Arabic into docs/screenshots/ (share-<lang>.png).

Run from the repository root: python scripts/share_screenshots.py. No database: the appeal is not stored.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from petitions import create_app  # noqa: E402
from petitions.appeals.models import Appeal  # noqa: E402
from petitions.appeals.share_image import draw, texts  # noqa: E402

TITLES = {
    "az": ("Jurnalist Nərmin Qasımlını azad edin və müxbirlərə qarşı təqiblərə son qoyun", 1234, 5000),
    "ru": ("Освободите журналистку Нармин Гасымлы и прекратите преследование репортёров", 87, 1000),
    "ar": ("أطلقوا سراح الصحفية نرمين قاسملي وأوقفوا الانتقام من المراسلين في كل مكان", 12480, 20000),
}
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "screenshots")


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"SECRET_KEY": "screenshots", "EMAIL_HASH_KEY": "screenshots", "DATA_KEYS": [
            "ZmFrZS1rZXktZm9yLXNjcmVlbnNob3RzLW9ubHktMDA="], "SQLALCHEMY_DATABASE_URI":
            f"sqlite:///{instance}/unused.sqlite"})
        with app.test_request_context():
            for language, (title, count, goal) in TITLES.items():
                appeal = Appeal(slug=f"share-{language}", title=title, original_language=language)
                appeal.signature_count, appeal.signature_goal = count, goal
                path = os.path.join(OUT, f"share-{language}.png")
                with open(path, "wb") as fh:
                    fh.write(draw(texts(appeal, title, language), language))
                print(path)


if __name__ == "__main__":
    main()
