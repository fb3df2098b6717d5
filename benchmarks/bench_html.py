"""Load time of the HTML reports in a real browser: a 200-sentence article report and a 10,000-article index.

    python benchmarks/bench_html.py [--runs 5] [--chromium /usr/bin/chromium]

Builds both pages in a temp folder (the article is checked offline; the index rows are synthetic,
with flagged phrases drawn from a small vocabulary so that "recurring problems" is full), opens
each in headless chromium through Playwright and prints the navigation timing (DOMContentLoaded
and load, from the Navigation Timing API, which include parsing, styling and the page's script),
and the time of one interaction on each page (j on the report; sorting the index by name).
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from mtqc.config import load_settings
from mtqc.ingest import article_from_text
from mtqc.pipeline import CheckerConfig
from mtqc.reports import render_html, render_index
from mtqc.reports.index import summary_row_extras

# sentence patterns written for this benchmark; each carries something mtqc flags now and then
PATTERNS = [
    "The regency said {n} houses were damaged after the river overflowed on {day}.",
    "Officials told the media crew that the the evacuation of {n} families was finished.",
    "The market reopened at 0{h}.30 WIB, a trader said, and prices of rice rose by {n} percent.",
    "Residents said the road to the village was quick and quick repaired by the local agency.",
    "The governor promised to rebuild {n} schools before the new term begins in {month}.",
    "Police said the suspect was arrested on {day} (1{h}/3) in the north of the city.",
    "Farmers in the district asked the government to lower the price of fertilizer this season.",
    "The head of the village said the water reached the roofs of {n} houses on the riverbank.",
]
WORDS = {"day": ["Monday", "Tuesday", "Friday"], "month": ["July", "August"]}
PHRASES = ["media crew", "the the", "North Korean fugitives", "his party", "Kapolda", "regional head",
           "quick and quick", "Rp", "15.00 WIB", "state apparatus", "People's Representative Council"]


def article_text(sentences: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    paragraphs, current = [], []
    for i in range(sentences):
        current.append(rng.choice(PATTERNS).format(n=rng.randint(2, 90), h=rng.randint(1, 9),
                                                   day=rng.choice(WORDS["day"]), month=rng.choice(WORDS["month"])))
        if len(current) == 3:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    return "Floods in the regency\n\n" + "\n\n".join(p for p in paragraphs if p) + "\n"


def index_rows(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        phrases = rng.sample(PHRASES, rng.randint(0, 4))
        rows.append({
            "name": f"2024/article {i:05d} #{rng.randint(1, 9)}.txt", "html": f"articles/2024/article%20{i:05d}.html",
            "score": round(rng.uniform(20, 100), 2), "error": None,
            "by_severity": {"minor": rng.randint(0, 9), "major": rng.randint(0, 3), "critical": rng.randint(0, 1)},
            "by_type": {"terminology": len(phrases), "fluency": rng.randint(0, 6)},
            "flagged_phrases": [{"text": p, "key": p.lower(), "sentence": rng.randint(1, 30), "types": ["terminology"],
                                 "signals": ["terminology"]} for p in phrases],
            "suppressed": 0,
        })
    return rows


TIMING = """() => { const n = performance.getEntriesByType('navigation')[0];
    return [n.domContentLoadedEventEnd, n.loadEventEnd]; }"""


def measure(page: object, url: str, runs: int, interact: str) -> tuple[list[float], list[float], list[float]]:
    dcl, load, action = [], [], []
    for _ in range(runs):
        page.goto("about:blank")  # type: ignore[attr-defined]
        page.goto(url, wait_until="load")  # type: ignore[attr-defined]
        a, b = page.evaluate(TIMING)  # type: ignore[attr-defined]
        dcl.append(a)
        load.append(b)
        action.append(page.evaluate(interact))  # type: ignore[attr-defined]
    return dcl, load, action


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    checker = CheckerConfig(load_settings(env={}), engine="offline").build()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        report = checker.check_article(article_from_text(article_text(args.sentences), "floods.txt"))
        t1 = time.perf_counter()
        article_html = render_html(report)
        t2 = time.perf_counter()
        (root / "report.html").write_text(article_html, encoding="utf-8")
        rows = index_rows(args.articles)
        rows[0].update(summary_row_extras(report))
        t3 = time.perf_counter()
        index_html = render_index(rows, "bench", "sig", [])
        t4 = time.perf_counter()
        (root / "index.html").write_text(index_html, encoding="utf-8")
        scored = sum(1 for s in report.sentences if s.scored)
        print(f"article: {scored} scored sentences, {len(report.flags)} flags, HTML {len(article_html) / 1e3:.0f} kB; "
              f"check {t1 - t0:.2f} s, render {t2 - t1:.3f} s")
        print(f"index: {args.articles} articles, HTML {len(index_html) / 1e6:.1f} MB; render {t4 - t3:.2f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page()
            for label, name, interact in (
                ("article report", "report.html",
                 "() => { const t = performance.now(); document.dispatchEvent(new KeyboardEvent('keydown', {key: 'j'}));"
                 " return performance.now() - t; }"),
                ("index", "index.html",
                 "() => { const t = performance.now(); document.querySelector('th[data-key=name] button').click();"
                 " return performance.now() - t; }"),
            ):
                dcl, load, action = measure(page, (root / name).as_uri(), args.runs, interact)
                print(f"{label}: DOMContentLoaded median {statistics.median(dcl):.0f} ms (min {min(dcl):.0f}, "
                      f"max {max(dcl):.0f}); load median {statistics.median(load):.0f} ms; "
                      f"{'j' if name == 'report.html' else 'sort by name'} {statistics.median(action):.1f} ms "
                      f"({args.runs} runs)")
            browser.close()


if __name__ == "__main__":
    main()
