"""Invented multilingual demo letters shared by the i18n, translation and RTL tests."""
from petitions.appeals import services as appeals
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.i18n import catalogs
from petitions.translations import services as translations

PASSWORD = "a long password"
ORIGINAL = {"title": "Rəşad Əliyevə azadlıq", "addressees": [{"name": "Avropa Şurası Nazirlər Komitəsi"}],
            "body": "Jurnalist Rəşad Əliyev səkkiz aydır ki, həbsdədir. Onun işi ədalətli məhkəmə hüququnu pozur.",
            "demands": ["Onu dərhal azad edin.", "Həbsinin səbəblərini araşdırın."], "closing": "Hörmətlə"}
VERSIONS = {
    "ru": {"title": "Свободу Рашаду Алиеву", "body": "Журналист Рашад Алиев восемь месяцев находится под стражей.",
           "demands": ["Немедленно освободить его."], "closing": "С уважением"},
    "en": {"title": "Freedom for Rashad Aliyev", "body": "The journalist Rashad Aliyev has been held for eight months.",
           "demands": ["Release him at once."], "closing": "Respectfully"},
    "hy": {"title": "Ազատություն Ռաշադ Ալիևին", "body": "Լրագրող Ռաշադ Ալիևը ութ ամիս է, ինչ կալանքի տակ է։",
           "demands": ["Անհապաղ ազատ արձակել նրան։"], "closing": "Հարգանքով"},
    "ka": {"title": "თავისუფლება რაშად ალიევს", "body": "ჟურნალისტი რაშად ალიევი რვა თვეა პატიმრობაშია.",
           "demands": ["დაუყოვნებლივ გაათავისუფლეთ იგი."], "closing": "პატივისცემით"},
    "ar": {"title": "الحرية لرشاد علييف", "body": "الصحفي رشاد علييف محتجز منذ ثمانية أشهر.",
           "demands": ["أطلقوا سراحه فوراً."], "closing": "مع الاحترام"},
}


def ensure_catalogs():
    """Build the .mo files if the install step has not (running pytest straight from a checkout)."""
    catalogs.compile_catalogs(only_stale=True)


def multilingual_appeal(languages=("ru", "en", "hy", "ka", "ar"), approve=True, owner=None):
    """Create an open Azerbaijani appeal with translations; return (appeal, owner)."""
    owner = owner or register_user("Coalition", "coalition@example.org", PASSWORD)
    appeal = appeals.create_appeal(owner, ORIGINAL, language="az")
    appeals.publish_appeal(appeal)
    for lang in languages:
        t = translations.save_translation(appeal, lang, VERSIONS[lang], owner)
        if approve:
            translations.approve(t, owner)
    db.session.commit()
    return appeal, owner
