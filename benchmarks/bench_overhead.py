"""mtqc's own cost, whole processes as a user runs them: start-up, offline batches, LLM batches.

Usage:
    python benchmarks/bench_overhead.py CORPUS [--only startup,batch,llm] [--repeat 3] [--src SRC]
                                               [--llm-articles 84] [--oracle "python oracle_llm.py DIR"]

CORPUS is a folder of real articles (*.txt). The source tree's bytecode is compiled first, as an
installed package has it. Every number is the median of `--repeat` runs of a fresh `mtqc` process; the machine may be shared, so compare numbers from one invocation (for a
before/after, run it twice with `--src` pointing at each source tree, back to back).

* startup: `mtqc check` of the shortest article of CORPUS (offline engine, `-q`), cache warm.
* batch: `mtqc batch CORPUS --engine offline` into a new folder, `--jobs 1` and `--jobs 2`: with a
  new model-output cache (cache.sqlite3 removed: embeddings computed again), then warm (`--force`,
  the cache kept). The word tables mtqc builds once per machine (`<cache>/lexicon/`) are kept; the
  time to build them is printed once.
* llm: `--engine llm` against a local OpenAI-compatible server that answers at once (`--oracle`
  starts it, e.g. shared/eval/oracle_llm.py), `--jobs 2 --no-cache` over `--llm-articles` articles,
  and one cold `mtqc check` of one article; the server's own time is printed beside it.
"""
from __future__ import annotations

import argparse
import compileall
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def mtqc(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "import sys; from mtqc.cli import main; main(sys.argv[1:], prog_name='mtqc')",
                           *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"mtqc {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--only", default="startup,batch,llm")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the mtqc source tree to measure")
    ap.add_argument("--llm-articles", type=int, default=84)
    ap.add_argument("--oracle", default=None, help="command that serves an OpenAI-compatible API; --port PORT is added")
    args = ap.parse_args()
    only = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="mtqc-bench-overhead-"))
    cache = work / "cache"
    env = {**os.environ, "PYTHONPATH": str(args.src.resolve()), "MTQC_CACHE_DIR": str(cache),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    articles = sorted(args.corpus.glob("*.txt"))
    print(f"source: {args.src}  corpus: {args.corpus} ({len(articles)} articles)  repeat: {args.repeat}")
    # measure what an installed mtqc runs: pip compiles a package's bytecode at install, and a checkout
    # writes it on its first run, unless PYTHONDONTWRITEBYTECODE is set (as in some sandboxes and CI),
    # which would make every start compile mtqc's ~150 modules again (0.15 s here)
    compileall.compile_dir(str(args.src), quiet=1)
    try:
        shortest = min(articles, key=lambda p: p.stat().st_size)
        t = mtqc(["check", str(shortest), "--engine", "offline", "--out", str(work / "first"), "-q"], env)
        print(f"first check in a new cache folder (builds the word tables once): {t:.2f} s")

        if "startup" in only:
            words = len(shortest.read_text(encoding="utf-8").split())
            runs = [mtqc(["check", str(shortest), "--engine", "offline", "--out", str(work / "s"), "-q"], env)
                    for _ in range(args.repeat)]
            print(f"startup: mtqc check, {words}-word article, warm:   {median(runs)}")

        if "batch" in only:
            for jobs in (1, 2):
                new, warm = [], []
                for r in range(args.repeat):
                    (cache / "cache.sqlite3").unlink(missing_ok=True)
                    for extra in ("-wal", "-shm"):
                        (cache / f"cache.sqlite3{extra}").unlink(missing_ok=True)
                    out = work / f"batch-{jobs}-{r}"
                    new.append(mtqc(["batch", str(args.corpus), "--engine", "offline", "--jobs", str(jobs),
                                     "--out", str(out)], env))
                    warm.append(mtqc(["batch", str(args.corpus), "--engine", "offline", "--jobs", str(jobs),
                                      "--out", str(out), "--force"], env))
                    shutil.rmtree(out)
                n = len(articles)
                print(f"batch --jobs {jobs}, new cache: {median(new)} = {n / statistics.median(new):5.1f} articles/s")
                print(f"batch --jobs {jobs}, warm:      {median(warm)} = {n / statistics.median(warm):5.1f} articles/s")

        if "llm" in only:
            if not args.oracle:
                print("llm: skipped (no --oracle command)")
                return
            port = free_port()
            server = subprocess.Popen([*shlex.split(args.oracle), "--port", str(port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                url = f"http://127.0.0.1:{port}/v1"
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"{url}/models", timeout=1).read()
                        break
                    except OSError:
                        time.sleep(0.1)
                llm_env = {**env, "MTQC_LLM_API_KEY": "x"}
                flags = ["--engine", "llm", "--llm-url", url, "--llm-model", "oracle", "--no-cache", "--offline"]
                sub = work / "llm-in"
                sub.mkdir()
                for p in articles[:args.llm_articles]:
                    shutil.copy(p, sub / p.name)
                t0 = time.perf_counter()
                urllib.request.urlopen(f"{url}/models", timeout=5).read()
                server_s = time.perf_counter() - t0
                runs = [mtqc(["batch", str(sub), *flags, "--jobs", "2", "--out", str(work / f"llm-{r}")], llm_env)
                        for r in range(args.repeat)]
                n = len(list(sub.glob("*.txt")))
                print(f"llm batch --jobs 2, {n} articles: {median(runs)} = {n / statistics.median(runs):5.1f} articles/s")
                one = articles[0]
                cold = [mtqc(["check", str(one), *flags, "--out", str(work / f"llm-one-{r}"), "-q"], llm_env)
                        for r in range(args.repeat)]
                print(f"llm cold check of one article: {median(cold)} (a request to the server: {server_s * 1000:.0f} ms)")
            finally:
                server.terminate()
                server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
