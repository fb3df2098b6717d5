"""Time the offline pipeline: one article, and a folder of N copies (articles per second).

Usage:
    python benchmarks/bench_offline.py [ARTICLE] [--copies 100]

Runs in-process through the same Checker and batch code as `mtqc check`/`mtqc batch`, with an
empty cache in a temp folder. The first article pays the one-off costs (word lists; the MiniLM
model when the article has repeated entity phrases to compare), reported separately.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtqc.batch.archive import ArchiveBatch
from mtqc.batch.executors import InlineExecutor
from mtqc.batch.sources import FolderSource
from mtqc.config import load_settings
from mtqc.pipeline import CheckerConfig

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("article", nargs="?", type=Path, default=ROOT / "seeds" / "000_f4f09ab21f27cf97.txt")
    ap.add_argument("--copies", type=int, default=100)
    args = ap.parse_args()

    os.environ["MTQC_CACHE_DIR"] = tempfile.mkdtemp(prefix="mtqc-bench-cache-")  # cold, reproducible
    t0 = time.perf_counter()
    checker = CheckerConfig(load_settings(), engine="offline").build()
    t_setup = time.perf_counter() - t0

    t0 = time.perf_counter()
    checker.check_file(args.article)
    t_first = time.perf_counter() - t0

    runs = 5
    t0 = time.perf_counter()
    for _ in range(runs):
        checker.check_file(args.article)
    t_warm = (time.perf_counter() - t0) / runs

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        for i in range(args.copies):
            shutil.copy(args.article, src / f"article-{i:03d}{args.article.suffix}")
        t0 = time.perf_counter()
        with ArchiveBatch(FolderSource(src), out) as batch:  # as `mtqc batch --jobs 1`, with this checker
            batch.prepare()
            result = batch.run(InlineExecutor(checker))
        t_batch = time.perf_counter() - t0
    assert not result.failed and not result.errors, (result.failures, result.errors)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mtqc.cli", "check", str(args.article), "--engine", "offline",
                        "--out", tmp, "-q"], check=True)
        t_cli = time.perf_counter() - t0

    print(f"`mtqc check`, new process, warm cache: {t_cli:5.3f} s")
    print(f"setup (glossary, signals):         {t_setup:7.3f} s")
    print(f"first article (loads word lists):  {t_first:7.3f} s")
    print(f"one article, warm:                 {t_warm:7.3f} s")
    print(f"{args.copies} articles (JSON+HTML):       {t_batch:7.3f} s  = {args.copies / t_batch:.1f} articles/s")


if __name__ == "__main__":
    main()
