"""Import of offline signature lists: free-form lines and CSV files in the encodings people send."""
import codecs
from pathlib import Path

import pytest

from petitions.signatories.parsing import ImportFormatError, ImportRow, duplicate_groups, parse_lines, read_csv

SEED = Path(__file__).parent / "data" / "import_seed_style.txt"

# Every non-blank line of the fixture: line number -> (name, affiliation).
SEED_EXPECTED = {
    1: ("Signatories", ""),
    3: ("Nərmin Quliyeva", "Jurnalist, “Yeni Səs” qəzeti"),
    5: ("Tofiq Rəhimzadə", "Hüquq müdafiəçisi"),
    6: ("Elchin Sadigov", "Lawyer, Member of Bar Association"),
    7: ("Anna Müller-Lüdenscheidt", "Journalist"),
    8: ("Jean-Pierre Duval", "Lawyer"),
    9: ("Səbinə Həsənli", "Economist, Member of the Free Economy Club"),
    10: ("Kamran Məlikov", "Founder"),
    11: ("Leyla Nəbiyeva", "Student, Baku State University"),
    12: ("Rauf Əsgərov", "Teacher"),
    13: ("Aygün Kazımova", "Editor"),
    14: ("Vüsal Tağıyev", "Writer; Translator; Blogger"),
    15: ("Gülnarə Eyvazova", "Founder, “Açıq Söz” platform"),
    16: ("Orxan Bayramlı", ""),
    18: ("Marie-Claire Dubois", "Professor, Université de Lyon"),
    19: ("Zülfiyyə Axundova-Nəsirova", "Doctor"),
    20: ("Ramin Hacıyev", "Member of the Board, Civic Forum"),
    21: ("Cavid Nağıyev", "Activist"),
    22: ("Lamiyə Rüstəmova", "Photographer"),
    23: ("Thomas Becker", "Correspondent – Deutsche Welle"),
    24: ("Teymur Fərzəliyev", "Independent researcher"),
    25: ("Könül Şirinova", "Baku Slavic University"),
    26: ("Pərvin Sultanova", "“Women for Change” Network"),
    27: ("Emil Qurbanov", "Human rights defender"),
    28: ("Fidan Süleymanova-Kərimli", ""),
    30: ("Nicat Həmidov", "Student; Volunteer"),
    31: ("Elmira Mehdiyeva", "Poet, Member of the Writers' Union"),
    32: ("Sevinc Allahverdiyeva", "Artist"),
    33: ("Babək Orucov", ""),
    34: ("Samir Nağıyev", "Teacher, School No. 6"),
    35: ("Dilarə Zahidova", "Psychologist - Family Counselling Centre"),
    36: ("Jalə Vahidova", "Lawyer"),
    37: ("Anar Vəliyev", "Economist"),
    38: ("Yeganə Sabirova", "Human rights lawyer"),
    39: ("Ruslan Tahirov", "Engineer, Azersu"),
    40: ("Nurlana Əzizova", "Journalist"),
    41: ("Fikrət Cəlalov", "Retired teacher"),
    42: ("Aysel Qədirova", "Researcher; Editor; Translator"),
    43: ("Vasif Əmirov", "Musician"),
    44: ("Türkan Məmmədli", "Student"),
    46: ("Əkbər Şükürov", "Architect"),
    47: ("Leyla Nabiyeva", "Student, Baku State University"),
}
SEED_EMAILS = {21: "cavid.nagiyev@example.org", 22: "lamiye.r@example.az", 37: "anar.veliyev@example.com"}


def seed_rows():
    return parse_lines(SEED.read_text(encoding="utf-8"))


def test_seed_fixture_every_line():
    rows = seed_rows()
    assert {r.line: (r.name, r.affiliation) for r in rows} == SEED_EXPECTED
    assert {r.line: r.email for r in rows if r.email} == SEED_EMAILS
    assert {r.line: r.problems for r in rows if r.problems} == {1: ["flag:single_word"]}


def test_seed_fixture_near_duplicate():
    assert duplicate_groups(seed_rows()) == [[11, 47]]


@pytest.mark.parametrize(
    "line, name, affiliation",
    [
        ("Leyla Nəbiyeva – Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva- Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva -Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva—Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva--Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva –  Journalist, Member of X", "Leyla Nəbiyeva", "Journalist, Member of X"),
        ("Leyla Nəbiyeva\tJournalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva; Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Leyla Nəbiyeva, Journalist", "Leyla Nəbiyeva", "Journalist"),
        ("Elchin Sadigov-Lawyer, Member of Bar Association", "Elchin Sadigov", "Lawyer, Member of Bar Association"),
        ("Nigar Hasanova-Baku State University", "Nigar Hasanova", "Baku State University"),
        ("Anna Müller-Lüdenscheidt – Journalist", "Anna Müller-Lüdenscheidt", "Journalist"),
        ("Anna Müller-Lüdenscheidt", "Anna Müller-Lüdenscheidt", ""),
        ("Leyla Mammadova-Aliyeva, journalist", "Leyla Mammadova-Aliyeva", "journalist"),
        ("Jean-Pierre Duval - Lawyer", "Jean-Pierre Duval", "Lawyer"),
        ("Jean-Pierre Duval-Lawyer", "Jean-Pierre Duval", "Lawyer"),
        ("Jean-Pierre Duval", "Jean-Pierre Duval", ""),
        ("“Aysel Qədirova” – “Azad Söz” newspaper", "Aysel Qədirova", "“Azad Söz” newspaper"),
        ("Aysel Qədirova – “Azad Söz”", "Aysel Qədirova", "Azad Söz"),
        ("Kamran Məlikov – Founder,", "Kamran Məlikov", "Founder"),
        ("12. Kamran Məlikov – Founder", "Kamran Məlikov", "Founder"),
        ("• Kamran Məlikov – Founder", "Kamran Məlikov", "Founder"),
        ("- Kamran Məlikov – Founder", "Kamran Məlikov", "Founder"),
        ("Rahimli, Samad", "Rahimli, Samad", ""),
    ],
)
def test_separators(line, name, affiliation):
    (row,) = parse_lines(line)
    assert (row.name, row.affiliation) == (name, affiliation)


@pytest.mark.parametrize(
    "line",
    [
        "Leyla Nəbiyeva <leyla@example.org> – Journalist",
        "Leyla Nəbiyeva – Journalist <leyla@example.org>",
        "Leyla Nəbiyeva – Journalist, leyla@example.org",
        "Leyla Nəbiyeva – Journalist leyla@example.org",
        "Leyla Nəbiyeva – Journalist (e-mail: leyla@example.org)",
        "leyla@example.org Leyla Nəbiyeva – Journalist",
    ],
)
def test_email_anywhere(line):
    (row,) = parse_lines(line)
    assert (row.name, row.affiliation, row.email, row.problems) == (
        "Leyla Nəbiyeva", "Journalist", "leyla@example.org", []
    )


def test_blank_lines_keep_file_line_numbers():
    rows = parse_lines("\ufeffAnar Vəliyev – Economist\r\n\r\n   \r\nJalə Vahidova – Lawyer\rNicat Həmidov\n")
    assert [(r.line, r.name) for r in rows] == [(1, "Anar Vəliyev"), (4, "Jalə Vahidova"), (5, "Nicat Həmidov")]


def test_malformed_lines_are_reported_and_parsing_goes_on():
    text = "\n".join(
        [
            "Anar Vəliyev – Economist",  # 1
            "-------------",  # 2
            "– Journalist",  # 3
            "Jalə\u200bVahidova – Lawyer",  # 4
            "www.buy-followers.com – Marketing",  # 5
            "Nicat Həmidov – Student\u202e",  # 6
            "Ruslan Tahirov <a@example.org> <b@example.org>",  # 7
            "x" * 250 + " – Engineer",  # 8
            "Vasif Əmirov – Musician",  # 9
        ]
    )
    rows = {r.line: r for r in parse_lines(text)}
    codes = {n: [p.split(":")[0] if not p.startswith("flag:") else p for p in r.problems] for n, r in rows.items()}
    assert codes == {
        1: [],
        2: ["junk"],
        3: ["missing_name"],
        4: ["invalid_name"],
        5: ["flag:url"],
        6: ["invalid_affiliation"],
        7: ["multiple_emails"],
        8: ["invalid_name"],
        9: [],
    }
    assert rows[3].affiliation == "Journalist" and rows[4].name == "" and rows[4].affiliation == "Lawyer"
    assert "U+200B" in rows[4].problems[0]
    assert rows[6].name == "Nicat Həmidov" and rows[6].affiliation == ""
    assert rows[7].email == "a@example.org"
    assert rows[9] == ImportRow(9, "Vasif Əmirov", "Musician", None, [])


CSV_TEXT = "Имя;Организация;E-mail\nТофиг Гасымов;Бакинский государственный университет;tofiq@example.org\n" \
           "Ульвия Гасанова;газета «Азад Сёз»;\n"


@pytest.mark.parametrize(
    "data",
    [
        CSV_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + CSV_TEXT.encode("utf-8"),
        CSV_TEXT.encode("cp1251"),
        CSV_TEXT.encode("utf-16"),  # with BOM
        codecs.BOM_UTF16_BE + CSV_TEXT.encode("utf-16-be"),
        CSV_TEXT.replace("\n", "\r\n").encode("utf-16-le"),  # no BOM
    ],
    ids=["utf8", "utf8-bom", "cp1251", "utf16", "utf16-be", "utf16-le-nobom"],
)
def test_read_csv_encodings(data):
    rows = read_csv(data)
    assert [(r.line, r.name, r.affiliation, r.email) for r in rows] == [
        (2, "Тофиг Гасымов", "Бакинский государственный университет", "tofiq@example.org"),
        (3, "Ульвия Гасанова", "газета «Азад Сёз»", None),
    ]


def test_read_csv_refuses_what_it_cannot_read():
    german_latin1 = "Name,Affiliation\nJürgen Groß,Universität Köln\nBärbel Schäfer,Süddeutsche Zeitung\n"
    with pytest.raises(ImportFormatError, match="UTF-8"):
        read_csv(german_latin1.encode("latin-1"))
    with pytest.raises(ImportFormatError):
        read_csv(bytes(range(256)) * 40)
    with pytest.raises(ImportFormatError, match="Excel"):
        read_csv(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportFormatError, match="name column"):
        read_csv(b"Organization,Email\nADA University,a@example.org\n")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Full Name,Organisation,Email\nAnar Vəliyev,ADA University,anar@example.com\n",
         ("Anar Vəliyev", "ADA University", "anar@example.com")),
        ("Ad\tTəşkilat\tE-poçt\nAnar Vəliyev\tADA Universiteti\tanar@example.com\n",
         ("Anar Vəliyev", "ADA Universiteti", "anar@example.com")),
        ("Фамилия,Имя,Должность,Организация\nВелиев,Анар,экономист,ADA\n",
         ("Анар Велиев", "экономист, ADA", None)),
        ("First name;Last name;Position\nAnar;Vəliyev;Economist\n", ("Anar Vəliyev", "Economist", None)),
        ("Anar Vəliyev,ADA University,anar@example.com\n", ("Anar Vəliyev", "ADA University", "anar@example.com")),
        ('NAME,"Affiliation (optional)"\n"Vəliyev, Anar","ADA University, Baku"\n',
         ("Vəliyev, Anar", "ADA University, Baku", None)),
        ("sep=;\r\nName;Organisation\r\nAnar Vəliyev;ADA, Baku\r\n", ("Anar Vəliyev", "ADA, Baku", None)),
    ],
    ids=["english", "azerbaijani-tab", "russian-split-name", "first-last", "no-header", "quoted-commas", "excel-sep"],
)
def test_read_csv_headers_and_delimiters(text, expected):
    (row,) = read_csv(text.encode("utf-8"))
    assert (row.name, row.affiliation, row.email) == expected


def test_read_csv_line_numbers_and_problems():
    text = 'Name,Affiliation,Email\n\nAnar Vəliyev,"ADA University,\nBaku",anar@example\nJalə Vahidova,Lawyer,\n'
    rows = read_csv(text.encode("utf-8"))
    assert [(r.line, r.name, r.affiliation) for r in rows] == [
        (3, "Anar Vəliyev", "ADA University, Baku"),
        (5, "Jalə Vahidova", "Lawyer"),
    ]
    assert rows[0].problems == ["invalid_email: “anar@example” is not an e-mail address."]


def test_read_csv_line_numbers_count_excel_sep_line():
    rows = read_csv("sep=,\nName,Email\n\nAnar Vəliyev,anar@example.com\n".encode("utf-8"))
    assert [(r.line, r.name, r.email) for r in rows] == [(4, "Anar Vəliyev", "anar@example.com")]


def test_read_csv_one_column_list_is_parsed_as_lines():
    text = "Name\nAnar Vəliyev – Economist, ADA\nJalə Vahidova - Lawyer\n"
    rows = read_csv(text.encode("utf-8"))
    assert [(r.line, r.name, r.affiliation) for r in rows] == [
        (2, "Anar Vəliyev", "Economist, ADA"),
        (3, "Jalə Vahidova", "Lawyer"),
    ]
    rows = read_csv("Анар Велиев – экономист, ADA\nДжаля Вахидова – юрист, коллегия адвокатов\n".encode("cp1251"))
    assert [(r.line, r.name, r.affiliation) for r in rows] == [
        (1, "Анар Велиев", "экономист, ADA"),
        (2, "Джаля Вахидова", "юрист, коллегия адвокатов"),
    ]


def test_duplicate_groups_uses_line_numbers():
    rows = parse_lines("Tofiq Qasımov – BSU\n\nАнар Велиев\nTofig Gasimov – BSU\n-----\nAnar Veliyev\n")
    assert duplicate_groups(rows) == [[1, 4], [3, 6]]


def test_hundred_thousand_lines():
    """Every line of a long list is read in order; its speed and memory are measured by bench/import.py."""
    names = ["Anar Vəliyev", "Jalə Vahidova", "Jean-Pierre Duval", "Тофиг Гасымов", "Elchin Sadigov"]
    styles = ["{n} – Org {i}", "{n}- Org {i}, Member", "{n}\tOrg {i}\tp{i}@example.org", "{n}; Org {i}", "{n}-Lawyer"]
    lines = [styles[i % 5].format(n=names[i % 5] + f" {chr(65 + i % 26)}", i=i) for i in range(100_000)]
    text = "\n".join(lines)
    rows = parse_lines(text)
    assert len(rows) == 100_000 and rows[-1].line == 100_000
    assert rows[2].email == "p2@example.org" and rows[4].affiliation == "Lawyer"
    csv_rows = read_csv(("name;affiliation\n" + "\n".join(f"{n};Org" for n in lines[::5])).encode("utf-8"))
    assert len(csv_rows) == 20_000 and csv_rows[-1].line == 20_001
