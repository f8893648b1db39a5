"""Every subject of every mail kind decodes back exactly (issue 12, point 3 and "Done when"), on the bytes the SMTP
server received, for a title in Azerbaijani, Russian, Armenian, Georgian and Arabic and a long one.

The kinds are read from the code: every template under templates/mail/ and every `kind=` given to
`sending.queue`. A new kind without a line in SUBJECTS below fails `test_every_kind_in_the_code_is_tested`.
"""
import ast
import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import petitions
from petitions.appeals import services as appeals
from petitions.auth.services import register_user, request_registration
from petitions.delivery import operations as delivery
from petitions.extensions import db
from petitions.mail import sending
from petitions.mail.models import OutboxMessage
from petitions.members import services as members
from petitions.members.models import Role
from petitions.privacy import selfservice
from petitions.registry import services as registry
from petitions.signatories import importing
from petitions.signing import operations as signing

from .test_delivery import PASSWORD, SECRETARY

TITLES = {
    "az": "Release Tofiq Yaqublu – Azadlıq, Şəhla İlqar",
    "ru": "Освободите журналистов: свобода слова — не преступление",
    "hy": "Ազատե՛ք լրագրողներին անհապաղ․ խոսքի ազատությունը",
    "ka": "გაათავისუფლეთ ჟურნალისტები დაუყოვნებლივ",
    "ar": "أطلقوا سراح الصحفيين فوراً: حرية التعبير ليست جريمة",
    "long": "Jurnalistləri dərhal azad edin: Xədicə İsmayılova, Sevinc Vaqifqızı, Ülvi Həsənli və "
            "Nərgiz Absalamova üçün ədalət — «Абзас Медиа»",
}
DOMAIN = "bar-association.example"
# Each kind: the subjects its mails must arrive with, given the title (also the registry entry's name here).
SUBJECTS = {
    "confirm": lambda t: {f"Please confirm your signature: {t}"},
    "already_signed": lambda t: {f"You have already signed: {t}"},
    "reminder": lambda t: {f"Reminder: please confirm your signature: {t}"},
    "import_invitation": lambda t: {f"Please confirm that you signed: {t}"},
    "reconfirm": lambda t: {f"The appeal you signed was amended: {t}"},
    "invitation": lambda t: {f"Invitation to co-organize: {t}"},
    "cover": lambda t: {t},
    "update_delivered": lambda t: {f"The appeal you signed was delivered: {t}"},
    "update_replied": lambda t: {f"A reply was received to the appeal you signed: {t}"},
    "org_domain_proof": lambda t: {f"Does {DOMAIN} belong to {t}?"},
    "org_contact_proof": lambda t: {f"Are you the contact of {t}?"},
    "org_dispute": lambda t: {f"{DOMAIN} in your entry “{t}” is disputed"},
    "self_service": lambda t: {"Your signatures: see, download, correct or erase", "Your signatures"},
    "registration": lambda t: {"Finish creating your organizer account",
                               "Someone tried to register with your address"},
}
ROOT = os.path.dirname(petitions.__file__)


def kinds_in_code() -> set[str]:
    """Return every kind of mail the code can queue: signer templates and literal `kind=` arguments."""
    kinds = {name.split(".", 1)[0] for name in os.listdir(os.path.join(ROOT, "templates", "mail"))
             if not name.startswith("_")}
    for folder, _dirs, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as fh:
                tree = ast.parse(fh.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name == "queue_signer_mail":
                    node.body = []  # its kind is the template's name, counted above
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "queue" and getattr(node.func.value, "id", "") == "sending"):
                    continue
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
                assert kind is None or isinstance(kind, ast.Constant), f"{path}:{node.lineno}: kind must be literal"
                kinds.add(kind.value if kind is not None else "mail")
    return kinds


def test_every_kind_in_the_code_is_tested():
    kinds = kinds_in_code()
    assert "mail" not in kinds, "a sending.queue call without a kind (it counts as “mail” for organizers)"
    assert kinds == set(SUBJECTS)


def send_every_kind(title: str) -> None:
    """Make the app queue each kind of mail about an appeal (and a registry entry) with this title."""
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    other = register_user("Other", "other@coalition.example", PASSWORD)
    appeal = appeals.create_appeal(owner, {"title": title, "body": "We ask for their release.",
                                           "addressees": [SECRETARY]})
    appeals.publish_appeal(appeal)
    db.session.commit()
    done = signing.sign(appeal, "Kamran Əliyev", "", "done@example.org", wants_updates=True).signature
    pending = signing.sign(appeal, "Leyla Məmmədova", "", "pending@example.org").signature
    db.session.commit()
    signing.confirm(signing.confirmation_token(done))
    signing.sign(appeal, "Kamran Əliyev", "", "done@example.org")  # already signed
    pending.created_at -= timedelta(days=2)
    db.session.commit()
    assert signing.remind_unconfirmed(appeal, None) == 1
    assert importing.import_list(appeal, owner, "Nərmin Həsənova invited@example.org", "lines", "invite").invited == 1
    members.invite(appeal, owner, "coorganizer@example.org", Role.EDITOR)
    db.session.commit()
    appeals.save_text(appeal, owner, appeal.content() | {"body": "Amended text."})
    appeals.publish_revision(appeal, owner)
    db.session.commit()
    assert signing.request_reconfirmation(appeal, owner) == 1
    db.session.commit()
    selfservice.request_link("done@example.org")
    selfservice.request_link("nobody@example.org")
    request_registration("new.organizer@example.org")
    request_registration("owner@coalition.example")
    org = registry.add_organization(title, domains=[DOMAIN], contact_email="contact@example.org",
                                    created_by=owner)
    registry.request_domain_proof(org.domains[0], f"it@{DOMAIN}", owner)
    registry.request_contact_proof(org, owner)
    registry.dispute_domain(org.domains[0], other, "This domain is ours.")
    db.session.commit()
    appeal.close()
    db.session.commit()
    revision = delivery.revision_number(appeal)
    sent = delivery.send_cover_mail(appeal, 0, revision, SECRETARY["email"], appeal.original_language, title,
                                    "Dear Secretary-General,\n\nPlease read the attached letter.", [], owner)
    db.session.commit()
    delivery.record_reply(sent, date.today(), "Noted.", None, None, owner)
    db.session.commit()


@pytest.mark.parametrize("language", list(TITLES))
def test_every_subject_of_every_kind_decodes_back_exactly(smtp_app, language):
    title = TITLES[language]
    send_every_kind(title)
    sending.wait_idle(smtp_app)
    rows = db.session.execute(select(OutboxMessage.message_id, OutboxMessage.kind, OutboxMessage.status)).all()
    assert {status for _mid, _kind, status in rows} == {"sent"}
    received = smtp_app.smtp_sink.wait_for(len(rows))
    assert len(received) == len(rows)
    kind_of = {mid: kind for mid, kind, _status in rows}
    subjects: dict[str, set[str]] = {}
    for msg in received:
        subjects.setdefault(kind_of[msg["Message-ID"]], set()).add(str(msg["Subject"]))
    assert set(subjects) == set(SUBJECTS)
    for kind, expected in SUBJECTS.items():
        assert subjects[kind] == expected(title), kind
