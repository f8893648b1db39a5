"""PDF rendering from the database: content, fonts for Azerbaijani and Cyrillic, no resource fetching."""
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import event
from weasyprint import HTML

from .conftest import new_appeal
from .pdf_files import rendered_pdf
from petitions.auth.services import register_user
from petitions.extensions import db
from petitions.pdf import jobs
from petitions.pdf.engine.assemble import url_fetcher
from petitions.signing.models import Signature


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def appeal(app):
    owner = register_user("Coalition", "c@example.org", "a long password")
    appeal = new_appeal(owner, "Letter", "Secretary General\nPACE", "Text of the letter.")
    appeal.publish()
    db.session.commit()
    return appeal


def add(appeal, name, affiliation, confirmed=True, n=[0]):
    n[0] += 1
    sig = Signature(appeal=appeal, full_name=name, affiliation=affiliation, email_hash=f"{n[0]:064d}",
                    email_encrypted="x", text_hash=appeal.content_hash, consent_at=appeal.created_at)
    if confirmed:
        sig.confirm()
    db.session.add(sig)
    return sig


def test_only_confirmed_signatories_appear(appeal):
    add(appeal, "Əhməd Qurbanlı", "Jurnalist")
    add(appeal, "Ирина Петрова", "Адвокат")
    add(appeal, "Pending Person", "Nobody", confirmed=False)
    db.session.commit()
    text = pdf_text(rendered_pdf(appeal))
    assert "Əhməd Qurbanlı – Jurnalist" in text
    assert "Ирина Петрова – Адвокат" in text
    assert "Pending Person" not in text
    assert "Secretary General" in text and "PACE" in text
    annex = text[text.index("Annex"):]
    assert "Signatories" in annex and "2" in annex.split("Signatories", 1)[1].split("\n", 1)[0]


def test_page_numbers_across_many_pages(appeal):
    for i in range(400):
        add(appeal, f"Signer {i:03d} Şahbazov", "Lawyer, Member of the Bar Association")
    db.session.commit()
    reader = PdfReader(io.BytesIO(rendered_pdf(appeal)))
    pages = len(reader.pages)
    assert pages > 2
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {pages}" in page.extract_text()


def test_fonts_with_azerbaijani_and_cyrillic_glyphs_are_embedded(appeal):
    add(appeal, "Ə ə Ğ ğ Ş ş Ç ç Ö ö Ü ü I ı İ i", "Жж Щщ Ыы Ёё")
    db.session.commit()
    data = rendered_pdf(appeal)
    reader = PdfReader(io.BytesIO(data))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] \
                if "/DescendantFonts" in font else font["/FontDescriptor"]
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor or "/FontFile" in descriptor
            fonts.add(str(font["/BaseFont"]))
    assert any("DejaVu" in f for f in fonts)
    text = " ".join(pdf_text(data).split())  # the column may wrap the line
    assert "Ə ə Ğ ğ Ş ş Ç ç Ö ö Ü ü I ı İ i – Жж Щщ Ыы Ёё" in text


def test_metadata_language_and_tags(appeal):
    add(appeal, "Leyla Əliyeva", "")
    db.session.commit()
    reader = PdfReader(io.BytesIO(rendered_pdf(appeal)))
    assert reader.metadata.title == "Letter"
    assert reader.metadata.author == "Coalition"
    assert reader.metadata.subject == "Letter"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    tree = root["/StructTreeRoot"].get_object()
    # The typeset list page is linked into the structure tree, so a screen reader reaches the names.
    list_page = reader.pages[1]
    assert "/StructParents" in list_page
    assert tree["/ParentTreeNextKey"] > list_page["/StructParents"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.css", "https://example.org/a.png"])
def test_url_fetcher_refuses_files_and_network(url):
    with pytest.raises(ValueError, match="disallowed protocol"):
        url_fetcher()(url)


def test_document_with_a_file_reference_does_not_read_it(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body::after { content: 'LEAKED-SECRET' }")
    html = f'<link rel="stylesheet" href="file://{secret}"><p>hello</p>'
    data = HTML(string=html, url_fetcher=url_fetcher()).write_pdf()
    assert "hello" in pdf_text(data) and "LEAKED-SECRET" not in pdf_text(data)


def test_signatories_of_an_earlier_revision_are_listed_under_it(appeal):
    from petitions.appeals import services as drafting
    from petitions.signing import operations as signing

    early = signing.sign(appeal, "Nərgiz Early", "Lawyer", "early@example.org").signature
    early.confirm()
    drafting.save_text(appeal, appeal.owner, appeal.content() | {"demands": ["A new demand."]})
    drafting.publish_revision(appeal, appeal.owner)
    late = signing.sign(appeal, "Orxan Late", "Journalist", "late@example.org").signature
    late.confirm()
    db.session.commit()
    assert early.revision.number == 1 and late.revision.number == 2
    text = " ".join(pdf_text(rendered_pdf(appeal)).split())
    # The current text and its signer, then the earlier text and its signer, then the annex.
    earlier = text.index("Signatories of revision 1")
    assert text.index("Orxan Late") < text.index("Earlier text: revision 1") < earlier < text.index("Nərgiz Early") \
        < text.index("Annex: how this document was made")


def test_the_country_is_printed_wherever_the_name_is(appeal):
    person = add(appeal, "Leyla Əliyeva", "Jurnalist")
    person.country = "Azerbaijan"
    add(appeal, "Ivan Petrov", "").country = "Georgia"
    db.session.commit()
    text = " ".join(pdf_text(rendered_pdf(appeal)).split())
    assert "Leyla Əliyeva – Jurnalist, Azerbaijan" in text and "Ivan Petrov – Georgia" in text


def test_a_stored_pdf_is_stale_after_any_change_to_a_listed_line(appeal):
    signer = add(appeal, "Leyla Yunus", "Institute for Peace")
    db.session.commit()
    record = jobs.render_now(appeal)
    assert jobs.current_document(appeal) == record
    signer.affiliation = "Institute for Peace and Democracy"  # the same count, the same text: only the list knows
    db.session.commit()
    assert jobs.current_document(appeal) is None
    fresh = jobs.render_now(appeal)
    assert fresh.id != record.id and "Institute for Peace and Democracy" in pdf_text(rendered_pdf(appeal))
    signer.reminded_at = appeal.created_at  # nothing printed changes
    db.session.commit()
    read = []

    def note(conn, cursor, statement, *args):
        read.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert jobs.current_document(appeal) == fresh
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert read and not [s for s in read if "FROM signatures" in s]  # the check never reads the list
