"""Import offline signature lists into an appeal: preview, then insert in batches (bounded memory)."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import insert, or_, select

from petitions import audit, crypto
from petitions.appeals.models import Appeal
from petitions.audit.models import AuditEvent
from petitions.auth.models import User
from petitions.extensions import db, utcnow
from petitions.registry import services as registry
from petitions.signatories.dedupe import find_duplicate_groups
from petitions.signatories.parsing import ImportFormatError, ImportRow, decode, iter_csv, iter_lines, revised
from petitions.signing import levels as verification
from petitions.signing.models import Level, Review, Signature, SignatureStatus, Visibility
from petitions.signing.operations import confirmation_token, queue_signer_mail
from petitions.signing.rules import lists_changed, organizer_view
from petitions.urls import signer_url

BATCH = 1000
MODES = ("vouched", "invite")
# Problems that leave no usable signatory on the row; the others are warnings shown to the organizer.
FATAL = ("junk", "missing_name", "invalid_name", "invalid_affiliation")
PREVIEW_ROWS = 300


class ImportRefused(Exception):
    """The import as a whole cannot go ahead; the message says why."""


def text_of(data: bytes | str) -> str:
    """Return the text of an uploaded or pasted list (bytes are decoded or ImportFormatError is raised)."""
    return decode(data) if isinstance(data, bytes) else data


def kind_for(filename: str) -> str:
    """Return "csv" for table files and "lines" for free-form lists, judged by the file name."""
    return "csv" if filename.lower().endswith((".csv", ".tsv")) else "lines"


def rows_of(text: str, kind: str) -> Iterator[ImportRow]:
    """Yield the parsed rows of a list one by one."""
    return iter_csv(text) if kind == "csv" else iter_lines(text)


def is_fatal(row: ImportRow) -> bool:
    """Tell whether a row cannot be imported (no name, or a part that had to be refused)."""
    return not row.name or any(p.split(":", 1)[0] in FATAL for p in row.problems)


def is_flagged(row: ImportRow) -> bool:
    """Tell whether the name was flagged as not looking like a person's (names.flags_for_name): left out by default."""
    return any(p.startswith("flag:") for p in row.problems)


def digest(text: str) -> str:
    """Return the fingerprint that recognises the same list imported twice."""
    return hashlib.sha256(text.encode()).hexdigest()


def seal(appeal: Appeal, text: str, kind: str) -> str:
    """Return the keyed seal that binds the organizer's row choices to the list exactly as previewed."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"import-preview\0{appeal.id}\0{kind}\0{digest(text)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def check_seal(appeal: Appeal, text: str, kind: str, given: str) -> None:
    """Refuse a list that is not the one previewed (a changed payload would shift what each line number means)."""
    if not isinstance(given, str) or not hmac.compare_digest(seal(appeal, text, kind), given):
        raise ImportRefused(_("The list is not the one that was previewed. Preview it again, then import."))


@dataclass(frozen=True)
class Choices:
    """What the organizer chose in the preview, by line number of the previewed list."""

    offered: frozenset[int] = frozenset()  # lines the preview showed with a checkbox
    included: frozenset[int] = frozenset()  # of those, the ticked ones
    edits: Mapping[int, tuple[str, str]] = field(default_factory=dict)  # line -> (name, affiliation) as typed

    def left_out(self, line: int) -> bool:
        """Tell whether the organizer unticked this line."""
        return line in self.offered and line not in self.included

    def picked(self, line: int) -> bool:
        """Tell whether the organizer ticked this line (which overrides the default of leaving it out)."""
        return line in self.included and line in self.offered


def chosen_rows(text: str, kind: str, choices: Choices | None = None) -> Iterator[ImportRow]:
    """Yield the rows of a list with the organizer's edits applied (an edited row is checked again)."""
    for row in rows_of(text, kind):
        edit = choices.edits.get(row.line) if choices else None
        if edit is not None and choices.picked(row.line) and edit != (row.name, row.affiliation):
            row = revised(row, *edit)
        yield row


def default_included(row: ImportRow, existing: Mapping[int, object]) -> bool:
    """Tell whether the preview ticks a row at first: not when it cannot be imported, is flagged or already signed."""
    return not is_fatal(row) and not is_flagged(row) and row.line not in existing


@dataclass
class Preview:
    """What an import would do, shown before anything is stored."""

    rows: list[ImportRow]  # the first PREVIEW_ROWS rows and every row with a problem or a duplicate
    total: int
    importable: int
    with_email: int
    groups: list[list[int]]  # line numbers within the list that are likely the same person
    existing: dict[int, list[tuple[int, str]]]  # line -> [(signature id, "Name – Affiliation")] already signed
    already_imported: bool = False
    flagged: int = 0  # importable rows whose name is flagged, left out unless ticked

    def same_as(self, line: int) -> list[int]:
        """Return the other lines of the list that are probably the same person as this one."""
        return [other for g in self.groups if line in g for other in g if other != line]

    def ticked(self, row: ImportRow) -> bool:
        """Tell whether the row's checkbox starts ticked."""
        return default_included(row, self.existing)


def _existing_records(appeal: Appeal) -> list[tuple[int, str, str]]:
    return db.session.execute(
        select(Signature.id, Signature.full_name, Signature.affiliation).where(
            Signature.appeal_id == appeal.id, Signature.status != SignatureStatus.WITHDRAWN,
            Signature.merged_into_id.is_(None))).all()


def _shown_existing(ids: list[int]) -> dict[int, str]:
    # Matching uses the real names; the page shows only what organizers may see (no anonymous name).
    rows = db.session.execute(select(
        Signature.id, Signature.full_name, Signature.affiliation, Signature.country, Signature.visibility,
        Signature.status, Signature.anonymous_display).where(Signature.id.in_(ids))).all()
    return {r[0]: organizer_view(*r).display_line for r in rows}


def matches_with_existing(appeal: Appeal, named: list[tuple[int, str, str]]) -> dict[int, list[tuple[int, str]]]:
    """Return, per line, the existing signatures that the row probably duplicates."""
    existing = _existing_records(appeal)
    if not existing or not named:
        return {}
    records = [(n, a) for _, n, a in named] + [(n, a) for _, n, a in existing]
    found: dict[int, list[tuple[int, str]]] = {}
    for group in find_duplicate_groups(records):
        ours = [named[i][0] for i in group if i < len(named)]
        theirs = [existing[i - len(named)] for i in group if i >= len(named)]
        for line in ours:
            found[line] = [sid for sid, _n, _a in theirs]
    shown = _shown_existing(sorted({sid for sids in found.values() for sid in sids}))
    return {line: [(sid, shown[sid]) for sid in sids] for line, sids in found.items() if sids}


def preview(appeal: Appeal, text: str, kind: str) -> Preview:
    """Parse a list and report rows, problems and duplicates; store nothing."""
    shown: list[ImportRow] = []
    named: list[tuple[int, str, str]] = []
    total = importable = with_email = flagged = 0
    problem_lines: set[int] = set()
    rows_by_line: dict[int, ImportRow] = {}
    for row in rows_of(text, kind):
        total += 1
        if not is_fatal(row):
            importable += 1
            with_email += row.email is not None
            flagged += is_flagged(row)
            named.append((row.line, row.name, row.affiliation))
        if row.problems:
            problem_lines.add(row.line)
        if len(shown) < PREVIEW_ROWS or row.problems:
            shown.append(row)
        else:
            rows_by_line[row.line] = row  # only kept if it turns out to be a duplicate, see below
    groups = [[named[i][0] for i in g] for g in find_duplicate_groups([(n, a) for _, n, a in named])]
    existing = matches_with_existing(appeal, named)
    doubtful = {line for g in groups for line in g} | set(existing)
    shown_lines = {r.line for r in shown}
    shown += [rows_by_line[line] for line in sorted(doubtful - shown_lines) if line in rows_by_line]
    shown.sort(key=lambda r: r.line)
    return Preview(shown, total, importable, with_email, groups, existing,
                   already_imported=was_imported(appeal, digest(text)), flagged=flagged)


def was_imported(appeal: Appeal, fingerprint: str) -> bool:
    """Tell whether this very list was imported into the appeal before."""
    details = db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.appeal_id == appeal.id, AuditEvent.action == "signatories.imported"))
    return any((d or {}).get("sha256") == fingerprint for d in details)


@dataclass
class ImportResult:
    created: int = 0
    invited: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def import_list(appeal: Appeal, user: User | None, text: str, kind: str, mode: str, note: str = "",
                skip_existing: bool = True, force: bool = False,
                commit: Callable[[], None] | None = None, include_flagged: bool = False,
                choices: Choices | None = None) -> ImportResult:
    """Store the rows of a list as vouched signatures or as invitations to confirm.

    Rows whose name is flagged are left out unless `include_flagged` or the organizer ticked them in
    the preview (`choices`, which also leaves out unticked rows and carries edits). Rows are inserted in
    batches of BATCH; `commit`, when given (command line), is called after each batch of invitations so
    that their mail leaves and memory stays bounded.
    """
    if mode not in MODES:
        raise ImportRefused(_l("Unknown import mode %(mode)r; use one of %(modes)s.", mode=mode, modes=", ".join(MODES)))
    if mode == "vouched" and user is None:
        raise ImportRefused(_l("A vouched import needs the organizer who vouches."))
    if appeal.published_revision_id is None:
        raise ImportRefused(_l("Publish the appeal first: signatures are bound to the published text."))
    if not appeal.is_open and mode == "invite":
        raise ImportRefused(_l("Invitations can only be sent while the appeal is open."))
    fingerprint = digest(text)
    if not force and was_imported(appeal, fingerprint):
        raise ImportRefused(_l("This very list was already imported into this appeal."))
    named = []
    for r in chosen_rows(text, kind, choices):
        if choices is not None and choices.picked(r.line) and is_fatal(r):
            # The organizer asked for this row; saying why beats skipping it silently.
            raise ImportRefused(_("Line %(line)d cannot be imported: %(reason)s", line=r.line,
                                  reason=r.problems[0].split(": ", 1)[-1] if r.problems else _("no name")))
        if skip_existing and not is_fatal(r) and not (choices is not None and choices.picked(r.line)):
            named.append((r.line, r.name, r.affiliation))
    skip = {line: "looks like a signatory who already signed" for line in matches_with_existing(appeal, named)}
    del named

    def keep_flagged(line: int) -> bool:
        return include_flagged or (choices is not None and choices.picked(line))

    result = ImportResult()
    matcher = verification.matcher_for(appeal)
    seen_hashes: set[str] = set(db.session.scalars(
        select(Signature.email_hash).where(Signature.appeal_id == appeal.id, Signature.email_hash.is_not(None))))
    if mode == "invite" and user is not None:
        _check_invitation_quota(appeal, user, _invitations_in(text, kind, skip, seen_hashes, choices, keep_flagged))
    batch: list[tuple[ImportRow, str | None]] = []
    for row in chosen_rows(text, kind, choices):
        reason = _refusal(row, mode, skip, seen_hashes, choices, keep_flagged)
        if reason:
            result.skipped.append((row.line, reason))
            continue
        key = crypto.email_hash(row.email) if row.email else None
        if key:
            seen_hashes.add(key)
        batch.append((row, key))
        if len(batch) >= BATCH:
            _store(appeal, user, batch, mode, note, matcher, result)
            batch = []
            if commit is not None and mode == "invite":
                commit()
    if batch:
        _store(appeal, user, batch, mode, note, matcher, result)
    audit.record("signatories.imported", appeal, actor=user, mode=mode, sha256=fingerprint,
                 created=result.created, invited=result.invited, skipped=len(result.skipped), note=note)
    return result


def _invitations_in(text: str, kind: str, skip: dict[int, str], seen_hashes: set[str], choices: Choices | None,
                    keep_flagged: Callable[[int], bool]) -> int:
    """Return how many invitation mails importing this list would send (a dry pass of the loop below)."""
    seen, count = set(seen_hashes), 0
    for row in chosen_rows(text, kind, choices):
        if _refusal(row, "invite", skip, seen, choices, keep_flagged) is None:
            seen.add(crypto.email_hash(row.email))
            count += 1
    return count


def invitations_left(appeal: Appeal, user: User) -> tuple[int, int]:
    """Return (how many more, daily limit) import invitations this account may send to this appeal now."""
    config, now = current_app.config, utcnow()
    daily = config["IMPORT_INVITE_DAILY_LIMIT"]
    young = user.created_at is not None and user.created_at > now - timedelta(days=config["IMPORT_NEW_ACCOUNT_DAYS"])
    limit = min(daily, config["IMPORT_INVITE_NEW_ACCOUNT_LIMIT"]) if young else daily
    # Counted per account (over all its appeals) and per appeal (over all its organizers), in the last 24 hours.
    events = db.session.execute(select(AuditEvent.actor_id, AuditEvent.appeal_id, AuditEvent.detail).where(
        AuditEvent.action == "signatories.imported", AuditEvent.created_at > now - timedelta(days=1),
        or_(AuditEvent.actor_id == user.id, AuditEvent.appeal_id == appeal.id))).all()
    by_account = sum(int((d or {}).get("invited") or 0) for actor, _a, d in events if actor == user.id)
    by_appeal = sum(int((d or {}).get("invited") or 0) for _u, a, d in events if a == appeal.id)
    return max(0, min(limit - by_account, daily - by_appeal)), limit


def _check_invitation_quota(appeal: Appeal, user: User, wanted: int) -> None:
    left, limit = invitations_left(appeal, user)
    if wanted > left:
        raise ImportRefused(_(
            "This import would send %(n)d invitation mails, but only %(left)d more may be sent in the next "
            "24 hours (at most %(limit)d a day for this account and this appeal). Import fewer rows, "
            "or import them as vouched signatures, which sends no mail.", n=wanted, left=left, limit=limit))


def _refusal(row: ImportRow, mode: str, skip: dict[int, str], seen_hashes: set[str], choices: Choices | None,
             keep_flagged: Callable[[int], bool]) -> str | None:
    if choices is not None and choices.left_out(row.line):
        return "left out in the preview"
    if is_fatal(row):
        return row.problems[0] if row.problems else "no name"
    if is_flagged(row) and not keep_flagged(row.line):
        codes = ", ".join(p.split(":", 1)[1] for p in row.problems if p.startswith("flag:"))
        return f"does not look like a person's name ({codes}); left out (tick it in the preview to import it)"
    if row.line in skip:
        return skip[row.line]
    if mode == "invite" and row.email is None:
        return "no e-mail address to send the invitation to"
    if row.email and crypto.email_hash(row.email) in seen_hashes:
        return "this e-mail address already signed (or appears twice in the list)"
    return None


def _values(appeal: Appeal, user: User | None, row: ImportRow, key: str | None, mode: str, note: str,
            matcher: registry.Matcher, now) -> dict:
    values = {
        "appeal_id": appeal.id, "full_name": row.name, "affiliation": row.affiliation, "country": "",
        "email_hash": key, "email_encrypted": crypto.encrypt(crypto.normalize_email(row.email)) if key else None,
        "language": appeal.original_language, "revision_id": appeal.published_revision_id,
        "text_hash": appeal.content_hash, "consent_at": now, "source": "import", "review": Review.UNREVIEWED,
        "review_reason": "", "vouch_note": "", "created_at": now, "visibility": Visibility.PUBLIC,
        "consent_version": "",
        **verification.derived(row.name, row.affiliation, matcher),
    }
    if mode == "vouched":
        values.update(status=SignatureStatus.CONFIRMED, level=Level.VOUCHED, confirmed_at=now,
                      vouched_by_id=user.id, vouched_at=now,
                      vouch_note=(note or "Imported from an offline list")[:500])
        if values["official"]:
            values["official"] = False  # an organizer's list cannot make a body sign officially
    else:
        values.update(status=SignatureStatus.PENDING, level=Level.UNCONFIRMED)
    return values


def _store(appeal: Appeal, user: User | None, batch: list[tuple[ImportRow, str | None]], mode: str, note: str,
           matcher: registry.Matcher, result: ImportResult) -> None:
    now = utcnow()
    values = [_values(appeal, user, row, key, mode, note, matcher, now) for row, key in batch]
    if mode == "vouched":
        # Core inserts keep no objects in the session: 100,000 rows need no more memory than 1,000.
        # render_nulls keeps one key set for every row, so the batch goes out as one executemany.
        db.session.execute(insert(Signature).execution_options(render_nulls=True), values)
        lists_changed([appeal.id])
        result.created += len(values)
        return
    signatures = [Signature(**v) for v in values]
    db.session.add_all(signatures)
    db.session.flush()
    for signature, (row, _choice) in zip(signatures, batch):
        _queue_invitation(signature, row.email)
    result.created += len(signatures)
    result.invited += len(signatures)


def _queue_invitation(signature: Signature, email: str) -> None:
    link = signer_url("signatures.confirm", signature.language, token=confirmation_token(signature))
    queue_signer_mail(signature, email, "mail/import_invitation.txt", link,
                      lambda title: _("Please confirm that you signed: %(title)s", title=title))


__all__ = ["Choices", "ImportFormatError", "ImportRefused", "preview", "seal", "check_seal", "import_list", "text_of", "kind_for", "rows_of"]
