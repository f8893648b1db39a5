"""The chunked renderer from a LetterDocument: continuous page numbers, every name once in order, caching."""
import io
import re
from datetime import date

import icu
import pytest
from pypdf import PdfReader

from petitions.pdf.engine import assemble, chunks
from petitions.pdf.engine.document import Addressee, LetterDocument, SignatoryEntry, grouped_entries

GIVEN = ["Əli", "Leyla", "Иван", "Ольга", "Anna", "Şəbnəm", "Çingiz", "Ülviyyə", "Jean", "Ирина"]
FAMILY = ["Məmmədov", "Əliyeva", "Cəfərov", "Çələbi", "Qasımlı", "Petrov", "Schmidt", "Ismayılova",
          "İsmayılov", "Öztürk", "Şirinov", "Zeynalova", "Eyvazov", "Fərəcov", "Иванов"]


def entries(n: int, start: int = 0) -> list[SignatoryEntry]:
    return [SignatoryEntry(f"{GIVEN[i % len(GIVEN)]} {FAMILY[(i * 7) % len(FAMILY)]}{i}", "", "email")
            for i in range(start, start + n)]


def letter(signatories, **kw) -> LetterDocument:
    return LetterDocument(title="Free the journalists", body_html="<p>We ask you to act.</p>",
                          signatories=signatories, addressees=[Addressee("Secretary General", "",
                                                                         "Council of Europe")],
                          place="Strasbourg", date=date(2026, 11, 23), coalition="Press Freedom Coalition",
                          language="az", revision_hash="ab" * 32, **kw)


@pytest.fixture
def small_chunks(monkeypatch):
    """Cut the list into many small chunks so that a short list crosses several chunk boundaries."""
    monkeypatch.setattr(chunks, "MIN_CHUNK", 40)
    monkeypatch.setattr(chunks, "AVG_EXTRA", 50)
    monkeypatch.setattr(chunks, "MAX_CHUNK", 160)
    monkeypatch.setattr(chunks, "IN_PROCESS_MAX", 0)  # typeset in worker processes, as large lists are


LINE = re.compile(r"^[EDVO?] (.+)$")


def listed_names(reader: PdfReader) -> list[str]:
    """Return the names on the list pages, between the letter and the annex, in printed order."""
    names = []
    for page in reader.pages:
        text = page.extract_text()
        if "We ask you to act" in text:
            continue
        if "Annex:" in text:
            break
        for line in text.splitlines():
            match = LINE.match(line.strip())
            if match:
                names.append(match.group(1).strip())
    return names


def test_page_numbers_are_continuous_across_chunks(tmp_path, small_chunks):
    doc = letter(entries(1500))
    result = assemble.build(doc, str(tmp_path), workers=2)
    assert result.chunks >= 8, "the list must span several chunks for this test to mean anything"
    reader = PdfReader(io.BytesIO(result.pdf))
    total = len(reader.pages)
    assert total == result.pages
    for number, page in enumerate(reader.pages, start=1):
        footer = page.extract_text().strip().splitlines()[-1]
        # The footer speaks the letter's language (Azerbaijani here).
        assert footer.strip() == f"Səhifə {number} / {total}"


def test_every_name_once_in_azerbaijani_collation_order(tmp_path, small_chunks):
    doc = letter(entries(600))
    reader = PdfReader(io.BytesIO(assemble.build(doc, str(tmp_path), workers=2).pdf))
    names = listed_names(reader)
    expected = {e.name for e in doc.signatories}
    assert sorted(names) == sorted(expected)  # each exactly once, nothing else
    collator = icu.Collator.createInstance(icu.Locale("az"))
    surnames = [n.split()[-1] for n in names]
    assert surnames == sorted(surnames, key=collator.getSortKey)


def test_azerbaijani_letters_sort_where_readers_expect_them(tmp_path):
    doc = letter([SignatoryEntry(n, "", "email") for n in
                  ["Anar Fərəcov", "Anar Əliyev", "Anar Eyvazov", "Anar Çələbi", "Anar Cəfərov", "Anar Zeynalov"]])
    names = listed_names(PdfReader(io.BytesIO(assemble.build(doc, str(tmp_path), workers=1).pdf)))
    # Azerbaijani alphabet: C Ç ... E Ə F ... Z
    assert [n.split()[-1] for n in names] == ["Cəfərov", "Çələbi", "Eyvazov", "Əliyev", "Fərəcov", "Zeynalov"]


def test_one_more_signature_retypesets_only_one_chunk(tmp_path, small_chunks):
    base = entries(1200)
    first = assemble.build(letter(base), str(tmp_path), workers=2)
    assert first.rendered_chunks == first.chunks > 5
    again = assemble.build(letter([*base, SignatoryEntry("Nərmin Məmmədli", "Jurnalist", "email")]),
                           str(tmp_path), workers=2)
    assert again.rendered_chunks == 1
    assert "Nərmin Məmmədli – Jurnalist" in " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(again.pdf)).pages)


def test_groups_put_organizations_first(tmp_path):
    people = entries(30)
    orgs = [SignatoryEntry(f"Organization {c}", "", "official", is_organization=True) for c in "CBA"]
    doc = letter([*people, *orgs], grouping="kind")
    groups = grouped_entries(doc)
    assert [title for title, _ in groups] == ["Organizations", "Individuals"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(assemble.build(doc, str(tmp_path)).pdf)).pages)
    assert text.index("Organizations") < text.index("Organization A") < text.index("Organization C") \
        < text.index("Individuals")


def test_annex_counts_levels_and_earlier_revisions(tmp_path):
    from petitions.pdf.engine.document import RevisionGroup

    doc = letter([SignatoryEntry("Anna Schmidt", "", "official"), SignatoryEntry("Ivan Petrov", "", "email"),
                  SignatoryEntry("Leyla Əliyeva", "", "email")],
                 earlier_revisions=[RevisionGroup(1, "cd" * 32, [SignatoryEntry("Old Signer", "", "email")])])
    doc.revision_number = 2
    reader = PdfReader(io.BytesIO(assemble.build(doc, str(tmp_path)).pdf))
    pages = [p.extract_text() for p in reader.pages]
    annex_at = next(i for i, t in enumerate(pages) if "Annex: how this document was made" in t)
    annex = pages[annex_at]
    assert "revision 2" in annex and "ab" * 32 in annex.replace("\n", "")
    assert re.search(r"confirmed officially by the organization\s*1", annex)
    assert re.search(r"e-mail address confirmed\s*3", annex)  # two current, one of the earlier revision
    assert re.search(r"Signatories \(4\)", annex) and re.search(r"Named in this copy\s*4", annex)
    # The earlier revision's signatory comes before the annex, under its revision.
    before = " ".join(pages[:annex_at])
    assert before.index("Anna Schmidt") < before.index("Signatories of revision 1") < before.index("Old Signer")
    assert "Old Signer" not in " ".join(pages[annex_at:])


def test_letter_page_size_and_three_columns(tmp_path):
    doc = letter(entries(200), page_size="Letter", columns=3)
    reader = PdfReader(io.BytesIO(assemble.build(doc, str(tmp_path)).pdf))
    for page in reader.pages:
        assert [round(float(v)) for v in page.mediabox] == [0, 0, 612, 792]


def test_a_new_printed_field_renders_its_cached_chunk_again(tmp_path, monkeypatch):
    """The cache key and the freshness hash follow the entry's fields: a new printed field is never served stale."""
    from dataclasses import field, make_dataclass, replace

    from petitions.pdf.engine import lists

    titled = make_dataclass("TitledEntry", [("title", str, field(default=""))], bases=(SignatoryEntry,), frozen=True)
    plain_lines = lists.entry_lines
    monkeypatch.setattr(lists, "entry_lines", lambda e, width, log, *direction: plain_lines(
        replace(e, name=f"{e.title} {e.name}".strip()), width, log, *direction))
    people = [titled(name=e.name, level="email") for e in entries(30)]
    first = assemble.build(letter(people), str(tmp_path), workers=1)
    assert first.rendered_chunks >= 1
    assert assemble.build(letter(people), str(tmp_path), workers=1).rendered_chunks == 0  # cached
    doctor = [replace(people[0], title="Dr."), *people[1:]]
    again = assemble.build(letter(doctor), str(tmp_path), workers=1)
    assert again.rendered_chunks >= 1
    assert f"Dr. {people[0].name}" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(again.pdf)).pages)
    assert letter(doctor).source_hash() != letter(people).source_hash()
