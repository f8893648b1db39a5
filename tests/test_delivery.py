"""Delivery to addressees: the cover mail over real SMTP with the signed PDF, the log, replies, refusals, roles."""
import io
from contextlib import contextmanager
from datetime import date

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from petitions.appeals import services as appeals
from petitions.appeals.models import AppealStatus, IllegalTransition
from petitions.auth.services import register_user
from petitions.delivery import operations
from petitions.delivery.models import Delivery
from petitions.extensions import db
from petitions.mail import sending
from petitions.members.models import AppealMember, Role
from petitions.pdf import jobs
from petitions.signing import operations as signing

from .conftest import csrf_token
from .i18n_data import multilingual_appeal

PASSWORD = "a long password"  # the one of tests/i18n_data.py too
SECRETARY = {"name": "António Guterres", "title": "Secretary-General", "institution": "United Nations",
             "email": "sg@un.example", "salutation": "Dear Secretary-General,"}
RAPPORTEUR = {"name": "Special Rapporteur on Torture", "institution": "OHCHR",
              "postal_address": "Palais Wilson, Geneva"}
SIGNERS = [("Leyla Yunus", "Institute for Peace and Democracy"), ("Anar Məmmədli", "EMDS")]


def closed_appeal(sign=True):
    """An appeal to two addressees (one without e-mail), confirmed signers and one pending, closed."""
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = appeals.create_appeal(owner, {"title": "Free the journalists", "body": "We ask for their release.",
                                           "addressees": [SECRETARY, RAPPORTEUR]})
    appeals.publish_appeal(appeal)
    if sign:
        for i, (name, affiliation) in enumerate(SIGNERS):
            signing.sign(appeal, name, affiliation, f"signer{i}@mail.example").signature.confirm()
        signing.sign(appeal, "Pending Person", "", "pending@mail.example")
    appeal.close()
    db.session.commit()
    return appeal, owner


def login(client, email):
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                                "csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code in (302, 303)


def compose_url(appeal, position=1):
    return f"/organizer/appeals/{appeal.slug}/delivery/{position}"


def cover_form(client, appeal, **changes):
    """The compose page's form as the owner would submit it."""
    url = compose_url(appeal)
    page = client.get(url).get_data(as_text=True)
    assert "sg@un.example" in page and "Dear Secretary-General," in page
    data = {"csrf_token": csrf_token(client, url), "revision": str(operations.revision_number(appeal)),
            "recipient": "sg@un.example", "language": appeal.original_language,
            "subject": "Free the journalists", "body": "Dear Secretary-General,\n\nPlease read the attached letter."}
    data.update(changes)
    return data


def mails_to(sink, address):
    return [m for m in sink.messages if m["To"] == address]


def deliveries(appeal):
    return db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.appeal_id == appeal.id))


def test_cover_mail_reaches_the_addressee_with_the_signed_pdf_and_the_public_page_says_so(smtp_app):
    sink = smtp_app.smtp_sink
    appeal, owner = closed_appeal()
    client = smtp_app.test_client()
    login(client, owner.email)
    data = cover_form(client, appeal)

    preview = client.post(compose_url(appeal), data=data | {"preview": "1"})
    assert preview.status_code == 200
    assert "Please read the attached letter." in preview.get_data(as_text=True)
    assert ".pdf" in preview.get_data(as_text=True) and deliveries(appeal) == 0  # a preview sends nothing

    sent = client.post(compose_url(appeal), data=data | {"send": "1"})
    assert sent.status_code == 303
    assert sending.wait_idle(smtp_app)
    sink.wait_for(len(sink.messages) + 1, timeout=10)
    [mail] = mails_to(sink, "sg@un.example")
    assert str(mail["Subject"]) == "Free the journalists" and mail["Reply-To"] == owner.email
    assert "Please read the attached letter." in mail.get_body(preferencelist=("plain",)).get_content()
    [pdf] = [part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages)
    for name, _ in SIGNERS:
        assert name in text
    assert "Pending Person" not in text

    db.session.expire_all()
    delivery = db.session.scalar(select(Delivery).where(Delivery.appeal_id == appeal.id))
    assert delivery.message_id == mail["Message-ID"] and delivery.status == "queued"
    assert appeal.status is AppealStatus.DELIVERED and appeal.delivered_at is not None
    public = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Delivered to António Guterres on" in public and "Reply received" not in public

    log = f"/organizer/appeals/{appeal.slug}/delivery"
    reply = client.post(f"{log}/log/{delivery.id}/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, log), "received_on": date.today().isoformat(), "note": "Acknowledged.",
        "file": (io.BytesIO(b"%PDF-1.4 reply"), "reply.pdf")})
    assert reply.status_code == 303
    public = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Reply received on" in public and "Acknowledged." not in public  # the note stays with organizers
    page = client.get(log).get_data(as_text=True)
    assert "Acknowledged." in page and str(escape(delivery.message_id)) in page
    assert "<td>sent</td>" in page  # the log reads the outbox: the server accepted the cover mail
    reply_id = delivery.replies[0].id
    download = client.get(f"{log}/reply/{reply_id}/file")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 reply"
    visitor = smtp_app.test_client()
    assert visitor.get(f"{log}/reply/{reply_id}/file").status_code in (302, 401)  # only for logged-in organizers


def test_a_double_submit_sends_the_cover_mail_once(smtp_app):
    sink = smtp_app.smtp_sink
    appeal, owner = closed_appeal()
    client = smtp_app.test_client()
    login(client, owner.email)
    data = cover_form(client, appeal, send="1")
    first = client.post(compose_url(appeal), data=data)
    second = client.post(compose_url(appeal), data=data)
    assert first.status_code == second.status_code == 303
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "was already delivered to António Guterres" in page
    assert sending.wait_idle(smtp_app)
    sink.wait_for(len(sink.messages) + 1, timeout=5)
    assert len(mails_to(sink, "sg@un.example")) == 1 and deliveries(appeal) == 1


def test_the_database_refuses_a_second_delivery_of_the_same_revision(app):
    appeal, owner = closed_appeal(sign=False)
    for _ in range(2):
        db.session.add(Delivery(appeal_id=appeal.id, addressee_index=0, addressee_name="x", revision_number=1,
                                method="post", delivered_on=date.today()))
    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize("recipient, message", [
    ("sg@un.example\r\nBcc: all@attacker.example", "line break"),
    ("sg@un.example\nBcc: all@attacker.example", "line break"),
    ("sg@un.example\x00", "NUL"),
    ("sg@un.example, all@attacker.example", "exactly one address"),
    ("sg@un.example;all@attacker.example", "exactly one address"),
    ("sg@un.example all@attacker.example", "exactly one address"),
    ("Guterres <sg@un.example>", "exactly one address"),
    ("sg@@un.example", "exactly one address"),
    ("sg.un.example", "valid e-mail address"),
    ("sg@un..example", "valid e-mail address"),
])
def test_bad_addressee_addresses_are_refused_with_the_input_kept(smtp_app, recipient, message):
    sink = smtp_app.smtp_sink
    appeal, owner = closed_appeal(sign=False)
    client = smtp_app.test_client()
    login(client, owner.email)
    before = len(sink.messages)
    response = client.post(compose_url(appeal), data=cover_form(client, appeal, recipient=recipient, send="1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page and "Please read the attached letter." in page
    assert deliveries(appeal) == 0 and appeal.status is AppealStatus.CLOSED
    assert sending.wait_idle(smtp_app) and len(sink.messages) == before


@contextmanager
def refused_send(make_app, smtp_server, **config):
    """Send the cover mail as the owner on an app with these settings; yield the answer, then check nothing left."""
    sink, port = smtp_server
    app = make_app(MAIL_PORT=port, **config)
    with app.app_context():
        appeal, owner = closed_appeal()
        client = app.test_client()
        login(client, owner.email)
        before = len(sink.messages)
        yield appeal, client.post(compose_url(appeal), data=cover_form(client, appeal, send="1"))
        assert deliveries(appeal) == 0 and sending.wait_idle(app) and len(sink.messages) == before
        db.session.remove()


def test_attachments_over_the_limit_are_refused_before_sending_with_the_limit_stated(make_app, smtp_server):
    with refused_send(make_app, smtp_server, DELIVERY_MAX_ATTACHMENT_BYTES=1000) as (appeal, response):
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "at most 1,000 bytes" in page and "Please read the attached letter." in page


def test_an_addressee_without_e_mail_is_marked_delivered_by_hand_with_the_date(app, client):
    appeal, owner = closed_appeal(sign=False)
    login(client, owner.email)
    log = f"/organizer/appeals/{appeal.slug}/delivery"
    page = client.get(log).get_data(as_text=True)
    # No e-mail: no cover mail to write.
    assert f'href="{compose_url(appeal, 2)}"' not in page and f'href="{compose_url(appeal, 1)}"' in page
    response = client.post(f"{log}/2/manual", data={"csrf_token": csrf_token(client, log), "revision": "1",
                                                     "method": "post", "delivered_on": "2026-11-30"})
    assert response.status_code == 303
    db.session.expire_all()
    assert appeal.status is AppealStatus.DELIVERED
    [delivery] = operations.deliveries_of(appeal)
    assert (delivery.method, delivery.delivered_on, delivery.status) == ("post", date(2026, 11, 30), "delivered")
    public = client.get(f"/a/{appeal.slug}").get_data(as_text=True)
    assert "Delivered to Special Rapporteur on Torture on November 30, 2026" in public


def test_only_closed_appeals_are_delivered_and_replies_are_size_limited(make_app):
    app = make_app(DELIVERY_MAX_REPLY_BYTES=10)
    with app.app_context():
        owner = register_user("Owner", "owner@coalition.example", PASSWORD)
        draft = appeals.create_appeal(owner, {"title": "T", "body": "B", "addressees": [RAPPORTEUR]})
        appeals.publish_appeal(draft)
        db.session.commit()
        with pytest.raises(IllegalTransition):
            operations.record_manual_delivery(draft, 0, 1, "post", date.today(), owner)
        draft.close()
        delivery = operations.record_manual_delivery(draft, 0, 1, "in_person", date.today(), owner)
        with pytest.raises(IllegalTransition, match="at most 10 bytes"):
            operations.record_reply(delivery, date.today(), "", "big.pdf", b"x" * 11, owner)
        with pytest.raises(operations.AlreadyDelivered):
            operations.record_manual_delivery(draft, 0, 1, "post", date.today(), owner)
        db.session.remove()


@pytest.mark.parametrize("role, status", [(Role.EDITOR, 403), (Role.REVIEWER, 403), (None, 404)])
def test_only_owners_deliver(app, role, status):
    appeal, owner = closed_appeal(sign=False)
    other = register_user("Other", "other@coalition.example", PASSWORD)
    if role is not None:
        db.session.add(AppealMember(appeal=appeal, user=other, role=role))
        db.session.commit()
    client = app.test_client()
    login(client, other.email)
    token = csrf_token(client, "/organizer/")
    assert client.get(compose_url(appeal)).status_code == status
    form = {"csrf_token": token, "revision": "1", "recipient": "sg@un.example", "language": "en",
            "subject": "S", "body": "B", "send": "1"}
    assert client.post(compose_url(appeal), data=form).status_code == status
    manual = {"csrf_token": token, "revision": "1", "method": "post", "delivered_on": "2026-11-30"}
    assert client.post(f"/organizer/appeals/{appeal.slug}/delivery/2/manual", data=manual).status_code == status
    assert deliveries(appeal) == 0


def test_the_cover_mail_takes_an_approved_version_and_attaches_it_on_request(smtp_app):
    sink = smtp_app.smtp_sink
    appeal, owner = multilingual_appeal(("ru",))
    appeal.close()
    db.session.commit()
    client = smtp_app.test_client()
    login(client, owner.email)
    page = client.get(compose_url(appeal) + "?language=ru").get_data(as_text=True)
    assert 'value="Свободу Рашаду Алиеву"' in page  # the subject in the chosen version
    data = {"csrf_token": csrf_token(client, compose_url(appeal)), "revision": "1", "recipient": "cm@coe.example",
            "language": "ru", "subject": "Свободу Рашаду Алиеву", "body": "Уважаемые члены Комитета,",
            "versions": ["ru"], "send": "1"}
    assert client.post(compose_url(appeal), data=data).status_code == 303
    assert sending.wait_idle(smtp_app)
    sink.wait_for(len(sink.messages) + 1, timeout=10)
    [mail] = mails_to(sink, "cm@coe.example")
    assert str(mail["Subject"]) == "Свободу Рашаду Алиеву"
    names = [part.get_filename() for part in mail.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(names) == 2 and len(set(names)) == 2
    db.session.expire_all()
    [delivery] = operations.deliveries_of(appeal)
    assert delivery.language == "ru" and delivery.addressee_name == "Avropa Şurası Nazirlər Komitəsi"


def test_a_large_list_is_rendered_by_a_job_and_nothing_is_sent_meanwhile(make_app, smtp_server):
    with refused_send(make_app, smtp_server, PDF_SYNC_MAX=1, PDF_EXECUTOR="worker") as (appeal, response):
        assert response.status_code == 503
        assert "being rendered" in response.get_data(as_text=True)
        assert jobs.active_job(appeal, "addressees", "standard") is not None


def test_delivering_and_recording_a_reply_tell_the_signers_who_asked(smtp_app):
    sink = smtp_app.smtp_sink
    owner = register_user("Owner", "owner@coalition.example", PASSWORD)
    appeal = appeals.create_appeal(owner, {"title": "Free the journalists", "body": "We ask for their release.",
                                           "addressees": [SECRETARY, RAPPORTEUR]})
    appeals.publish_appeal(appeal)
    signing.sign(appeal, "Leyla Yunus", "", "asked@mail.example", wants_updates=True).signature.confirm()
    signing.sign(appeal, "Anar Məmmədli", "", "quiet@mail.example").signature.confirm()
    appeal.close()
    db.session.commit()
    client = smtp_app.test_client()
    login(client, owner.email)
    assert client.post(compose_url(appeal), data=cover_form(client, appeal) | {"send": "1"}).status_code == 303
    assert sending.wait_idle(smtp_app)
    [update] = [m for m in mails_to(sink, "asked@mail.example") if "delivered" in str(m["Subject"])]
    assert "António Guterres" in update.get_body(preferencelist=("plain",)).get_content()
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not [m for m in mails_to(sink, "quiet@mail.example") if "delivered" in str(m["Subject"])]  # did not ask

    delivery = db.session.scalar(select(Delivery).where(Delivery.appeal_id == appeal.id))
    log = f"/organizer/appeals/{appeal.slug}/delivery"
    assert client.post(f"{log}/log/{delivery.id}/reply", data={
        "csrf_token": csrf_token(client, log), "received_on": date.today().isoformat(), "note": "Noted."},
    ).status_code == 303
    assert sending.wait_idle(smtp_app)
    assert len([m for m in mails_to(sink, "asked@mail.example") if "reply" in str(m["Subject"])]) == 1


def test_an_appeal_is_delivered_only_through_a_logged_delivery(smtp_app):
    appeal, owner = closed_appeal(sign=False)
    client = smtp_app.test_client()
    login(client, owner.email)
    page = f"/organizer/appeals/{appeal.slug}"
    response = client.post(f"{page}/deliver", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 404  # the old "mark as delivered" button, which logged nothing
    db.session.expire_all()
    assert appeal.status is AppealStatus.CLOSED and appeal.delivered_at is None
    assert f"/organizer/appeals/{appeal.slug}/delivery" in client.get(page).get_data(as_text=True)
