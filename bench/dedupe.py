"""Measure signatory de-duplication: precision/recall on the labelled corpus and grouping speed.

Run from the repository root: python bench/dedupe.py [--records N]
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from petitions.signatories.dedupe import THRESHOLD, find_duplicate_groups, similarity  # noqa: E402

# THRESHOLD is tuned on the first part; the held-out part only reports how the choice does on unseen pairs.
CORPUS = ROOT / "tests" / "data" / "dedupe_tuning.csv"
HELD_OUT = ROOT / "tests" / "data" / "dedupe_heldout.csv"

MALE = (
    "Anar Babək Bəxtiyar Cavid Ceyhun Elçin Elnur Elvin Emin Fərid Fuad Xəlil İlkin Kamran Kənan Orxan Rəşad "
    "Rauf Rövşən Səməd Tofiq Tural Vüqar Vüsal Zaur Fəxri Həsən Hüseyn İlqar Mirzə Nicat Samir Teymur Yusif "
    "Araz Azər Cəlal Elşən Etibar Fazil Fikrət Qabil İlham Kamil Mübariz Nadir Namiq Natiq Oqtay Polad Ramin "
    "Rasim Ruslan Sahib Seymur Tahir Toğrul Ülvi Vasif Yaşar Zahid Ziya Əkbər Şahin Rüfət Cahid Emil Nurlan"
).split()
FEMALE = (
    "Aysel Aynur Fidan Günel Gülnarə Könül Lalə Lamiyə Leyla Məryəm Nigar Nərmin Röya Səbinə Sevinc Şəhla "
    "Ülviyyə Zəhra Aygün Arzu Cəmilə Dilarə Elmira Kamilla Natavan Pərvin Rəna Sevda Ulduz Zülfiyyə Aytən "
    "Bahar Dürdanə Esmira Fatimə Gülşən Xədicə İradə Jalə Kəmalə Lətafət Mehriban Nailə Nurlana Sədaqət "
    "Səidə Təranə Türkan Vəfa Yeganə Zərifə Aida Ayan Fəridə Gülər Həcər Könül Nuranə Samirə Tünzalə"
).split()
ROOTS = (
    "Məmməd Əli Həsən Hüseyn Qulu Qasım İsmayıl Abdulla Rəhim Kərim Cəfər Bağır Sadıq Novruz Nağı Vəli Əsəd "
    "Bayram Səfər Rza Zeynal Rüstəm Nəsir Mahmud Əhməd Oruc Paşa Tağı Şükür Xəlil Qurban Musa Baba Hacı Axund "
    "Məlik Eyvaz Fərzəli Allahverdi İbrahim Səlim Yaqub Süleyman Nəbi Ələsgər Həmid Şirin Ağa Əziz Camal "
    "Kamal Fərhad Vahid Zahid Sabir Tahir Nazim Rasim Arif Asif Vaqif Hümbət Qədir Mehdi Sultan Əmir Nuru"
).split()
WESTERN_FIRST = "Anna Emma Sarah Claire Marie Sophie Julia Laura John Thomas Peter Michael David Paul Jan".split()
WESTERN_LAST = ("Müller Schmidt Becker Carter Whitfield Dubois Laurent Rossi Novak Kowalski Jensen Larsen "
                "O'Neill Murphy Fischer Weber Moreau Bernard Nowak Horvat").split()
AFFILIATIONS = ["Baku State University", "ADA University", "Journalist", "Lawyer", "Economist", "Teacher",
                "Freelance photographer", "Institute of Physics", "Writer", "Physician", "Student", ""]
ENGLISH = str.maketrans({"ə": "a", "ı": "i", "ş": "sh", "ç": "ch", "ğ": "gh", "ö": "o", "ü": "u", "x": "kh",
                         "q": "g", "c": "j", "İ": "I", "Ə": "A", "Ş": "Sh", "Ç": "Ch", "Ö": "O", "Ü": "U",
                         "Q": "G", "X": "Kh", "C": "J"})
PLAIN = str.maketrans("əığşçöüƏİĞŞÇÖÜ", "aigscouEIGSCOU")
RUSSIAN = str.maketrans({
    "a": "а", "b": "б", "c": "дж", "ç": "ч", "d": "д", "e": "е", "ə": "а", "f": "ф", "g": "г", "ğ": "г",
    "h": "г", "x": "х", "ı": "ы", "i": "и", "j": "ж", "k": "к", "q": "г", "l": "л", "m": "м", "n": "н",
    "o": "о", "ö": "ё", "p": "п", "r": "р", "s": "с", "ş": "ш", "t": "т", "u": "у", "ü": "ю", "v": "в",
    "y": "й", "z": "з"})


def corpus(path: Path = CORPUS) -> list[tuple[str, str, str, str, bool]]:
    """Return the labelled pairs of one part of the corpus (the tuning part unless told)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["name_a"], r["affiliation_a"], r["name_b"], r["affiliation_b"], r["same"] == "1")
                for r in csv.DictReader(fh)]


def precision_recall(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    """Return (precision, recall) of 'score >= threshold' against the labels."""
    tp = sum(1 for s, same in scored if s >= threshold and same)
    fp = sum(1 for s, same in scored if s >= threshold and not same)
    fn = sum(1 for s, same in scored if s < threshold and same)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def variant(name: str, rng: random.Random) -> str:
    """Return the same name as another person would have typed it."""
    first, last = name.split(" ", 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name.translate(ENGLISH)
    if kind == 1:
        return name.translate(PLAIN)
    if kind == 2 and first not in WESTERN_FIRST:
        cyr = name.lower().translate(RUSSIAN).replace("ыйев", "иев").replace("йев", "ев")
        return " ".join(w.capitalize() for w in cyr.split())
    return f"{last} {first}"


def surname(rng: random.Random, weights: list[float], female: bool) -> str:
    """Return an Azerbaijani surname built like real ones: a given name plus -ov/-yev, -li or -zadə."""
    root = rng.choices(ROOTS, weights)[0]
    kind = rng.random()
    if kind < 0.7:
        base = root + ("yev" if root[-1] in "aəeıiouöü" else "ov")
        return base + "a" if female else base
    if kind < 0.9:
        return root + ("lı" if root[-1] in "aıou" else "li")
    return root + "zadə"


def synthetic(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """Return n (name, affiliation) records, about 10% of them re-spelled duplicates of earlier ones."""
    rng = random.Random(seed)
    # Surname roots are Zipf-like, as in Azerbaijan, so blocks are as uneven as in real lists.
    weights = [1 / (i + 1) for i in range(len(ROOTS))]
    records: list[tuple[str, str]] = []
    for _ in range(n):
        if records and rng.random() < 0.1:
            name, aff = rng.choice(records)
            records.append((variant(name, rng), aff))
        elif rng.random() < 0.1:
            records.append((f"{rng.choice(WESTERN_FIRST)} {rng.choice(WESTERN_LAST)}", rng.choice(AFFILIATIONS)))
        else:
            female = rng.random() < 0.5
            first = rng.choice(FEMALE if female else MALE)
            records.append((f"{first} {surname(rng, weights, female)}", rng.choice(AFFILIATIONS)))
    return records


def main() -> None:
    """Print the corpus table and timing, then one JSON summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000, help="synthetic records to group")
    args = parser.parse_args()

    pairs = corpus()
    scored = [(similarity(a, aa, b, ba), same) for a, aa, b, ba, same in pairs]
    print(f"tuning corpus: {len(pairs)} pairs, {sum(s for _, s in scored)} same-person")
    print("threshold  precision  recall")
    for t in (0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90, 0.92, 0.95):
        p, r = precision_recall(scored, t)
        print(f"{t:9.2f}  {p:9.3f}  {r:6.3f}{'  <- THRESHOLD' if abs(t - THRESHOLD) < 1e-9 else ''}")
    precision, recall = precision_recall(scored, THRESHOLD)
    for (a, aa, b, ba, same), (s, _) in zip(pairs, scored):
        if (s >= THRESHOLD) != same:
            print(f"  {'missed' if same else 'false match'}: {s:.3f}  {a} ({aa}) / {b} ({ba})")

    held = corpus(HELD_OUT)
    held_precision, held_recall = precision_recall(
        [(similarity(a, aa, b, ba), same) for a, aa, b, ba, same in held], THRESHOLD)
    print(f"held-out: {len(held)} pairs, precision {held_precision:.3f}, recall {held_recall:.3f} at {THRESHOLD}")

    # Blocking may miss pairs the scorer would accept: check it on the corpus positives.
    positives = [(a, aa, b, ba) for (a, aa, b, ba, same), (s, _) in zip(pairs, scored) if same and s >= THRESHOLD]
    records = [r for a, aa, b, ba in positives for r in ((a, aa), (b, ba))]
    group_of = {i: n for n, g in enumerate(find_duplicate_groups(records)) for i in g}
    found = sum(1 for i in range(0, len(records), 2) if group_of.get(i, -1) == group_of.get(i + 1, -2))
    print(f"blocking: {found}/{len(positives)} accepted corpus pairs grouped by find_duplicate_groups")

    data = synthetic(args.records)
    start = time.perf_counter()
    groups = find_duplicate_groups(data)
    elapsed = time.perf_counter() - start
    print(f"find_duplicate_groups: {args.records} records, {len(groups)} groups in {elapsed:.2f} s")
    print(json.dumps({"threshold": THRESHOLD, "precision": round(precision, 4), "recall": round(recall, 4),
                      "held_out_precision": round(held_precision, 4), "held_out_recall": round(held_recall, 4),
                      "pairs": len(pairs), "records": args.records, "group_s": round(elapsed, 3)}))


if __name__ == "__main__":
    main()
