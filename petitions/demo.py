"""Demo data for `make run`: an organizer, an open appeal with confirmed signatories, a draft."""
from datetime import timedelta

from sqlalchemy import select

from petitions import crypto
from petitions.appeals import services as appeals
from petitions.appeals.models import Appeal, AppealStatus
from petitions.auth.models import User
from petitions.extensions import db, utcnow
from petitions.signing.models import Signature

ORGANIZER_EMAIL = "organizer@example.org"
ORGANIZER_PASSWORD = "demo-organizer-2026"

OPEN_APPEAL = {
    "slug": "free-narmin-qasimli",
    "title": "Free the journalist Nərmin Qasımlı and end reprisals against reporters",
    "subject": "Pre-trial detention of the investigative reporter Nərmin Qasımlı",
    "addressees": [
        {"name": "Secretary General of the Council of Europe", "institution": "Council of Europe",
         "postal_address": "Avenue de l'Europe, F-67075 Strasbourg Cedex", "salutation": "Dear Secretary General,"},
        {"name": "General Rapporteur on political prisoners", "institution": "Parliamentary Assembly of the Council of Europe"},
        {"name": "Permanent Representations of the Council of Europe member states"},
    ],
    "body": (
        "We write as lawyers, journalists and members of civil society to draw your attention to the case of "
        "**Nərmin Qasımlı**, an investigative reporter held in pre-trial detention for eleven months on charges "
        "that her colleagues, her lawyers and independent observers regard as retaliation for her reporting "
        "on public procurement.\n\n"
        "Since her arrest she has been denied confidential meetings with her counsel, her hearings have been "
        "closed to the public, and her requests for medical care have gone unanswered for weeks. Her case is "
        "not isolated: it follows a pattern in which reporters who expose misuse of public money are charged "
        "with smuggling or tax offences and kept in custody for as long as the law allows."
    ),
    "demands": [
        "Call publicly for the immediate release of Nərmin Qasımlı.",
        "Ask that trial monitors from member states' embassies be admitted to every hearing.",
        "Raise the detention of journalists in the next dialogue with the authorities and report on it.",
    ],
    "closing": "We remain at your disposal for any information on the case.\n\nRespectfully,",
    "place": "Baku",
    "senders": "Coalition for Free Expression (demo)\nLawyers for Fair Trials (demo)",
    "signatories": [
        ("Leyla Əhmədova", "Lawyer, Member of the Bar Association", "leyla.ahmadova@demo.invalid"),
        ("İlkin Şükürov", "Journalist, Free Press Forum", "ilkin.shukurov@demo.invalid"),
        ("Gülnar Çələbiyeva", "Chairperson, Centre for Legal Education", "gulnar@demo.invalid"),
        ("Rəşad Ağayev", "Human rights defender", "rashad@demo.invalid"),
        ("Анна Соколова", "Юрист, Правозащитный центр «Открытый суд»", "anna.sokolova@demo.invalid"),
        ("Тимур Алиев", "Журналист", "timur.aliev@demo.invalid"),
        ("Marie Dubois", "Avocate, Barreau de Lyon", "marie.dubois@demo.invalid"),
    ],
}

DRAFT_APPEAL = {
    "slug": "stop-torture-in-custody-draft",
    "title": "Open letter: stop torture in police custody",
    "addressees": [{"name": "UN Special Rapporteur on Torture", "institution": "United Nations"}],
    "body": "A draft: our demands on independent medical examination of detainees will follow.",
}


def load_demo() -> dict:
    """Create the demo data once; calling it again changes nothing."""
    organizer = db.session.scalar(select(User).where(User.email == ORGANIZER_EMAIL))
    if organizer is None:
        organizer = User(email=ORGANIZER_EMAIL, name="Demo Organizer")
        organizer.set_password(ORGANIZER_PASSWORD)
        db.session.add(organizer)
    appeal = _appeal(organizer, OPEN_APPEAL)
    if appeal.status is AppealStatus.DRAFT:
        appeals.set_goal_and_deadline(appeal, 250, (utcnow() + timedelta(days=30)).date())
        appeals.publish_appeal(appeal)
        db.session.flush()
    for name, affiliation, email in OPEN_APPEAL["signatories"]:
        key = crypto.email_hash(email)
        exists = db.session.scalar(
            select(Signature.id).where(Signature.appeal_id == appeal.id, Signature.email_hash == key)
        )
        if exists is None:
            signature = Signature(
                appeal=appeal, full_name=name, affiliation=affiliation, email_hash=key,
                email_encrypted=crypto.encrypt(email), text_hash=appeal.content_hash, consent_at=utcnow(),
                revision_id=appeal.published_revision_id,
            )
            signature.confirm()
            db.session.add(signature)
    draft = _appeal(organizer, DRAFT_APPEAL)
    db.session.commit()
    return {"appeals": [appeal, draft], "organizer": organizer}


def _appeal(owner: User, spec: dict) -> Appeal:
    appeal = db.session.scalar(select(Appeal).where(Appeal.slug == spec["slug"]))
    if appeal is None:
        content = {k: v for k, v in spec.items() if k not in ("slug", "signatories")}
        appeal = appeals.create_appeal(owner, content, slug=spec["slug"])
    return appeal
