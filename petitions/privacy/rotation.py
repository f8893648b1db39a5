"""Key rotation of what the outbox holds: recipients and copies of mail not yet handed over."""
from cryptography.fernet import InvalidToken
from sqlalchemy import or_, select, update

from petitions import crypto
from petitions.extensions import db
from petitions.mail.models import OutboxMessage

_OUTBOX = OutboxMessage.__table__


def _same(column, value):
    return column.is_(None) if value is None else column == value


def rotate_outbox(batch: int = 500) -> tuple[int, int]:
    """Re-encrypt the outbox's held recipients and copies with the newest data key, `batch` rows per transaction.

    Return how many rows were re-encrypted and how many no configured key opens.
    """
    fernet = crypto._fernet()
    done = unreadable = last_id = 0
    held = or_(_OUTBOX.c.recipients_encrypted.is_not(None), _OUTBOX.c.body_encrypted.is_not(None))
    while True:
        rows = db.session.execute(select(_OUTBOX.c.id, _OUTBOX.c.recipients_encrypted, _OUTBOX.c.body_encrypted)
                                  .where(_OUTBOX.c.id > last_id, held).order_by(_OUTBOX.c.id).limit(batch)).all()
        if not rows:
            db.session.commit()  # end the last read: in a command it holds SQLite's write lock (BEGIN IMMEDIATE)
            return done, unreadable
        for row_id, recipients, body in rows:
            try:
                values = {"recipients_encrypted": fernet.rotate(recipients.encode()).decode() if recipients else None,
                          "body_encrypted": fernet.rotate(body) if body else None}
            except InvalidToken:  # under a key that is no longer configured: only that key could still open it
                unreadable += 1
                continue
            # Only if unchanged: a worker that sent the message meanwhile dropped both, which must stay dropped.
            done += db.session.execute(update(_OUTBOX).where(
                _OUTBOX.c.id == row_id, _same(_OUTBOX.c.recipients_encrypted, recipients),
                _same(_OUTBOX.c.body_encrypted, body)).values(**values)).rowcount
        last_id = rows[-1].id
        db.session.commit()
