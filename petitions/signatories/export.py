"""Export an appeal's signatories with their verification as CSV (owners only; always audited)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from petitions.pdf.engine.archival import safe_cell
from petitions.appeals.models import Appeal, AppealRevision
from petitions.auth.models import User
from petitions.extensions import db
from petitions.registry.models import Organization
from petitions.signing.rules import anonymous_fields, counts
from petitions.signing.models import Signature, SignatureStatus, Visibility

COLUMNS = ["id", "name", "affiliation", "country", "status", "counts", "level", "review", "review_reason",
           "organization", "official", "vouched_by", "vouched_at", "vouch_note", "merged_into", "revision",
           "language", "source", "signed_at", "confirmed_at", "kind", "signs_for_organization", "role"]


def _cell(value) -> str:
    """Return a value as a CSV cell, made safe by the one rule of both CSVs (`archival.safe_cell`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value.isoformat(sep=" ", timespec="seconds") if hasattr(value, "isoformat") else str(value)
    return safe_cell(text)


def _query(appeal: Appeal):
    voucher = aliased(User)
    return (
        select(Signature, Organization.name, voucher.name, AppealRevision.number)
        .outerjoin(Organization, Organization.id == Signature.organization_id)
        .outerjoin(voucher, voucher.id == Signature.vouched_by_id)
        .outerjoin(AppealRevision, AppealRevision.id == Signature.revision_id)
        .where(Signature.appeal_id == appeal.id, Signature.status != SignatureStatus.WITHDRAWN)
        .order_by(Signature.id)
    )


def row_count(appeal: Appeal) -> int:
    """Return how many signatories an export holds."""
    return db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.appeal_id == appeal.id, Signature.status != SignatureStatus.WITHDRAWN))


def rows(appeal: Appeal) -> Iterator[list[str]]:
    """Yield the header, then one list of cells per signatory (withdrawn ones are gone), streaming."""
    yield COLUMNS
    result = db.session.execute(_query(appeal).execution_options(yield_per=1000))
    for s, org, voucher, revision in result:
        name, affiliation, country = s.full_name, s.affiliation, s.country
        kind, signs_for, role = s.kind.value, s.organization_name, s.signer_role
        if s.visibility is Visibility.ANONYMOUS:  # anonymous hides the name from the organizers too
            name, affiliation, country = anonymous_fields(s)
            org = org if affiliation else None  # the matched organization would give the affiliation away
            # Kind and role narrow down who it is; the organization shows only as the affiliation may.
            kind, signs_for, role = "", affiliation if s.for_organization else "", ""
        yield [_cell(v) for v in (
            s.id, name, affiliation, country, s.status.value, counts(s), s.level.value, s.review.value,
            s.review_reason, org, s.official, voucher, s.vouched_at, s.vouch_note, s.merged_into_id, revision,
            s.language, s.source, s.created_at, s.confirmed_at, kind, signs_for, role)]


def csv_chunks(appeal: Appeal, rows_per_chunk: int = 500) -> Iterator[str]:
    """Yield the CSV in chunks of text (UTF-8 with BOM, so that spreadsheets read the scripts right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for n, cells in enumerate(rows(appeal), 1):
        writer.writerow(cells)
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
