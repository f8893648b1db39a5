"""Import offline signature lists: free-form lines ("Name – Affiliation") and CSV files."""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from petitions.mail.addresses import InvalidAddress, check_address
from petitions.signatories.dedupe import THRESHOLD, find_duplicate_groups
from petitions.signing.names import InvalidName, clean_affiliation, clean_name, flags_for_name


class ImportFormatError(ValueError):
    """Raise when a whole file cannot be read; the message tells the uploader what to do."""


@dataclass(slots=True)
class ImportRow:
    """One signatory read from line `line` (1-based, as in the file) with any problems found."""

    line: int
    name: str
    affiliation: str = ""
    email: str | None = None
    problems: list[str] = field(default_factory=list)


_EMAIL_RE = re.compile(
    r"[<(\[]?\s*(?:e-?mail\s*:?\s*)?([\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,})\s*[>)\]]?", re.IGNORECASE
)
# A separator is an en/em dash (or minus, figure dash, bar) anywhere, two hyphens, or a hyphen with
# whitespace on at least one side: "Jean-Pierre Duval - Lawyer" splits only at " - ".
_DASH_RE = re.compile(r"\s*(?:[\u2012-\u2015\u2212]+|-{2,})\s*|\s+-\s*|\s*-\s+")
_TIGHT_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_BULLET_RE = re.compile(r"^\s*(?:\d{1,6}\s*[.)]\s+|[•*·▪◦►]\s*|-\s+)")
_QUOTES = str.maketrans("", "", "\"“”„«»‟")
_WRAPPING_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'", "‘": "’"}
_LINE_RE = re.compile(r"\r\n|\r|\n")
# No name or affiliation is this long: a longer CSV field is an unclosed quote mark that swallowed the rest.
FIELD_MAX_CHARS = 10_000

# Words that start an affiliation, for "Elchin Sadigov-Lawyer": a no-space hyphen followed by one of
# these splits; followed by anything else ("Anna Müller-Lüdenscheidt") it is part of a surname.
ROLE_WORDS = frozenset(
    """
    lawyer attorney advocate barrister solicitor journalist reporter editor correspondent writer poet author
    novelist blogger translator founder co-founder cofounder director professor lecturer teacher researcher
    scientist scholar doctor physician surgeon nurse dentist student engineer economist analyst expert artist
    painter photographer filmmaker musician singer composer actor actress architect designer programmer
    developer consultant historian philosopher sociologist psychologist linguist activist member chair
    chairman chairwoman chairperson president head coordinator manager secretary deputy former retired
    independent freelance human civil political pastor priest imam entrepreneur businessman businesswoman
    producer publisher ceo cto phd dr prof mp senator board executive bar ngo
    jurnalist vəkil hüquqşünas müəllim həkim yazıçı şair tələbə fəal ekspert rəssam redaktor
    sədr üzv direktor
    журналист адвокат юрист писатель поэт учитель врач студент активист правозащитник эксперт профессор
    директор основатель член председатель редактор художник
    """.split()
)
ORG_WORDS = ("univers", "institut", "associat", "union", "centre", "center", "foundation", "committee", "council",
             "club", "society", "newspaper", "magazine", "academy", "akadem", "school", "университет", "институт")


def _problem(code: str, message: str = "") -> str:
    """Return a problem entry: a short stable code, then a message for people."""
    return f"{code}: {message}" if message else code


def _take_emails(text: str, problems: list[str]) -> tuple[str, str | None]:
    """Return `text` without e-mail addresses (and their brackets) and the first address found."""
    if "@" not in text:
        return text, None
    found = [m.group(1) for m in _EMAIL_RE.finditer(text)]
    if not found:
        return text, None
    if len(found) > 1:
        problems.append(_problem("multiple_emails", f"Kept {found[0]}; also found {', '.join(found[1:])}."))
    text = _EMAIL_RE.sub(" ", text)
    return re.sub(r"[^\S\t]+", " ", text).strip(" ,;:|/"), found[0]  # tabs may be the separator


def _affiliation_like(after: str) -> bool:
    """Return whether the text after a no-space hyphen reads as an affiliation, not a second surname."""
    first_chunk = after.split(",", 1)[0]
    words = first_chunk.split()
    if not words or not words[0][:1].isupper():
        return False
    head = words[0].lower()
    return len(words) >= 2 or head in ROLE_WORDS or head.startswith(ORG_WORDS)


def _split(line: str) -> tuple[str, str]:
    """Split one line into (name, affiliation) by the first separator that applies.

    Order: tab; en/em dash, double or spaced hyphen; semicolon; a no-space hyphen whose left side has
    at least two words and whose right side starts with a capitalised role or organisation word (or a
    phrase of two or more words); finally a comma after a name of 2-5 words. No separator: name only.
    """
    if "\t" in line:
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        return (cells[0], ", ".join(cells[1:])) if cells else ("", "")
    dash = _DASH_RE.search(line)
    if dash:
        return line[: dash.start()], line[dash.end() :]
    if ";" in line:
        name, _, rest = line.partition(";")
        return name, rest
    for m in _TIGHT_HYPHEN_RE.finditer(line):
        before, after = line[: m.start()], line[m.end() :]
        if len(before.split()) >= 2 and _affiliation_like(after):
            return before, after
    if "," in line:
        name, _, rest = line.partition(",")
        if 2 <= len(name.split()) <= 5:
            return name, rest
    return line, ""


def _tidy_affiliation(text: str) -> str:
    """Strip stray separators, a trailing comma ("Founder,") and quotes that wrap the whole text."""
    text = text.strip(" \t,;:-–—|/")
    if len(text) >= 2 and _WRAPPING_QUOTES.get(text[0]) == text[-1] and text.count(text[0]) <= 2:
        text = text[1:-1].strip()
    return text


def _finish(line: int, name: str, affiliation: str, email: str | None, problems: list[str]) -> ImportRow:
    """Clean and check a split row; problems are recorded, never raised."""
    name = name.translate(_QUOTES).strip(" \t,;:-–—|")
    try:
        name = clean_name(name)
    except InvalidName as exc:
        if exc.code == "empty":
            problems.append(_problem("missing_name", "There is no name on this line."))
        else:
            problems.append(_problem("invalid_name", exc.message))
        name = ""
    try:
        affiliation = clean_affiliation(_tidy_affiliation(affiliation))
    except InvalidName as exc:
        problems.append(_problem("invalid_affiliation", exc.message))
        affiliation = ""
    if name:
        problems.extend(f"flag:{code}" for code in flags_for_name(name))
    if email is not None:
        try:
            email = check_address(email)
        except InvalidAddress as exc:  # kept as a problem: the row is imported without an invitation
            problems.append(_problem("invalid_email", f"{email}: {exc}"))
            email = None
    return ImportRow(line=line, name=name, affiliation=affiliation, email=email, problems=problems)


def revised(row: ImportRow, name: str, affiliation: str) -> ImportRow:
    """Return the row with a name and affiliation typed by the organizer, checked like a parsed one."""
    kept = [p for p in row.problems if p.split(":", 1)[0] in ("invalid_email", "multiple_emails")]
    return _finish(row.line, name, affiliation, row.email, kept)


def parse_line(line_no: int, raw: str) -> ImportRow | None:
    """Parse one free-form line; return None for a blank line."""
    text = raw.strip()
    if not text:
        return None
    problems: list[str] = []
    text, email = _take_emails(text, problems)
    text = _BULLET_RE.sub("", text, count=1).strip()
    if not any(ch.isalpha() for ch in text) and email is None:
        return ImportRow(line_no, "", "", None, [_problem("junk", "The line has no letters.")])
    name, affiliation = _split(text)
    return _finish(line_no, name, affiliation, email, problems)


def parse_lines(text: str) -> list[ImportRow]:
    """Parse a pasted or uploaded list, one signatory per line; blank lines are skipped."""
    return list(_iter_lines(text))


def _iter_lines(text: str, start: int = 1) -> Iterator[ImportRow]:
    """Yield a row for each non-blank line, numbered as in the file."""
    text = text.removeprefix("\ufeff")
    for offset, raw in enumerate(_LINE_RE.split(text)):
        row = parse_line(start + offset, raw)
        if row is not None:
            yield row


# --- CSV ---------------------------------------------------------------------------------------------

_HEADERS = {
    "name": {"name", "names", "fullname", "signatory", "signatoryname", "signer", "person", "nameandsurname",
             "namesurname", "ad", "adı", "adsoyad", "adısoyadı", "advəsoyad", "soyadad", "soyadıadı", "имя",
             "фио", "имяфамилия", "фамилияимя", "фамилияимяотчество", "полноеимя", "nom", "nomcomplet",
             "isim", "adsoyadı"},
    "first": {"firstname", "givenname", "forename", "prénom", "prenom"},
    "middle": {"middlename", "patronymic", "отчество", "ataadı", "ataadi"},
    "last": {"lastname", "surname", "familyname", "фамилия", "soyad", "soyadı", "soyadi", "nomdefamille"},
    "affiliation": {"affiliation", "organization", "organisation", "org", "company", "institution", "employer",
                    "workplace", "position", "title", "role", "occupation", "profession", "job", "jobtitle",
                    "местоработы", "организация", "должность", "профессия", "təşkilat", "işyeri", "vəzifə",
                    "peşə", "müəssisə", "affiliationorganization"},
    "email": {"email", "mail", "emailaddress", "электроннаяпочта", "элпочта", "почта", "epoçt", "epoct",
              "elektronpoçt", "courriel"},
}
_HEADER_HINTS = (
    ("email", ("mail", "почт", "poçt")),
    ("first", ("first", "given")),
    ("last", ("last", "surname", "фамил", "soyad")),
    ("name", ("name", "имя", "фио", "signator")),
    ("affiliation", ("affil", "organi", "compan", "position", "организ", "должн", "təşkilat", "institut")),
)
_PLAUSIBLE_PUNCT = set("«»–—…№„“”‘’•·°§©®")


def _header_field(cell: str) -> str | None:
    """Return which field a header cell names, or None."""
    key = "".join(ch for ch in unicodedata.normalize("NFC", cell).casefold() if ch.isalnum())
    if not key:
        return None
    for name, words in _HEADERS.items():
        if key in words:
            return name
    for name, hints in _HEADER_HINTS:
        if any(h in key for h in hints):
            return name
    return None


def _looks_like_text(text: str) -> bool:
    """Return whether Windows-1251-decoded text reads as Cyrillic/Latin text rather than mojibake."""
    sample = text[:200_000]
    odd = 0
    for ch in sample:
        if ch.isascii():
            if ch < " " and ch not in "\t\r\n":
                return False
        elif not ("\u0400" <= ch <= "\u04ff" or ch in _PLAUSIBLE_PUNCT or ch == "\xa0"):
            odd += 1
    if odd > max(3, len(sample) // 100):
        return False
    # Latin-1 text read as cp1251 puts Cyrillic letters inside Latin words: "Mьller".
    mixed = sum(1 for w in re.findall(r"[^\W\d_]+", sample)
                if re.search(r"[a-zA-Z]", w) and re.search(r"[\u0400-\u04ff]", w))
    return mixed <= max(2, len(sample) // 2000)


def decode(data: bytes) -> str:
    """Decode an uploaded file: UTF-8 (with or without BOM), UTF-16/32 (BOM), or Windows-1251."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFormatError(_l("This looks like an Excel or other office file; save it as CSV and upload that."))
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                message = f"The file starts like {encoding} text but is damaged at byte {exc.start}."
                raise ImportFormatError(message) from exc
    if b"\x00" in data[:4096]:
        # UTF-16 without a BOM: every other byte of Latin text is zero.
        head = data[:4096]
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            text = ""
        # Random bytes often decode as UTF-16 too, into CJK soup; signature lists are Latin/Cyrillic.
        sample = [ch for ch in text[:20_000] if not ch.isspace()]
        if sample and sum(1 for ch in sample if ch < "\u0590" or "\u2000" <= ch <= "\u206f") >= 0.9 * len(sample):
            return text
        raise ImportFormatError(_l("The file contains binary data; upload a CSV or plain-text file."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_like_text(text):
        return text
    raise ImportFormatError(
        "Could not read the file's text: it is neither UTF-8, UTF-16 nor Windows-1251. "
        "Save it as “CSV UTF-8” (or plain text in UTF-8) and upload it again."
    )


def _sniff_delimiter(lines: Sequence[str]) -> str | None:
    """Return the delimiter (tab, semicolon or comma) found on every one of the first lines, or None."""
    best, best_count = None, 0
    for delim in ("\t", ";", ","):  # on a tie the earlier wins: commas also occur inside affiliations
        count = min(len(_split_csv_line(line, delim)) - 1 for line in lines)
        if count > best_count:
            best, best_count = delim, count
    return best


def _split_csv_line(line: str, delim: str) -> list[str]:
    """Split one line as CSV (quotes respected)."""
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:  # only a guess at the layout: reading the table reports the line (see _records)
        return line.split(delim)


def _records(reader) -> Iterator[list[str]]:
    """Yield a csv reader's records; refuse an oversized or unreadable field with ImportFormatError."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The csv module refuses fields over its own limit (128 KiB): the same mistake as ours below.
            raise _field_error(reader.line_num, None if "field larger" in str(exc) else str(exc)) from None
        if any(len(cell) > FIELD_MAX_CHARS for cell in cells):
            raise _field_error(reader.line_num)
        yield cells


def _field_error(line_no: int, detail: str | None = None) -> ImportFormatError:
    where = f"Line {line_no}" if line_no > 1 else "The file"
    if detail:
        return ImportFormatError(f"{where} cannot be read as CSV ({detail}). Check the file and upload it again.")
    return ImportFormatError(
        f"{where}: a field is longer than {FIELD_MAX_CHARS} characters, usually because a quote mark (\") "
        "is not closed. Check the file and upload it again."
    )


def _first_lines(text: str, count: int = 5) -> list[tuple[int, str]]:
    """Return up to `count` (line number, line) pairs of the first non-blank lines."""
    found: list[tuple[int, str]] = []
    for no, line in enumerate(io.StringIO(text, newline=None), 1):
        if line.strip():
            found.append((no, line.rstrip("\n")))
            if len(found) == count:
                break
    return found


def read_csv(data: bytes) -> list[ImportRow]:
    """Read an uploaded CSV (or one-column list) of signatories; raise ImportFormatError if unreadable."""
    return list(iter_csv(decode(data)))


def iter_csv(text: str) -> Iterator[ImportRow]:
    """Yield the rows of decoded CSV text one by one, so that long files need little memory."""
    text = text.removeprefix("\ufeff")
    first = _first_lines(text)
    if not first:
        return iter(())
    excel_sep = re.fullmatch(r"sep=([,;\t])", first[0][1].strip(" "))
    if not excel_sep:
        return _read_table(text, _sniff_delimiter([line for _, line in first]), first)
    # Excel's "sep=;" line names the delimiter; the table starts after it.
    skipped = first[0][0]
    return _shifted(_read_table(_LINE_RE.split(text, maxsplit=skipped)[-1], excel_sep.group(1)), skipped)


def _shifted(rows: Iterator[ImportRow], offset: int) -> Iterator[ImportRow]:
    for row in rows:
        row.line += offset
        yield row


def iter_lines(text: str) -> Iterator[ImportRow]:
    """Yield the rows of a pasted list one by one."""
    return _iter_lines(text)


def _read_table(text: str, delim: str | None, first: list[tuple[int, str]] | None = None) -> Iterator[ImportRow]:
    """Read decoded CSV text whose delimiter is known (None: one column)."""
    first = first or _first_lines(text)
    if not first:
        return iter(())
    header_no, header_line = first[0]
    header = _split_csv_line(header_line, delim) if delim else [header_line]
    fields = [_header_field(c) if "@" not in c else None for c in header]
    has_header = any(f is not None for f in fields)
    if not has_header and delim is not None:
        # "Name – Affiliation, Member of X" on every line is a plain list with commas, not CSV.
        dashed = sum(1 for _, line in first if _DASH_RE.search(_split_csv_line(line, delim)[0]))
        delim = None if dashed * 2 > len(first) else delim
    if delim is None:
        # One column: a plain list, maybe under a "Name" heading.
        if has_header:
            return _iter_lines(_LINE_RE.split(text, maxsplit=header_no)[-1], header_no + 1)
        return _iter_lines(text)
    if has_header and not any(f in ("name", "first", "last") for f in fields):
        raise ImportFormatError(
            "The header has no name column; name one column “Name” (or “Full name”, “Имя”, “Ad”)."
        )
    if not has_header:
        fields = ["name", "affiliation"] + [None] * max(0, len(header) - 2)
    elif "last" in fields and "name" in fields and "first" not in fields:
        fields = ["first" if f == "name" else f for f in fields]  # "Имя" beside "Фамилия" is the given name
    return _iter_csv(text, delim, fields, has_header)


def _iter_csv(text: str, delim: str, fields: list[str | None], skip_header: bool) -> Iterator[ImportRow]:
    """Yield a row per CSV record, numbered by the line the record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    prev_line = 0
    header_seen = not skip_header
    for cells in _records(reader):
        line_no, prev_line = prev_line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        parts: dict[str, list[str]] = {}
        extra: list[str] = []
        for i, cell in enumerate(cells):
            cell = cell.strip()
            if not cell:
                continue
            f = fields[i] if i < len(fields) else None
            if f is None:
                extra.append(cell)
            else:
                parts.setdefault(f, []).append(cell)
        yield _csv_row(line_no, parts, extra)


def _csv_row(line_no: int, parts: dict[str, list[str]], extra: list[str]) -> ImportRow:
    """Build an ImportRow from the cells of one CSV record grouped by field."""
    problems: list[str] = []
    name = " ".join(parts.get("name") or parts.get("first", []) + parts.get("middle", []) + parts.get("last", []))
    affiliation = ", ".join(parts.get("affiliation", []))
    email: str | None = None
    if parts.get("email"):
        value = parts["email"][0]
        m = _EMAIL_RE.fullmatch(value)
        if m:
            email = m.group(1)
        else:
            problems.append(_problem("invalid_email", f"“{value}” is not an e-mail address."))
    # An address typed into the name, affiliation or an unnamed column still belongs in `email`.
    name, found = _take_emails(name, problems)
    affiliation, found_aff = _take_emails(affiliation, problems)
    found = found or found_aff or next((m.group(1) for c in extra if (m := _EMAIL_RE.search(c))), None)
    email = email or found
    if not name and not affiliation and email is None and extra:
        return ImportRow(line_no, "", "", None, [_problem("junk", "No name in this row.")])
    return _finish(line_no, name, affiliation, email, problems)


def duplicate_groups(rows: Sequence[ImportRow], threshold: float = THRESHOLD) -> list[list[int]]:
    """Return groups of line numbers whose rows are probably the same signatory."""
    named = [r for r in rows if r.name]
    groups = find_duplicate_groups([(r.name, r.affiliation) for r in named], threshold)
    return [[named[i].line for i in group] for group in groups]
