"""Benchmark `mtqc batch` at archive scale: articles/s per executor, driver peak memory, rerun speed-up.

Usage:
    python benchmarks/bench_batch.py [--articles 2000] [--big 20000] [--repeat 2] [--skip-ray] [--only speed,memory,rerun]

Each measurement runs `mtqc batch` (offline engine) in a fresh process, as a user would, over
generated articles (written for this benchmark) and reports:

* speed: wall time and articles/s for `--jobs 1`, `--jobs 2` and `--executor ray --jobs 2`
  (the last only when Ray is importable), on `--articles` articles;
* rerun: the same batch again over the unchanged folder, and how many times faster it is;
* memory: the driver's peak RSS (its own `ru_maxrss`, workers excluded) for `--articles` and
  `--big` very short articles, with `--jobs 2`, so the driver only plans, dispatches and writes.

The machine may be shared: every measurement is repeated (`--repeat`) and each result printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Written for this benchmark: the kind of news item mtqc checks, with a few typical slips.
PARAGRAPHS = [
    "SURABAYA - The city transport agency said {n} new buses will serve the eastern ring road from Monday (3/6), "
    "after residents complained about long waits at 07.00 WIB.",
    "\"We have prepared {m} drivers and the the route map is already in the application,\" the head of the agency, "
    "Rini Hapsari, told reporters at the city hall.",
    "The buses were at least in the morning be full, Kapasitas: {k} seats, and the fare remains the same for students.",
    "Officials said the new service is cheap and cheap, and that the city will add {j} stops along the river road "
    "before the end of the year.",
]
SHORT = "The district office said {n} families received clean water on Tuesday, and the the pump was repaired."


def make_articles(folder: Path, count: int, *, short: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if short:
            text = SHORT.format(n=i + 3) + "\n"
        else:
            text = "\n\n".join(p.format(n=i + 2, m=i % 97 + 5, k=i % 53 + 20, j=i % 7 + 2) for p in PARAGRAPHS) + "\n"
        (folder / f"article-{i:06d}.txt").write_text(text, encoding="utf-8")


DRIVER = """
import resource, sys
from mtqc.cli import main
try:
    main(sys.argv[1:], prog_name="mtqc")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nMAXRSS_KB %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code or 0)
"""


def run_cli_batch(src: Path, out: Path, *extra: str) -> dict[str, float]:
    """Run `mtqc batch` in a new process; wall time, the run's own rate, and the driver's peak RSS."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DRIVER, "batch", str(src), "--out", str(out), "--engine", "offline",
                           *extra], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"mtqc batch failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rss = int(done.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0])
    run = json.loads((out / "summary.json").read_text(encoding="utf-8"))["run"]
    return {"wall_s": wall, "run_s": run["elapsed_s"], "checked_now": run["checked_now"], "rss_mb": rss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--big", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--only", default="speed,rerun,memory")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    os.environ["MTQC_CACHE_DIR"] = tempfile.mkdtemp(prefix="mtqc-bench-cache-")
    try:
        import ray  # noqa: F401
        have_ray = not args.skip_ray
    except ImportError:
        have_ray = False
    tmp = Path(tempfile.mkdtemp(prefix="mtqc-bench-batch-"))
    try:
        src = tmp / "in"
        make_articles(src, args.articles)
        print(f"{args.articles} generated articles of {len(chr(10).join(PARAGRAPHS).split())} words; offline engine; "
              f"{os.cpu_count()} CPUs")
        if parts & {"speed", "rerun"}:
            modes = [("--jobs 1", []), ("--jobs 2", ["--jobs", "2"])]
            if have_ray:
                modes.append(("--executor ray --jobs 2", ["--executor", "ray", "--jobs", "2"]))
            for label, extra in modes:
                for attempt in range(args.repeat):
                    out = tmp / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    first = run_cli_batch(src, out, *extra)
                    line = (f"{label:26s} try {attempt + 1}: {first['wall_s']:7.1f} s wall = "
                            f"{args.articles / first['wall_s']:6.1f} articles/s "
                            f"(checking alone {first['run_s']:.1f} s = {args.articles / first['run_s']:.1f}/s)")
                    if "rerun" in parts and label == "--jobs 1":
                        again = run_cli_batch(src, out, *extra)
                        assert again["checked_now"] == 0, again
                        line += (f"; rerun unchanged {again['wall_s']:.2f} s wall "
                                 f"(batch alone {again['run_s']:.2f} s): {first['wall_s'] / again['wall_s']:.0f}x "
                                 f"faster ({first['run_s'] / again['run_s']:.0f}x without process start-up)")
                    print(line, flush=True)
                    shutil.rmtree(out, ignore_errors=True)
        if "memory" in parts:
            for count in (args.articles, args.big):
                small = tmp / f"short-{count}"
                make_articles(small, count, short=True)
                for attempt in range(args.repeat):
                    out = tmp / "out-mem"
                    shutil.rmtree(out, ignore_errors=True)
                    result = run_cli_batch(small, out, "--jobs", "2")
                    print(f"driver peak RSS, {count:6d} short articles, --jobs 2, try {attempt + 1}: "
                          f"{result['rss_mb']:6.1f} MB ({result['wall_s']:.0f} s, "
                          f"{count / result['wall_s']:.0f} articles/s)", flush=True)
                shutil.rmtree(small, ignore_errors=True)
                shutil.rmtree(tmp / "out-mem", ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
