"""Languages: negotiation order, fallbacks, hreflang, the interface catalogs, mail in the signer's language, fonts."""
import re
from datetime import date

import pytest
from babel.messages.pofile import read_po
from babel import Locale

from petitions import i18n
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.i18n import catalogs

from .conftest import csrf_token, message_text
from .i18n_data import ORIGINAL, VERSIONS, ensure_catalogs, multilingual_appeal


@pytest.fixture(autouse=True, scope="module")
def _catalogs():
    ensure_catalogs()


def html_attrs(html):
    return re.search(r'<html lang="([^"]+)" dir="([^"]+)">', html).groups()


def test_url_language_wins_over_accept_language(app, client):
    appeal, _ = multilingual_appeal()
    page = client.get(f"/a/{appeal.slug}/ru", headers={"Accept-Language": "hy, en;q=0.5"}).get_data(as_text=True)
    assert html_attrs(page) == ("ru", "ltr") and VERSIONS["ru"]["title"] in page
    assert "Подписать обращение" in page  # the interface follows the URL too


def test_accept_language_then_original(app, client):
    appeal, _ = multilingual_appeal()
    page = client.get(f"/a/{appeal.slug}", headers={"Accept-Language": "fr, hy;q=0.8, ru;q=0.5"})
    html = page.get_data(as_text=True)
    # No French version: the best next one the reader accepts is Armenian.
    assert html_attrs(html) == ("hy", "ltr") and VERSIONS["hy"]["title"] in html
    assert "Accept-Language" in page.headers["Vary"] and page.headers["Content-Language"] == "hy"
    html = client.get(f"/a/{appeal.slug}", headers={"Accept-Language": "fr, de;q=0.5"}).get_data(as_text=True)
    assert html_attrs(html) == ("az", "ltr") and ORIGINAL["title"] in html
    assert "Signer cet appel" in html  # the interface still speaks French


def test_language_without_version_falls_back_to_the_original_and_says_so(app, client):
    appeal, _ = multilingual_appeal(("ru",))
    page = client.get(f"/a/{appeal.slug}/de")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html_attrs(html)[0] == "az" and ORIGINAL["title"] in html
    assert "keine Fassung in dieser Sprache" in html
    page = client.get(f"/a/{appeal.slug}/qq")  # shaped like a code, but no such language
    assert page.status_code == 200 and "There is no language “qq”" in page.get_data(as_text=True)


@pytest.mark.parametrize("segment", ["EN", "russian", "r", "..%2f", "ru-RU-x"])
def test_malformed_language_segment_is_404_never_500(app, client, segment):
    appeal, _ = multilingual_appeal(("ru",))
    assert client.get(f"/a/{appeal.slug}/{segment}").status_code == 404


def test_outdated_translation_is_not_shown_silently(app, client):
    from petitions.appeals import services as appeals

    appeal, owner = multilingual_appeal(("ru",))
    appeals.save_text(appeal, owner, appeal.content() | {"title": "Rəşad Əliyevə dərhal azadlıq"})
    appeals.publish_revision(appeal, owner)
    db.session.commit()
    html = client.get(f"/a/{appeal.slug}/ru").get_data(as_text=True)
    assert VERSIONS["ru"]["title"] not in html and "Rəşad Əliyevə dərhal azadlıq" in html
    assert "Перевод (русский) обновляется" in html


def test_switcher_hreflang_and_translation_mark(app, client):
    appeal, _ = multilingual_appeal()
    html = client.get(f"/a/{appeal.slug}/ar").get_data(as_text=True)
    assert html_attrs(html) == ("ar", "rtl")
    for code in ("az", "ru", "en", "hy", "ka", "ar"):
        assert f'<link rel="alternate" hreflang="{code}" href="http://localhost/a/{appeal.slug}/{code}">' in html
        assert f'href="/a/{appeal.slug}/{code}" lang="{code}"' in html
    assert f'hreflang="x-default" href="http://localhost/a/{appeal.slug}"' in html
    assert 'lang="ar" dir="rtl" hreflang="ar" aria-current="true">العربية</a>' in html
    assert "Translation of revision 1 of the original (Azerbaijani)" in html
    # The sign form and the site chrome stay in the interface language and direction.
    assert '<aside class="sign" lang="en" dir="ltr">' in html


def test_signature_records_the_version_read_and_mail_goes_out_in_its_language(smtp_app):
    appeal, _ = multilingual_appeal()
    client = smtp_app.test_client()
    url = f"/a/{appeal.slug}/ru"
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    link = re.search(r'class="button primary sign-this" href="([^"]+)"', page).group(1)
    assert link == f"/a/{appeal.slug}/sign?lang=ru"  # the sign page keeps the version read
    form = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', form).group(1)
    assert action == link
    response = client.post(action, headers={"Accept-Language": "en"},
                           data={"csrf_token": csrf_token(client, link), "full_name": "Ольга Смирнова",
                                 "affiliation": "Адвокат", "email": "olga@example.org", "consent": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("?lang=ru")
    sig = db.session.scalar(db.select(Signature).where(Signature.full_name == "Ольга Смирнова"))
    assert sig.language == "ru"
    [msg] = smtp_app.smtp_sink.wait_for(1)
    body = message_text(msg)
    assert msg["Subject"] == f"Пожалуйста, подтвердите подпись: {VERSIONS['ru']['title']}"
    assert body.startswith("Здравствуйте, Ольга Смирнова!") and f"«{VERSIONS['ru']['title']}»" in body
    assert "Ссылка действительна 7 дней" in body and "/confirm/" in body

    # Signing again from the Armenian version: the "already signed" mail follows the stored signature.
    client.post(f"/a/{appeal.slug}/sign?lang=hy", data={"csrf_token": csrf_token(client, link),
                "full_name": "Ольга Смирнова", "affiliation": "", "email": "olga@example.org", "consent": "y"})
    second = smtp_app.smtp_sink.wait_for(2)[1]
    assert "Здравствуйте" in message_text(second) and second["Subject"].startswith("Пожалуйста, подтвердите")


def test_mail_for_a_language_without_interface_catalog_is_in_the_default(smtp_app):
    from petitions.signing import operations as signing

    appeal, _ = multilingual_appeal(("ka",))
    signing.sign(appeal, "Nino Beridze", "", "nino@example.org", language="ka")
    db.session.commit()
    [msg] = smtp_app.smtp_sink.wait_for(1)
    assert message_text(msg).startswith("Hello Nino Beridze,") and VERSIONS["ka"]["title"] in msg["Subject"]


def _complete(message, catalog) -> bool:
    if "fuzzy" in message.flags:
        return False
    strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
    return len(strings) == (catalog.num_plurals if message.pluralizable else 1) and all(strings)


def test_catalogs_are_complete(tmp_path):
    """Fail on any marked string that a catalog lacks, leaves untranslated or marks fuzzy."""
    pot = read_po(open(catalogs.extract(str(tmp_path / "messages.pot")), "rb"))
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    problems = []
    for lang in ("en", "fr", "de", "ru", "az", "tr", "hy"):
        with open(f"{catalogs.CATALOGS}/{lang}/LC_MESSAGES/messages.po", "rb") as fh:
            catalog = read_po(fh, locale=lang)
        done = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and _complete(m, catalog)}
        problems += [f"{lang}: {msgid[:60]!r}" for msgid in sorted(wanted - done)]
    assert not problems, f"{len(problems)} untranslated or fuzzy:\n" + "\n".join(problems[:40])


PUBLIC_SOURCES = ("templates/base.html", "templates/public/", "templates/auth/", "auth/forms.py",
                  "signing/forms.py", "templates/mail/confirm.txt", "templates/mail/already_signed.txt", "templates/mail/reminder.txt",
                  "templates/mail/reconfirm.txt",
                  "templates/translations/_", "translations/public.py", "signing/operations.py")


def test_public_interface_and_signer_mails_are_translated_in_every_catalog(tmp_path):
    """What signers see must be complete in every language today (the organizer area follows)."""
    from babel.messages.frontend import CommandLineInterface

    pot_path = tmp_path / "located.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", catalogs.BABEL_CFG, "-k", "_l", "-o", str(pot_path),
                                catalogs.ROOT])
    pot = read_po(open(pot_path, "rb"))
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in pot
              if m.id and any(any(s in f for s in PUBLIC_SOURCES) for f, _ in m.locations)}
    assert len(wanted) > 55  # the extraction really found the public strings
    for lang in ("en", "fr", "de", "ru", "az", "tr", "hy"):
        with open(f"{catalogs.CATALOGS}/{lang}/LC_MESSAGES/messages.po", "rb") as fh:
            catalog = read_po(fh, locale=lang)
        done = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and _complete(m, catalog)}
        assert not wanted - done, f"{lang} lacks {sorted(wanted - done)[:5]}"
        for m in catalog:  # every placeholder of the original survives the translation
            if m.id and _complete(m, catalog):
                ids = m.id if isinstance(m.id, (tuple, list)) else [m.id]
                strings = m.string if isinstance(m.string, (tuple, list)) else [m.string]
                names = set(re.findall(r"%\((\w+)\)", ids[-1]))
                assert all(set(re.findall(r"%\((\w+)\)", s)) == names for s in strings), (lang, m.id)


def test_interface_pages_in_each_language(app, client):
    expected = {"fr": "Connexion des organisateurs", "de": "Anmeldung für Organisatoren", "ru": "Вход для организаторов",
                "az": "Təşkilatçılar üçün giriş", "tr": "Düzenleyici girişi", "hy": "Մուտք կազմակերպիչների համար"}
    for lang, text in expected.items():
        html = client.get("/auth/login", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert text in html and html_attrs(html) == (lang, "ltr")


def test_dates_quotes_names_and_direction():
    assert i18n.format_letter_date(date(2026, 5, 7), "ru") == "7 мая 2026\u202fг."
    assert i18n.format_letter_date("2026-05-07", "de") == "7. Mai 2026"
    assert i18n.format_letter_date(date(2026, 5, 7), "en") == "May 7, 2026"
    assert i18n.quote("Azadlıq", "de") == "„Azadlıq“" and i18n.quote("Свобода", "ru") == "«Свобода»"
    assert i18n.quote("Liberté", "fr") == "«\u202fLiberté\u202f»"
    assert i18n.native_name("hy") == "Հայերեն" and i18n.native_name("az") == "Azərbaycan"
    assert [i18n.direction(c) for c in ("ar", "fa", "he", "ru", "ka")] == ["rtl", "rtl", "rtl", "ltr", "ltr"]


def test_isolate_keeps_an_arabic_name_from_capturing_the_number_after_it():
    out = str(i18n.isolate("Lawyer for مريم علي, 2019–2024 <b>"))
    assert out == ('<bdi dir="ltr">Lawyer for <bdi dir="rtl">مريم علي</bdi>, 2019–2024 &lt;b&gt;</bdi>')
    assert str(i18n.isolate("ليلى حداد")) == '<bdi dir="rtl">ليلى حداد</bdi>'


def test_fonts_are_served_from_the_allow_list_with_long_cache(app, client):
    response = client.get("/fonts/NotoSansArmenian-Regular.ttf")
    assert response.status_code == 200 and response.mimetype == "font/ttf"
    assert response.data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")
    assert "max-age=31536000" in response.headers["Cache-Control"] and response.headers.get("ETag")
    assert client.get("/fonts/..%2f..%2fetc%2fpasswd").status_code == 404
    assert client.get("/fonts/NotoSansThai-Regular.ttf").status_code == 404  # installed but not allowed
    css = client.get("/static/fonts.css").get_data(as_text=True)
    urls = re.findall(r'url\("([^"]+)"\)', css)
    assert urls and all(u.startswith("../fonts/") for u in urls)
    for u in set(urls):  # every face the stylesheet names is really there
        assert client.get(u.replace("..", "")).status_code == 200, u


@pytest.mark.parametrize("code, name", [
    ("ka", "ქართული"),  # Mkhedruli has no capitals: upper-casing it would make Mtavruli "Ქართული"
    ("hy", "Հայերեն"), ("ar", "العربية"), ("fa", "فارسی"), ("he", "עברית"), ("ru", "Русский"),
    ("uk", "Українська"), ("kk", "Қазақ тілі"), ("az", "Azərbaycan"), ("tr", "Türkçe"), ("fr", "Français"),
])
def test_each_language_is_named_in_itself_as_its_script_writes_it(code, name):
    assert i18n.native_name(code) == name


def test_no_native_name_is_capitalized_into_another_alphabet():
    for code in i18n.VERSION_LANGUAGES:
        name = i18n.native_name(code)
        assert not any("\u1c90" <= ch <= "\u1cbf" for ch in name), code  # Georgian Mtavruli
        assert name[1:] == Locale.parse(code).get_display_name(code)[1:], code  # only the first letter may change


def test_form_messages_follow_each_requests_language_from_catalogs_read_once(app, client):
    appeal, _ = multilingual_appeal()
    token = csrf_token(client, f"/a/{appeal.slug}/sign")
    i18n._form_catalog.cache_clear()
    # WTForms' own "required" message (no address given), from its catalog in each request's interface language.
    required = {"fr": "Ce champ est requis.", "ru": "Обязательное поле.", "de": "Dieses Feld wird benötigt."}
    for lang in ("fr", "ru", "fr", "de"):
        page = client.post(f"/a/{appeal.slug}/sign", data={"csrf_token": token, "full_name": "A B"},
                           headers={"Accept-Language": lang})
        html = page.get_data(as_text=True)
        assert page.status_code == 422
        assert [text for text in required.values() if text in html] == [required[lang]]
    assert i18n._form_catalog.cache_info().misses == 3  # fr, ru, de: the second French request read nothing
