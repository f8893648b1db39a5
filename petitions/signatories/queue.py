"""The review queue: filtered keyset pages, bulk decisions, duplicate scans, merges and dismissals."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import aliased

from petitions import audit
from petitions.appeals.models import Appeal
from petitions.auth.models import User
from petitions.extensions import db
from petitions.registry.models import Organization
from petitions.signatories.dedupe import THRESHOLD, find_duplicate_groups, similarity
from petitions.signatories.models import DuplicatePair, PairState
from petitions.signing.models import Level, Review, Signature, SignatureStatus
from petitions.signing.models import ModerationError
from petitions.signing.rules import OrganizerView, for_organizers
from petitions.translations.models import AppealTranslation

PAGE_SIZE = 50
BULK_MAX = 200
LARGE_GROUP = 12  # beyond this, a group is paired only with its first member, not all with all
LEVEL_RANK = {level: rank for rank, level in enumerate(Level)}
ACTIONS = ("approve", "reject", "vouch")


@dataclass
class QueueFilter:
    """What the organizer asked to see; empty values mean "any"."""

    level: str = ""
    flag: str = ""
    language: str = ""
    review: str = ""
    status: str = ""  # "" hides withdrawn signatures; "withdrawn" shows only them

    def conditions(self, appeal: Appeal) -> list:
        """Return the WHERE conditions, on indexed columns first."""
        cond = [Signature.appeal_id == appeal.id]
        if self.status:
            cond.append(Signature.status == SignatureStatus(self.status))
        else:
            cond.append(Signature.status != SignatureStatus.WITHDRAWN)
        if self.level:
            cond.append(Signature.level == Level(self.level))
        if self.review == "merged":
            cond.append(Signature.merged_into_id.is_not(None))
        elif self.review:
            cond.append(Signature.review == Review(self.review))
        if self.language:
            cond.append(Signature.language == self.language)
        if self.flag == "any":
            cond.append(cast(Signature.flags, String) != "[]")
        elif self.flag:
            # Flags are short codes from a fixed list, stored as a JSON array: a quoted match is exact.
            cond.append(cast(Signature.flags, String).like(f'%"{self.flag}"%'))
        return cond


@dataclass
class QueueRow:
    """One line of the queue with the names it shows, loaded in the same query."""

    signature: Signature
    organization: str | None
    vouched_by: str | None
    reviewed_by: str | None

    @property
    def shown(self) -> OrganizerView:
        """Return the signer as the queue may show them (an anonymous one without name)."""
        return for_organizers(self.signature)

    @property
    def organization_shown(self) -> str | None:
        """Return the matched organization unless it would give an anonymous signer's affiliation away."""
        return self.organization if self.shown.affiliation or not self.shown.anonymous else None


@dataclass
class Page:
    rows: list[QueueRow]
    next_before: int | None  # keyset: the id to continue below, None on the last page
    total: int
    extra: dict = field(default_factory=dict)


def queue_page(appeal: Appeal, filt: QueueFilter, before: int | None = None, size: int | None = None) -> Page:
    """Return one page of the queue, newest first, continuing below the id `before`."""
    size = size or PAGE_SIZE
    voucher, reviewer = aliased(User), aliased(User)
    cond = filt.conditions(appeal)
    query = (
        select(Signature, Organization.name, voucher.name, reviewer.name)
        .outerjoin(Organization, Organization.id == Signature.organization_id)
        .outerjoin(voucher, voucher.id == Signature.vouched_by_id)
        .outerjoin(reviewer, reviewer.id == Signature.reviewed_by_id)
        .where(*cond)
    )
    if before is not None:
        query = query.where(Signature.id < before)
    result = db.session.execute(query.order_by(Signature.id.desc()).limit(size + 1)).all()
    rows = [QueueRow(*r) for r in result[:size]]
    next_before = rows[-1].signature.id if len(result) > size else None
    total = db.session.scalar(select(func.count()).select_from(Signature).where(*cond))
    return Page(rows, next_before, total)


def languages(appeal: Appeal) -> list[str]:
    """Return the languages signers may have read the appeal in (no scan of the signatures)."""

    found = {appeal.original_language, *current_app.config["LANGUAGES"]}
    found |= set(db.session.scalars(select(AppealTranslation.language).where(AppealTranslation.appeal_id == appeal.id)))
    return sorted(found)


def _signatures(appeal: Appeal, ids: list[int]) -> list[Signature]:
    return list(db.session.scalars(select(Signature).where(Signature.appeal_id == appeal.id,
                                                           Signature.id.in_(ids[:BULK_MAX]))))


def moderate(appeal: Appeal, user: User, ids: list[int], action: str, text: str = "") -> tuple[int, list[str]]:
    """Apply approve, reject or vouch to the chosen signatures; return (changed, problems)."""
    if action not in ACTIONS:
        raise ModerationError(_l("Unknown action %(action)r.", action=action))
    if action == "reject" and not " ".join((text or "").split()):
        raise ModerationError(_l("Give a reason for rejecting: other organizers will read it."))
    done, problems = [], []
    for signature in _signatures(appeal, ids):
        try:
            if action == "approve":
                signature.approve(user)
            elif action == "reject":
                signature.reject(user, text)
            else:
                signature.vouch(user, text)
        except ModerationError as exc:
            problems.append(f"{for_organizers(signature).display_line}: {exc}")
        else:
            done.append(signature.id)
    if done:
        detail = {"signatures": done}
        if text:
            detail["reason" if action == "reject" else "note"] = text
        audit.record(f"signatures.{action}", appeal, actor=user, **detail)
    return len(done), problems


def _pair_key(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def scan_duplicates(appeal: Appeal, user: User | None) -> int:
    """Look for likely-same people among the appeal's signatures; store new candidate pairs, return their number."""
    rows = db.session.execute(
        select(Signature.id, Signature.full_name, Signature.affiliation).where(
            Signature.appeal_id == appeal.id, Signature.status != SignatureStatus.WITHDRAWN,
            Signature.review != Review.REJECTED, Signature.merged_into_id.is_(None)).order_by(Signature.id)
    ).all()
    known = set(db.session.execute(
        select(DuplicatePair.first_id, DuplicatePair.second_id).where(DuplicatePair.appeal_id == appeal.id)).all())
    new = []
    for group in find_duplicate_groups([(r.full_name, r.affiliation) for r in rows]):
        members = [rows[i] for i in group]
        pairs = (itertools.combinations(members, 2) if len(members) <= LARGE_GROUP
                 else ((members[0], m) for m in members[1:]))
        for a, b in pairs:
            key = _pair_key(a.id, b.id)
            if key in known:
                continue
            score = similarity(a.full_name, a.affiliation, b.full_name, b.affiliation)
            if score >= THRESHOLD:
                known.add(key)
                new.append(DuplicatePair(appeal_id=appeal.id, first_id=key[0], second_id=key[1],
                                         score=round(score, 3)))
    db.session.add_all(new)
    audit.record("signatures.duplicates_scanned", appeal, actor=user, new_pairs=len(new))
    return len(new)


@dataclass
class PairRow:
    pair: DuplicatePair
    first: Signature
    second: Signature

    @property
    def shown(self) -> tuple[OrganizerView, OrganizerView]:
        """Return both signers as the page may show them: duplicates are found by name, never shown by it."""
        return for_organizers(self.first), for_organizers(self.second)


def open_pairs(appeal: Appeal, after: int | None = None, size: int = PAGE_SIZE) -> tuple[list[PairRow], int | None]:
    """Return a page of undecided pairs whose two signatures still count separately, best score first."""
    first, second = aliased(Signature), aliased(Signature)
    query = (
        select(DuplicatePair, first, second)
        .join(first, first.id == DuplicatePair.first_id).join(second, second.id == DuplicatePair.second_id)
        .where(DuplicatePair.appeal_id == appeal.id, DuplicatePair.state == PairState.OPEN,
               first.merged_into_id.is_(None), second.merged_into_id.is_(None),
               first.status != SignatureStatus.WITHDRAWN, second.status != SignatureStatus.WITHDRAWN)
        .order_by(DuplicatePair.id)
    )
    if after is not None:
        query = query.where(DuplicatePair.id > after)
    result = db.session.execute(query.limit(size + 1)).all()
    rows = [PairRow(*r) for r in result[:size]]
    return rows, (rows[-1].pair.id if len(result) > size else None)


def _pair(appeal: Appeal, pair_id: int) -> DuplicatePair:
    pair = db.session.get(DuplicatePair, pair_id)
    if pair is None or pair.appeal_id != appeal.id:
        raise ModerationError(_l("This pair does not exist (any more)."))
    if pair.state is not PairState.OPEN:
        raise ModerationError(_l("This pair was already merged.") if pair.state.value == "merged"
                              else _l("This pair was already dismissed."))
    return pair


def _keeper(a: Signature, b: Signature) -> tuple[Signature, Signature]:
    """Return (kept, merged): keep the better-verified signature, then the confirmed one, then the older."""
    def rank(s: Signature):
        return (LEVEL_RANK[s.level], s.status is SignatureStatus.CONFIRMED, s.review is not Review.REJECTED, -s.id)
    return (a, b) if rank(a) >= rank(b) else (b, a)


def merge(appeal: Appeal, user: User, pair_id: int) -> Signature:
    """Merge a candidate pair: the person counts once; both records stay; return the kept one."""
    pair = _pair(appeal, pair_id)
    kept, merged = _keeper(db.session.get(Signature, pair.first_id), db.session.get(Signature, pair.second_id))
    merged.merge_into(kept)
    # Records merged earlier into the one that now goes under point straight to the kept one.
    for child in db.session.scalars(select(Signature).where(Signature.merged_into_id == merged.id)):
        child.follow_merge(kept)
    pair.decide(PairState.MERGED, user)
    audit.record("signatures.merged", appeal, actor=user, kept=kept.id, merged=merged.id, score=pair.score)
    return kept


def dismiss(appeal: Appeal, user: User, pair_id: int) -> None:
    """Record that a candidate pair is two different people; no scan proposes it again."""
    pair = _pair(appeal, pair_id)
    pair.decide(PairState.DISMISSED, user)
    audit.record("signatures.duplicate_dismissed", appeal, actor=user, first=pair.first_id, second=pair.second_id)


def unmerge(appeal: Appeal, user: User, signature_id: int) -> None:
    """Count a merged signature on its own again."""
    [signature] = _signatures(appeal, [signature_id]) or [None]
    if signature is None:
        raise ModerationError(_l("This signature does not exist."))
    was = signature.merged_into_id
    signature.unmerge()
    audit.record("signatures.unmerged", appeal, actor=user, signature=signature.id, was_merged_into=was)
