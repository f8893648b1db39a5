"""The final PDF as the web makes it (pdf/jobs.py): amended texts, verification levels, list layout, closing."""
import io
import os
import re

import pytest
from pypdf import PdfReader

from .conftest import new_appeal
from petitions.appeals import services as drafting
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.pdf import jobs
from petitions.pdf.models import JobStatus
from petitions.signatories import importing
from petitions.signing import operations as signing
from petitions import links as tokens

OLD_BODY = "We ask you to release the journalists arrested in March."
NEW_BODY = "We ask you to release the journalists arrested in March and in April."


@pytest.fixture
def appeal(smtp_app):
    owner = register_user("Press Freedom Coalition", "owner@example.org", "a long password")
    appeal = new_appeal(owner, "Free the journalists", "Secretary General\nCouncil of Europe", OLD_BODY,
                        closing="Yours sincerely,")
    appeal.publish()
    db.session.commit()
    return appeal


def render(appeal) -> bytes:
    """Render the addressees' PDF through a job, as the organizer page does, and return the stored file."""
    job = jobs.request_render(appeal, "addressees")
    db.session.commit()
    job = jobs.run_job(job.id)
    assert job.status is JobStatus.DONE, job.error
    with open(jobs.file_path(jobs.latest_document(appeal, "addressees")), "rb") as fh:
        data = fh.read()
    if os.environ.get("PDF_SAMPLE_DIR"):  # for looking at it: pdftoppm -png -r 60
        with open(os.path.join(os.environ["PDF_SAMPLE_DIR"], f"{appeal.slug}.pdf"), "wb") as fh:
            fh.write(data)
    return data


def pages_of(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def sign_confirmed(appeal, name: str, n: int):
    signature = signing.sign(appeal, name, "Journalist", f"signer{n}@example.org").signature
    signature.confirm()
    return signature


def amend(appeal, **changes) -> None:
    drafting.save_text(appeal, appeal.owner, appeal.content() | changes)
    drafting.publish_revision(appeal, appeal.owner)
    db.session.commit()


def page_with(pages: list[str], text: str) -> int:
    """Return the 1-based number of the only page that shows text."""
    found = [n for n, page in enumerate(pages, start=1) if text in page]
    assert len(found) == 1, (text, found)
    return found[0]


def test_each_text_comes_with_its_own_signatories_and_the_totals_add_up(appeal):
    first = [sign_confirmed(appeal, f"Early Signer{i}", i) for i in range(2)]
    amend(appeal, body=OLD_BODY + " Second revision.")
    second = [sign_confirmed(appeal, f"Middle Signer{i}", 10 + i) for i in range(12)]
    db.session.commit()
    amend(appeal, body=NEW_BODY, demands=["Drop every charge."])
    # One signer of revision 2 confirms the amended text through the mailed link.
    token = tokens.make_token(tokens.RECONFIRM, {"s": second[0].id, "r": appeal.published_revision_id,
                                                    "h": second[0].email_hash[:16]})
    signing.reconfirm(token)
    db.session.commit()
    assert {s.revision.number for s in first} == {1} and second[0].revision.number == 3

    pages = pages_of(render(appeal))
    total = len(pages)
    for number, page in enumerate(pages, start=1):
        assert page.endswith(f"Page {number} of {total}")
    text = " ".join(pages)
    # The reader sees the current text and who signed it, then each earlier text, then its own signatories.
    order = [NEW_BODY, "Drop every charge.", "Signatories of the current text (revision 3)",
             "13 more signatories signed an earlier text", "Middle Signer0",
             "Earlier text: revision 2", OLD_BODY + " Second revision.", "Signatories of revision 2",
             "Middle Signer1", "Earlier text: revision 1", OLD_BODY, "Signatories of revision 1",
             "Early Signer0", "Annex: how this document was made"]
    at = 0
    for part in order:
        assert part in text[at:], f"{part!r} missing or out of order"
        at = text.index(part, at) + len(part)
    assert text.count("Middle Signer0") == 1 and text.count("Early Signer1") == 1
    # Each earlier text is printed in full on its own pages, before its list.
    # Each earlier text is printed in full on its own page, then what the current text changed in it.
    marker = "What the current text (revision 3) changes in this one"
    for number in (2, 1):
        earlier_text, changes = pages[page_with(pages, f"Earlier text: revision {number}") - 1].split(marker)
        assert OLD_BODY in earlier_text and "Drop every charge." not in earlier_text
        assert ("Second revision." in earlier_text) is (number == 2)
        assert "Demands" in changes and "Drop every charge." in changes and "and in April." in changes
    # The annex counts per text, with the page each list starts on, and the rows add up to the total.
    annex = pages[page_with(pages, "Annex: how this document was made") - 1]
    rows = {int(m.group(1)): (int(m.group(2)), int(m.group(3))) for m in re.finditer(
        r"Signed the (?:current|earlier) text, revision (\d+) (\d+) \(list from page (\d+)\)", annex)}
    assert {n: count for n, (count, _page) in rows.items()} == {3: 1, 2: 11, 1: 2}
    assert rows[3][1] == page_with(pages, "Signatories of the current text (revision 3)")
    assert rows[2][1] == page_with(pages, "Signatories of revision 2")
    assert rows[1][1] == page_with(pages, "Signatories of revision 1")
    assert "Signatories (14)" in annex and "Named in this copy 14" in annex
    assert sum(count for count, _page in rows.values()) == 14


def test_annex_describes_only_the_levels_present_with_their_counts(appeal):
    sign_confirmed(appeal, "Leyla Əliyeva", 1)
    db.session.commit()
    result = importing.import_list(appeal, appeal.owner, "Rəşad Hüseynov – Lawyer\nNigar Rzayeva – Economist\n",
                                   "lines", "vouched", note="Paper list, Tbilisi")
    assert result.created == 2
    db.session.commit()
    text = " ".join(pages_of(render(appeal)))
    annex = text[text.index("Annex: how this document was made"):]
    assert "Every listed signatory confirmed" not in text
    assert "2 signatories were vouched for by the organizers" in annex
    assert "1 signatory confirmed through a link sent to their e-mail address" in annex
    assert re.search(r"V vouched for by the coalition 2\b", annex) and re.search(r"E e-mail address confirmed 1\b",
                                                                                 annex)
    for absent in ("e-mail at the organization's domain", "signed officially", "confirmed officially",
                   "without any confirmation"):
        assert absent not in text


def test_only_vouched_signatories_never_claim_an_e_mail_confirmation(appeal):
    importing.import_list(appeal, appeal.owner, "Rəşad Hüseynov – Lawyer\n", "lines", "vouched")
    db.session.commit()
    text = " ".join(pages_of(render(appeal)))
    assert "e-mail address confirmed" not in text and "link sent to their e-mail" not in text
    assert "1 signatory was vouched for by the organizers" in text


def test_heading_legend_and_names_share_a_page_after_a_short_letter(appeal):
    for i, name in enumerate(["Anna Schmidt", "Ivan Petrov", "Leyla Əliyeva"]):
        sign_confirmed(appeal, name, i)
    db.session.commit()
    pages = pages_of(render(appeal))
    assert len(pages) == 3  # letter, list, annex: no page with only a heading
    before_annex = " ".join(pages[:page_with(pages, "Annex: how this document was made") - 1])
    assert len(re.findall(r"\bSignatories\b", before_annex)) == 1
    listing = pages[page_with(pages, "Marks:") - 1]
    assert re.search(r"\bSignatories\b", listing)
    assert listing.index("Signatories") < listing.index("Marks: E e-mail address confirmed") \
        < listing.index("Anna Schmidt")
    assert "Ivan Petrov" in listing and "Leyla Əliyeva" in listing
    assert "vouched for" not in listing and "domain" not in listing and "officially" not in listing


@pytest.mark.parametrize("closing", ["We remain at your disposal.\r\n\r\nRespectfully,\r\nThe coalition",
                                     "We remain at your disposal.\n \nRespectfully,\nThe coalition"])
def test_blank_lines_and_line_breaks_in_the_closing_survive(appeal, closing):
    amend(appeal, closing=closing)
    lines = [line.strip() for line in PdfReader(io.BytesIO(render(appeal))).pages[0].extract_text().splitlines()]
    assert "We remain at your disposal." in lines and "Respectfully," in lines and "The coalition" in lines
    assert lines.index("Respectfully,") == lines.index("We remain at your disposal.") + 1
