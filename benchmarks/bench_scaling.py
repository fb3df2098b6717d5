"""Time one offline check by article length: is mtqc linear in the number of sentences?

Usage:
    python benchmarks/bench_scaling.py [--sentences 200 800 3000] [--repeat 3] [--profile N] [--corpus DIR]

Each article is generated (written for this benchmark): news sentences with many different
people (names, titles, pronouns), Indonesian acronyms and their English names, places and
currencies, so that every consistency mechanism has work. With `--corpus DIR` (a folder of real
articles, read for measuring only) the article is instead the paragraphs of those articles one
after another, as many as make N sentences: names and glossary terms then keep coming as the
article grows, which is what made the consistency signal superlinear. The check runs in-process through
`Checker.check_article` (offline engine, empty cache), after one warm-up check so that the one-off
costs (word tables, glossary) are not counted. Prints seconds and milliseconds per sentence; the
median of `--repeat` runs. `--profile N` profiles the N-sentence article instead.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

FIRST = ["Agus", "Rini", "Budi", "Siti", "Joko", "Dewi", "Hendra", "Wati", "Eko", "Sri", "Bambang", "Yuni",
         "Andi", "Maya", "Rudi", "Lina", "Fajar", "Indah", "Teguh", "Ratna"]
LAST = ["Permana", "Hapsari", "Santoso", "Wulandari", "Saputra", "Lestari", "Gunawan", "Kusuma", "Nugroho",
        "Pratama", "Setiawan", "Rahayu", "Hidayat", "Susanti", "Wibowo", "Purnama"]
TEMPLATES = [
    "{name}, the head of the {place} agency, said {n} families had received clean water on Tuesday.",
    "According to {last}, the KPK will question {m} officials of the regional government next week.",
    "\"We have prepared {m} trucks,\" {he} told reporters in {place}, adding that the budget was Rp{n} billion.",
    "The Corruption Eradication Commission said {last} had returned IDR {n} million to the state.",
    "{name} said {he} would meet the governor of {place} and the DPR commission on Friday.",
    "The House of Representatives asked {last} to explain why {m} projects in {place} were late.",
    "Residents of {place} said the water rose quickly after 22.15 WIB and entered the houses.",
    "Police chief {name} said {he} had sent {m} officers to guard the market in {place}.",
]
PLACES = ["Surabaya", "Bandung", "Sleman", "Bantul", "Medan", "Makassar", "Semarang", "Bogor", "Depok", "Malang"]


def article(sentences: int) -> str:
    out: list[str] = []
    for i in range(sentences):
        person = (i // 5) % (len(FIRST) * len(LAST))
        first, last = FIRST[person % len(FIRST)], LAST[(person * 7) % len(LAST)]
        he = "she" if first in ("Rini", "Siti", "Dewi", "Wati", "Sri", "Yuni", "Maya", "Lina", "Indah", "Ratna") else "he"
        text = TEMPLATES[i % len(TEMPLATES)].format(name=f"{first} {last}", last=last, he=he, n=i + 3, m=i % 90 + 2,
                                                    place=PLACES[(i // 3) % len(PLACES)])
        out.append(text[0].upper() + text[1:])
    return "\n\n".join(" ".join(out[i:i + 4]) for i in range(0, len(out), 4)) + "\n"


def corpus_article(folder: "os.PathLike[str]", sentences: int) -> str:
    """Paragraphs of the articles in `folder` (header lines left out), cycled until about `sentences` sentences."""
    from pathlib import Path

    paragraphs = [p.strip() for f in sorted(Path(folder).glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n\n")
                  if p.strip() and not p.lstrip().startswith("# ")]
    out: list[str] = []
    count = 0
    while count < sentences:
        for p in paragraphs:
            out.append(p)
            count += 1 + sum(p.count(mark) for mark in (". ", "? ", "! "))
            if count >= sentences:
                break
    return "\n\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=int, nargs="+", default=[200, 800, 3000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", type=int, default=None)
    ap.add_argument("--corpus", default=None, help="build the articles from this folder of real articles")
    args = ap.parse_args()
    make = (lambda n: corpus_article(args.corpus, n)) if args.corpus else article
    os.environ["MTQC_CACHE_DIR"] = tempfile.mkdtemp(prefix="mtqc-bench-cache-")

    from mtqc.config import load_settings
    from mtqc.ingest import article_from_text
    from mtqc.pipeline import CheckerConfig

    checker = CheckerConfig(load_settings(max_bytes=50_000_000), engine="offline").build()
    checker.check_article(article_from_text(article(200), "warm-up.txt"))  # loads MiniLM too
    if args.profile:
        import cProfile
        import pstats

        art = article_from_text(make(args.profile), "profile.txt")
        cProfile.runctx("checker.check_article(art)", globals(), {"checker": checker, "art": art}, "/tmp/bench_scaling.prof")
        pstats.Stats("/tmp/bench_scaling.prof").sort_stats("cumulative").print_stats(40)
        return
    print(f"{'sentences':>9} {'segment s':>10} {'check s':>9} {'ms/sentence':>12}")
    for n in args.sentences:
        text = make(n)
        seg_times, check_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            art = article_from_text(text, f"scaling-{n}.txt")
            t1 = time.perf_counter()
            checker.check_article(art)
            t2 = time.perf_counter()
            seg_times.append(t1 - t0)
            check_times.append(t2 - t1)
        seg, check = statistics.median(seg_times), statistics.median(check_times)
        scored = len(art.scored_segments)
        print(f"{scored:>9} {seg:>10.2f} {check:>9.2f} {1000 * (seg + check) / scored:>12.2f}")


if __name__ == "__main__":
    main()
