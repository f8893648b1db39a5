"""The appeal a sign POST reads: a copy of its row younger than SIGN_APPEAL_FRESH_SECONDS, kept in this process.

A burst of signatures reads one appeal thousands of times a minute, and reading it was a fifth of a sign
request. The copy decides nothing alone: given `unchanged_since(appeal)`, `operations.sign` inserts the
signature only while the stored appeal is still open with the `updated_at` the copy was read with (in the same
statement; `Appeal.updated_at` moves with every change of its text, settings or state), else raises AppealChanged
and the view reads the appeal again. An appeal that is not open, or whose deadline has passed, is always read
from the database (which closes it when due).
"""
from __future__ import annotations

import copy
import time
from collections import OrderedDict
from datetime import datetime

from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from petitions.appeals.models import Appeal
from petitions.appeals.views_public import public_appeal_or_404
from petitions.extensions import db

_KEYS = tuple(prop.key for prop in Appeal.__mapper__.column_attrs)  # the columns, and the published hash
_ID = _KEYS.index("id")
_COPIES: OrderedDict[tuple, tuple[float, tuple]] = OrderedDict()  # (database, slug) -> (read at, values)
_MAX_COPIES = 256
_RESTORED = "signing.appeal_copies"  # session.info: ids of the appeals this transaction took from a copy


def appeal_to_sign(slug: str) -> Appeal:
    """Return the appeal a signature is being given to: from a young copy of an open appeal, else read."""
    fresh = float(current_app.config["SIGN_APPEAL_FRESH_SECONDS"])
    key = (db.engine.url, slug)
    kept = _COPIES.get(key)
    if kept is not None and time.monotonic() - kept[0] < fresh:
        appeal = _restored(kept[1])
        if appeal.is_open and not appeal.is_past_deadline():
            return appeal
        _drop(appeal)  # due by the copy: the stored row decides (a deadline moved meanwhile keeps it open)
    appeal = public_appeal_or_404(slug)
    loaded = appeal.__dict__
    if fresh > 0 and appeal.is_open and not db.session.is_modified(appeal) and all(k in loaded for k in _KEYS):
        _COPIES[key] = (time.monotonic(), tuple(loaded[k] for k in _KEYS))
        while len(_COPIES) > _MAX_COPIES:
            _COPIES.popitem(last=False)
    return appeal


def unchanged_since(appeal: Appeal) -> datetime | None:
    """Return the `updated_at` a signature's INSERT must find, if this appeal object came from a copy."""
    return appeal.updated_at if appeal.id in db.session.info.get(_RESTORED, ()) else None


def forget(slug: str) -> None:
    """Drop this process's copy of an appeal (it was older than a change of the stored one)."""
    _COPIES.pop((db.engine.url, slug), None)


def fresh_appeal(appeal: Appeal) -> Appeal:
    """Return the appeal read again from the database, through the public rules (404, closing when due)."""
    _drop(appeal)
    return public_appeal_or_404(appeal.slug)


def _drop(appeal: Appeal) -> None:
    forget(appeal.slug)
    db.session.info.get(_RESTORED, set()).discard(appeal.id)
    db.session.expire(appeal)  # the next read fills this same object with the stored row, not the copy's


def _restored(values: tuple) -> Appeal:
    session = db.session()
    found = session.identity_map.get(session.identity_key(Appeal, (values[_ID],)))
    if found is not None:
        return found  # this request read it already: that object is the session's
    appeal = Appeal.__mapper__.class_manager.new_instance()
    loaded = appeal.__dict__
    for name, value in zip(_KEYS, values):
        # Lists and dicts (addressees, demands, choices) are copied: a request may change its own object.
        loaded[name] = copy.deepcopy(value) if isinstance(value, (list, dict)) else value
    # Filled as a query's load fills it (set_committed_value per column cost 37 µs, this 8);
    # make_transient_to_detached then commits these values as the loaded state.
    make_transient_to_detached(appeal)
    session.add(appeal)  # persistent at once: lazy relationships load as for an appeal read in this request
    session.info.setdefault(_RESTORED, set()).add(appeal.id)
    return appeal
