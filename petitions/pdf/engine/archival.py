"""The signatory list as CSV: the organizers' export and the PDF/A-3 attachment are the same bytes."""
from __future__ import annotations

import csv
import io

import pikepdf

from petitions.pdf.engine.document import LetterDocument, grouped_entries

CSV_COLUMNS = ["name", "affiliation", "verification_level", "organization", "country", "revision", "kind",
               "signed_by", "role"]


def signatories_csv(doc: LetterDocument) -> bytes:
    """Return the listed signatories in printed order as UTF-8 CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    entries = [e for _, group in grouped_entries(doc) for e in group]
    entries += [e for g in doc.earlier_revisions for e in g.signatories]
    for e in entries:
        # An organization's row names who signed in columns of their own, not in the printed words.
        affiliation = "" if e.signer else e.affiliation
        writer.writerow([safe_cell(e.name), safe_cell(affiliation), e.level, "yes" if e.is_organization else "no",
                         safe_cell(e.country), e.revision_number, "organization" if e.is_organization else "person",
                         safe_cell(e.signer), safe_cell(e.role)])
    return out.getvalue().encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Return a CSV cell that spreadsheets show as text, never run as a formula (names come from strangers)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def attachment_of(pdf_data: bytes, name: str = "signatories.csv") -> bytes | None:
    """Return an embedded file of a PDF by name, or None."""
    with pikepdf.open(io.BytesIO(pdf_data)) as pdf:
        files = pdf.attachments
        if name not in files:
            return None
        return files[name].get_file().read_bytes()
