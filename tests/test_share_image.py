"""The share image: a 1200×630 PNG per language version, drawn again only when what it shows changes."""
import io
import os

import pytest
from PIL import Image, features

from petitions.appeals import share_image
from petitions.auth.services import register_user
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature
from petitions.translations import services as translations

from .conftest import new_appeal

ARABIC = "أطلقوا سراح الصحفيين"


def published(title="Free the reporters", goal=None):
    owner = register_user("Owner", "owner@example.org", "a long password")
    appeal = new_appeal(owner, title, "PACE", "We ask for their release.")
    appeal.signature_goal = goal
    appeal.publish()
    db.session.commit()
    return appeal


def sign(appeal, start, n):
    for i in range(start, start + n):
        signature = Signature(appeal=appeal, full_name=f"Signer {i}", email_hash=f"{i:064d}",
                              text_hash=appeal.content_hash, consent_at=utcnow())
        signature.confirm()
        db.session.add(signature)
    db.session.commit()


def kept_images(app) -> list[str]:
    folder = os.path.join(app.instance_path, share_image.FOLDER)
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def ink(png: bytes, top=140, bottom=420) -> tuple[int, int]:
    """Return the white title pixels in the left and the right half of the title's band."""
    image = Image.open(io.BytesIO(png)).convert("L").crop((0, top, share_image.WIDTH, bottom))
    half = share_image.WIDTH // 2
    def white(box):
        return image.crop(box).point(lambda p: 255 if p > 200 else 0).histogram()[255]
    return white((0, 0, half, bottom - top)), white((half, 0, share_image.WIDTH, bottom - top))


def test_the_image_is_a_1200_by_630_png_with_validators(app, client):
    appeal = published(goal=100)
    answer = client.get(f"/a/{appeal.slug}/share.png")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    image = Image.open(io.BytesIO(answer.data))
    assert image.format == "PNG" and image.size == (1200, 630)
    assert answer.headers["Cache-Control"] == "public, max-age=86400" and answer.headers["ETag"]
    again = client.get(f"/a/{appeal.slug}/share.png", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_drawn_again_only_when_the_count_crosses_a_step(app, client):
    appeal = published()
    url = f"/a/{appeal.slug}/share.png"
    first = client.get(url)
    [drawn] = kept_images(app)
    sign(appeal, 0, 2)  # below 100 every signature is a step: the image says "2 signatures"
    second = client.get(url)
    assert second.headers["ETag"] != first.headers["ETag"] and kept_images(app) != [drawn]
    assert len(kept_images(app)) == 1  # the old step's file is gone
    appeal.signature_count = 1234  # the image reads the kept number on the row, never the list
    db.session.commit()
    at_1200 = client.get(url)
    [file_1200] = kept_images(app)
    path = os.path.join(app.instance_path, share_image.FOLDER, file_1200)
    stamp = os.stat(path).st_mtime_ns
    appeal.signature_count = 1299  # the same step (1,200+): the kept file, not a new drawing
    db.session.commit()
    same = client.get(url)
    assert same.headers["ETag"] == at_1200.headers["ETag"] and same.data == at_1200.data
    assert kept_images(app) == [file_1200] and os.stat(path).st_mtime_ns == stamp
    appeal.signature_count = 1300
    db.session.commit()
    assert client.get(url).headers["ETag"] != at_1200.headers["ETag"]
    assert kept_images(app) != [file_1200]


@pytest.mark.parametrize("count, shown", [(0, 0), (7, 7), (99, 99), (100, 100), (1234, 1200), (98765, 98000),
                                          (1_000_001, 1_000_000)])
def test_count_steps(count, shown):
    assert share_image.count_step(count) == shown


def test_the_words_of_the_image(app):
    appeal = published(goal=5000)
    appeal.signature_count = 1234
    with app.test_request_context():
        words = share_image.texts(appeal, appeal.title, "ru")
        # Russian writes thousands apart with a no-break space.
        assert words["count"].startswith("1\xa0200+ ") and words["goal"].endswith("5\xa0000")
        assert share_image.texts(appeal, appeal.title, "en")["count"] == "1,200+ signatures"


def test_a_title_change_draws_again(app, client):
    appeal = published()
    first = client.get(f"/a/{appeal.slug}/share.png").headers["ETag"]
    appeal.published_revision.content = {**appeal.published_revision.content, "title": "A new title"}
    db.session.commit()
    assert client.get(f"/a/{appeal.slug}/share.png").headers["ETag"] != first


def test_an_arabic_version_is_drawn_right_to_left_with_raqm(app, client):
    assert features.check("raqm"), "Pillow needs raqm (libfribidi0, libharfbuzz0b: scripts/install-system.sh)"
    appeal = published(title="Free")
    translation = translations.save_translation(appeal, "ar", {"title": ARABIC, "body": "نص الرسالة"}, appeal.owner)
    translations.approve(translation, appeal.owner)
    db.session.commit()
    english = client.get(f"/a/{appeal.slug}/share.png").data
    arabic = client.get(f"/a/{appeal.slug}/share.png?lang=ar").data
    assert arabic != english
    left, right = ink(arabic)
    assert right > 3 * max(left, 1)  # a short right-to-left title starts at the right edge
    left, right = ink(english)
    assert left > 3 * max(right, 1)
    assert len(kept_images(app)) == 2  # one per language


def test_arabic_is_shaped(app):
    """Joined letters are narrower than the same letters drawn apart: raqm picked the contextual forms."""
    font = share_image._font(share_image.font_name_for(ARABIC), 60)
    joined = font.getlength(ARABIC, direction="rtl", language="ar")
    apart = sum(font.getlength(ch, direction="rtl", language="ar") for ch in ARABIC)
    assert joined < apart * 0.95


@pytest.mark.parametrize("text, font", [("Nərmin Qasımlı", "DejaVuSans-Bold"), ("Нармин", "DejaVuSans-Bold"),
                                        (ARABIC, "NotoSansArabic-Bold"), ("Ազատություն", "NotoSansArmenian-Bold"),
                                        ("თავისუფლება", "NotoSansGeorgian-Bold"),
                                        (ARABIC + " PACE", "DejaVuSans-Bold")])
def test_each_line_gets_a_font_with_every_character(text, font):
    assert share_image.font_name_for(text) == font


def test_a_long_title_is_wrapped_and_cut_with_an_ellipsis(app):
    font = share_image._font("DejaVuSans-Bold", share_image.TITLE_SIZES[-1])
    words = " ".join(["Freedom"] * 200)
    lines = share_image.wrap(words, font, 1000, 4, "en", False)
    assert len(lines) == 4 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1000 for line in lines)
    long_word = share_image.wrap("x" * 500, font, 1000, 4, "en", False)
    assert len(long_word) == 4 and all(font.getlength(line) <= 1000 for line in long_word)


def test_unknown_language_and_unknown_appeal(app, client):
    appeal = published()
    assert client.get(f"/a/{appeal.slug}/share.png?lang=xx").status_code == 200
    assert client.get("/a/no-such-appeal/share.png").status_code == 404
