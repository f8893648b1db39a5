"""Deliver a closed appeal: the cover mail per addressee, manual deliveries, replies, what the public sees."""
import os
import re
import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from petitions import audit
from petitions.appeals.models import Appeal, AppealStatus, IllegalTransition
from petitions.auth.models import User
from petitions.delivery.models import Delivery, DeliveryReply
from petitions.extensions import db, utcnow
from petitions.i18n import with_locale
from petitions.mail import addresses, sending
from petitions.mail.addresses import InvalidAddress
from petitions.pdf import jobs
from petitions.signing.rules import counted_total
from petitions.updates import operations as updates
from petitions.translations.services import (
    localized_addressee, localized_title, original_content, published_languages,
)

REPLY_FOLDER = "delivery-replies"
# Several recipients in one field: separators mail software would split on.
_SEVERAL = re.compile(r"[,;\s]")


class AttachmentsTooLarge(ValueError):
    """The attachments of a cover mail exceed DELIVERY_MAX_ATTACHMENT_BYTES."""


class AlreadyDelivered(IllegalTransition):
    """This addressee already received this revision of the letter."""


@dataclass
class Attachment:
    filename: str
    data: bytes


def ensure_deliverable(appeal: Appeal) -> None:
    """Refuse delivery before the appeal is closed, or after it is archived."""
    if appeal.status not in (AppealStatus.CLOSED, AppealStatus.DELIVERED):
        raise IllegalTransition(_("Close the appeal before delivering it to its addressees."))


def addressees(appeal: Appeal) -> list[dict]:
    """Return the addressees of the text people signed."""
    return list(original_content(appeal).get("addressees") or [])


def addressee(appeal: Appeal, index: int) -> dict:
    """Return one addressee by position (LookupError: no such addressee)."""
    found = addressees(appeal)
    if not 0 <= index < len(found):
        raise LookupError(index)
    return found[index]


def revision_number(appeal: Appeal) -> int:
    """Return the number of the revision a delivery now sends."""
    return appeal.published_revision.number if appeal.published_revision is not None else appeal.revision_count


def check_address(value: str) -> str:
    """Return the address if it is one plain mailbox this site can mail, else raise InvalidAddress saying why."""
    text = (value or "").strip()
    if not any(ch in text for ch in "\r\n\x00") and (_SEVERAL.search(text) or text.count("@") > 1):
        raise InvalidAddress(_("Give exactly one address: a cover mail goes to one addressee."))
    return addresses.check_address(text)


def delivery_languages(appeal: Appeal) -> list[str]:
    """Return the languages a cover mail may be written in: the letter's, then approved versions."""
    return published_languages(appeal)


def cover_text(appeal: Appeal, person: dict, language: str, sender: User) -> tuple[str, str]:
    """Return the default subject and body of a cover mail to one addressee, in a language version."""
    with with_locale(language):
        title = localized_title(appeal, language)
        person = localized_addressee(appeal, person, language)
        name = person.get("name") or person.get("institution") or ""
        salutation = person.get("salutation") or _("Dear %(name)s,", name=name)
        body = render_template("delivery/cover.txt", appeal=appeal, title=title, salutation=salutation,
                               person=person, signatories=counted_total(appeal), sender=sender)
        return title, body


def attachments(appeal: Appeal, versions: list[str]) -> list[Attachment]:
    """Return the signed addressee PDF and the requested language versions, rendering them if needed.

    Raises jobs.RenderFailed when a PDF cannot be rendered now, AttachmentsTooLarge above the limit.
    """
    variants = ["standard"] + [jobs.variant_for(language=v) for v in versions
                               if v in delivery_languages(appeal) and v != appeal.original_language]
    found = []
    for variant in variants:
        record = _stored_pdf(appeal, variant)
        with open(jobs.file_path(record), "rb") as fh:
            found.append(Attachment(record.filename, fh.read()))
    limit = int(current_app.config["DELIVERY_MAX_ATTACHMENT_BYTES"])
    total = sum(len(a.data) for a in found)
    if total > limit:
        raise AttachmentsTooLarge(_("The attachments take %(size)s bytes; a cover mail may carry at most "
                                    "%(limit)s bytes (DELIVERY_MAX_ATTACHMENT_BYTES). Send fewer language "
                                    "versions.", size=f"{total:,}", limit=f"{limit:,}"))
    return found


def _stored_pdf(appeal: Appeal, variant: str):
    """Return the current addressee PDF; render a small list here, leave a large one to a job (RenderRunning)."""
    record = jobs.current_document(appeal, "addressees", variant)
    if record is not None:
        return record
    if counted_total(appeal) > int(current_app.config["PDF_SYNC_MAX"]):
        job = jobs.request_render(appeal, "addressees", variant)
        db.session.commit()  # a render job commits its own progress (pdf/jobs.py); nothing else is pending here
        jobs.dispatch(current_app._get_current_object(), job)
        raise jobs.RenderRunning(_("The PDF for the addressees is being rendered; send the cover mail when it is "
                                   "ready."))
    return jobs.render_now(appeal, "addressees", variant)


def _delivery_of(appeal: Appeal, index: int, revision: int) -> Delivery | None:
    return db.session.scalar(select(Delivery).where(
        Delivery.appeal_id == appeal.id, Delivery.addressee_index == index, Delivery.revision_number == revision))


def _refuse_second(appeal: Appeal, index: int, revision: int, name: str) -> None:
    earlier = _delivery_of(appeal, index, revision)
    if earlier is not None:
        raise AlreadyDelivered(_("Revision %(n)d was already delivered to %(name)s on %(day)s; it is not sent "
                                 "again.", n=revision, name=name, day=earlier.delivered_on.isoformat()))


def _undelivered(appeal: Appeal, index: int, revision: int) -> str:
    """Return the name of an addressee that may receive this revision now, else refuse."""
    ensure_deliverable(appeal)
    person = addressee(appeal, index)
    name = person.get("name") or person.get("institution") or person.get("email") or ""
    if revision != revision_number(appeal):
        raise IllegalTransition(_("The letter changed since this page was opened; open it again."))
    _refuse_second(appeal, index, revision, name)
    return name


def _add_once(appeal: Appeal, delivery: Delivery, name: str) -> None:
    """Store the delivery; a concurrent twin (double click) loses at the unique constraint."""
    try:
        with db.session.begin_nested():
            db.session.add(delivery)
    except IntegrityError:
        _refuse_second(appeal, delivery.addressee_index, delivery.revision_number, name)
        raise


def send_cover_mail(appeal: Appeal, index: int, revision: int, recipient: str, language: str, subject: str,
                    body: str, files: list[Attachment], actor: User) -> Delivery:
    """Queue the cover mail with its PDFs to one addressee and log it; the first delivery delivers the appeal."""
    name = _undelivered(appeal, index, revision)
    address = check_address(recipient)
    message = Message(subject=subject, recipients=[address], body=body, reply_to=actor.email)
    message.msgId = sending.new_message_id()
    for item in files:
        message.attach(item.filename, "application/pdf", item.data)
    delivery = Delivery(appeal_id=appeal.id, addressee_index=index, addressee_name=name, revision_number=revision,
                        method="email", recipient=address, language=language, subject=sending.header_text(subject),
                        message_id=message.msgId, attachment_bytes=sum(len(f.data) for f in files),
                        delivered_on=utcnow().date(), created_by_id=actor.id)
    _add_once(appeal, delivery, name)
    sending.queue(message, kind="cover", appeal=appeal)
    audit.record("delivery_sent", appeal, actor=actor, addressee=name, revision=revision,
                 message_id=message.msgId, attachments=[f.filename for f in files])
    _delivered(appeal, delivery, actor)
    return delivery


def record_manual_delivery(appeal: Appeal, index: int, revision: int, method: str, on: date,
                           actor: User) -> Delivery:
    """Log a delivery by post or in person on a given day; the first delivery delivers the appeal."""
    name = _undelivered(appeal, index, revision)
    if on > utcnow().date():
        raise IllegalTransition(_("A delivery date cannot be in the future."))
    delivery = Delivery(appeal_id=appeal.id, addressee_index=index, addressee_name=name, revision_number=revision,
                        method=method, delivered_on=on, created_by_id=actor.id)
    _add_once(appeal, delivery, name)
    audit.record("delivery_recorded", appeal, actor=actor, addressee=name, revision=revision, method=method,
                 delivered_on=on.isoformat())
    _delivered(appeal, delivery, actor)
    return delivery


def _delivered(appeal: Appeal, delivery: Delivery, actor: User) -> None:
    """Deliver the appeal on its first delivery; later deliveries only add to the log."""
    if appeal.status is AppealStatus.CLOSED:
        appeal.mark_delivered()
        audit.record("deliver", appeal, actor=actor, status=appeal.status.value, addressee=delivery.addressee_name)
        # Once per appeal, in the delivering transaction: the mails leave with its commit or not at all.
        updates.announce(appeal, "delivered", actor, detail={"addressee": delivery.addressee_name,
                                                             "on": delivery.delivered_on})


def delivery_in(appeal: Appeal, delivery_id: int) -> Delivery:
    """Return one delivery of this appeal (LookupError: none)."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.appeal_id != appeal.id:
        raise LookupError(delivery_id)
    return delivery


def reply_folder() -> str:
    """Return the folder of reply files, inside the instance folder (never served as static files)."""
    return os.path.join(current_app.instance_path, REPLY_FOLDER)


def reply_file_path(reply: DeliveryReply) -> str:
    return os.path.join(reply_folder(), reply.stored_name)


def record_reply(delivery: Delivery, received_on: date, note: str, filename: str | None, data: bytes | None,
                 actor: User) -> DeliveryReply:
    """Log an acknowledgement or reply, keeping its file under the instance folder (size-limited)."""
    if received_on > utcnow().date():
        raise IllegalTransition(_("A reply date cannot be in the future."))
    limit = int(current_app.config["DELIVERY_MAX_REPLY_BYTES"])
    if data is not None and len(data) > limit:
        raise IllegalTransition(_("The file takes %(size)s bytes; a reply file may take at most %(limit)s bytes.",
                                  size=f"{len(data):,}", limit=f"{limit:,}"))
    reply = delivery.add_reply(received_on, note, actor)
    if data:
        os.makedirs(reply_folder(), exist_ok=True)
        reply.stored_name, reply.file_bytes = secrets.token_hex(16), len(data)
        reply.filename = (filename or "reply")[:200]
        with open(reply_file_path(reply), "wb") as fh:
            fh.write(data)
    appeal = db.session.get(Appeal, delivery.appeal_id)
    audit.record("delivery_reply", appeal, actor=actor, addressee=delivery.addressee_name,
                 received_on=received_on.isoformat(), file=reply.filename)
    updates.announce(appeal, "replied", actor, detail={"addressee": delivery.addressee_name, "on": received_on})
    return reply


def deliveries_of(appeal: Appeal) -> list[Delivery]:
    """Return the appeal's delivery log, oldest first."""
    return list(db.session.scalars(select(Delivery).where(Delivery.appeal_id == appeal.id).order_by(Delivery.id)))


@dataclass
class PublicLine:
    addressee: str
    delivered_on: date
    replied_on: date | None


def public_lines(appeal: Appeal) -> list[PublicLine]:
    """Return, per addressee, the first day the letter reached them and the first reply, for the public page."""
    lines: dict[int, PublicLine] = {}
    for delivery in deliveries_of(appeal):
        replied = min((r.received_on for r in delivery.replies), default=None)
        line = lines.get(delivery.addressee_index)
        if line is None:
            lines[delivery.addressee_index] = PublicLine(delivery.addressee_name, delivery.delivered_on, replied)
        else:
            line.delivered_on = min(line.delivered_on, delivery.delivered_on)
            if replied is not None:
                line.replied_on = min(filter(None, (line.replied_on, replied)))
    return list(lines.values())
