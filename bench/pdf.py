"""Benchmark the final PDF: naive WeasyPrint render vs chunked cold render vs one more signature.

    python bench/pdf.py --signatories 10000 [--skip-naive] [--workers 2]

Every phase runs in a fresh process so its peak RSS is its own (worker processes are measured as
that process's children). The last line printed is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from petitions.pdf.engine.document import Addressee, LetterDocument, SignatoryEntry  # noqa: E402

SCRIPTS = {
    "latin": (["Əli", "Leyla", "Anna", "Jean", "Hans", "María", "Şəbnəm", "Olivier", "Ingrid", "Tomasz"],
              ["ova", "ov", "li", "ski", "mann", "ez", "yan", "son", "ier", "zadə"],
              ["Qurb", "Məmməd", "Schm", "Dup", "Garc", "Nowak", "Ismay", "Huss", "Lind", "Berg"]),
    "cyrillic": (["Иван", "Ольга", "Пётр", "Анна", "Дмитрий", "Мария"], ["ов", "ова", "ин", "ина", "ский", "ко"],
                 ["Петр", "Смирн", "Кузн", "Волк", "Соколь", "Лебед"]),
    "arabic": (["محمد", "فاطمة", "علي", "مريم"], ["ي", "ان", "ون", ""], ["الحسين", "العل", "الكرد", "السيد"]),
    "armenian": (["Արամ", "Անի", "Գոռ"], ["յան", "ունի", "ց"], ["Պետրոս", "Հովհաննիս", "Սարգս"]),
    "georgian": (["ნინო", "გიორგი", "თამარ"], ["ძე", "შვილი", "ია"], ["ბერი", "კაპანა", "ჯაფარი"]),
    "hebrew": (["דוד", "שרה", "יוסף"], ["י", "ון", ""], ["כהן", "לוי", "מזרח"]),
}
WEIGHTS = {"latin": 70, "cyrillic": 20, "arabic": 4, "armenian": 2, "georgian": 2, "hebrew": 2}
AFFILIATIONS = ["Journalist", "Lawyer, Bar Association", "Адвокат", "Professor of Law, University of Vienna",
                "Human rights defender", "Member of Parliament", "Hüquqşünas", "", "", "Researcher, CNRS",
                "Editor-in-chief, Meydan TV", "Student"]
LEVELS = ["email"] * 70 + ["domain"] * 15 + ["vouched"] * 10 + ["official"] * 5


def synthetic_entries(n: int, seed: int = 7) -> list[SignatoryEntry]:
    """Return n distinct signatories in several scripts."""
    rng = random.Random(seed)
    kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
    out = []
    for i in range(n):
        first, suffixes, stems = SCRIPTS[rng.choice(kinds)]
        # A running number keeps names distinct, as real lists are, so shaping is not all cache hits;
        # it sits before the surname, which decides the order.
        number = f"{i}" if rng.random() < 0.5 else f"{i % 997}"
        name = f"{rng.choice(first)} {number} {rng.choice(stems)}{rng.choice(suffixes)}"
        org = rng.random() < 0.04
        out.append(SignatoryEntry(name=f"Association {name}" if org else name,
                                  affiliation="" if org else rng.choice(AFFILIATIONS),
                                  level=rng.choice(LEVELS), is_organization=org,
                                  country=rng.choice(["AZ", "DE", "FR", "GE", "AM", ""])))
    return out


def synthetic_document(n: int) -> LetterDocument:
    """Return a realistic letter with n signatories."""
    body = "".join(f"<p>{'We, the undersigned organizations and individuals, call for the release of the journalists. ' * 6}</p>"
                   for _ in range(5))
    return LetterDocument(
        title="Release the journalists of Abzas Media and Meydan TV", subject="Urgent appeal",
        body_html=body, signatories=synthetic_entries(n),
        addressees=[Addressee("Alain Berset", "Secretary General", "Council of Europe",
                              "Avenue de l'Europe\n67075 Strasbourg Cedex", "Dear Secretary General,")],
        place="Strasbourg", date=date(2026, 11, 23), demands=["Release them.", "Drop all charges."],
        closing="Respectfully,", coalition="Coalition for Press Freedom", revision_hash="ab" * 32,
        generated_at=datetime(2026, 11, 23, tzinfo=timezone.utc), grouping="kind")


def naive_html(doc: LetterDocument) -> str:
    """Return the letter with its whole list as one HTML document in CSS columns (the old way)."""
    from markupsafe import escape

    from petitions.pdf.engine.assemble import front_html

    items = "".join(f"<li>{escape(e.name)}{' – ' + escape(e.affiliation) if e.affiliation else ''}</li>"
                    for e in doc.signatories)
    style = ("<style>@page{@bottom-center{content:'Page ' counter(page) ' of ' counter(pages)}}"
             "ol.sig{columns:2;font-size:8pt} ol.sig li{break-inside:avoid}</style>")
    return front_html(doc).replace("</body>", f"{style}<ol class=sig>{items}</ol></body>")


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def phase(name: str, n: int, cache: str, workers: int) -> dict:
    """Run one measured phase in this process."""
    from weasyprint import HTML

    from petitions.pdf.engine import assemble, pades as signing

    doc = synthetic_document(n)
    keys = os.path.join(cache, "keys")
    signing.generate_self_signed(keys)
    signer = signing.load_signer(keys)
    if name == "incremental":
        # One more signature, sorted into the middle of the list like any new name.
        doc.signatories = [*doc.signatories, SignatoryEntry("Nərmin Məmmədli", "Journalist", "email")]
    start = time.perf_counter()
    if name == "naive":
        html = HTML(string=naive_html(doc), url_fetcher=assemble.url_fetcher())
        data = html.write_pdf(stylesheets=assemble.print_stylesheet())
        pages, rendered = None, None
    else:
        result = assemble.build(doc, os.path.join(cache, "chunks"), document_id="bench",
                                verify_url="http://127.0.0.1:5000/verify/bench", workers=workers)
        t_sign = time.perf_counter()
        data = signing.sign_pdf(result.pdf, signer)
        result.timings["sign"] = time.perf_counter() - t_sign
        pages, rendered = result.pages, f"{result.rendered_chunks}/{result.chunks}"
    seconds = time.perf_counter() - start
    timings = {} if name == "naive" else {k: round(v, 2) for k, v in result.timings.items()}
    return {"phase": name, "seconds": round(seconds, 2), "peak_mb": _peak_mb(), "pages": pages, "timings": timings,
            "rendered_chunks": rendered, "bytes": len(data)}


def run_phase(name: str, n: int, cache: str, workers: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", name, "--signatories", str(n), "--cache", cache,
                          "--workers", str(workers)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{out.stderr}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{name:12s} {figures['seconds']:8.2f} s  peak {figures['peak_mb']:7.1f} MB  pages {figures['pages']}"
          f"  chunks typeset {figures['rendered_chunks']}  {figures['bytes'] / 1e6:.1f} MB  {figures['timings']}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatories", type=int, default=10_000)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phase")
    parser.add_argument("--cache")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.signatories, args.cache, args.workers)))
        return
    cache = tempfile.mkdtemp(prefix="bench-pdf-")
    try:
        naive = None if args.skip_naive else run_phase("naive", args.signatories, cache, args.workers)
        cold = run_phase("cold", args.signatories, cache, args.workers)
        incremental = run_phase("incremental", args.signatories, cache, args.workers)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps({
        "signatories": args.signatories,
        "naive_s": naive and naive["seconds"], "naive_peak_mb": naive and naive["peak_mb"],
        "cold_s": cold["seconds"], "cold_peak_mb": cold["peak_mb"],
        "incremental_s": incremental["seconds"], "incremental_peak_mb": incremental["peak_mb"],
        "cold_pages": cold["pages"], "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
