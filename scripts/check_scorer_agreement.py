"""Do `mtqc eval` and the reference scorer agree on the same reports?

Usage:
    python scripts/check_scorer_agreement.py SCORER GOLD_DIR [--engine offline] [--keep-reports DIR]
                                             [--mtqc-args "--no-calibration ..."]

SCORER is the reference scorer (score_flags.py); GOLD_DIR a folder of *.gold.json files beside
their articles. The script runs `mtqc eval GOLD_DIR --json --reports DIR` (mtqc checks every
article and computes its metrics with `mtqc.calibration.evaluate.evaluate`), then runs the scorer
on the JSON reports mtqc wrote, at both severities (`--min-severity minor` against mtqc's
"all_flags", `major` against "major_flags"), and prints each metric side by side.

The sentence-level metrics must be equal (both round to 3 decimals), and so must the per-article
tp/fp/fn counts. The article correlations: the scorer reads each report's score as written, rounded
to 2 decimals, while `mtqc eval` correlates the unrounded scores, and rounding can tie two
articles (Kendall's tau-b then moves by more than rounding error). So mtqc's correlation functions
(`pearson`, `kendall_tau_b`) are also run on the scores as written, and those must equal the
scorer's; `mtqc eval`'s own figures are printed beside them. Exit status 0 when everything
agrees, 1 when something does not, 2 when a run fails.

This check reads a scorer and a corpus that live outside the project, so it is a script and not
part of the test suite; `tests/test_calibration.py::test_metrics_by_hand` and
`test_article_correlations_by_hand` pin the metrics with hand-computed values.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

EXACT = ("sentences", "precision", "recall", "f1", "major_recall", "false_flag_rate", "span_recall")
CORRELATIONS = ("article_pearson", "article_kendall")
PER_ARTICLE = ("tp", "fp", "fn")


def run_json(cmd: list[str]) -> Any:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {shlex.join(cmd)}\n{done.stderr.strip() or done.stdout.strip()}")
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)
    return json.loads(done.stdout)


def correlations_as_written(ours: dict[str, Any], reports: Path) -> dict[str, float | None]:
    """mtqc's article correlations over the scores the reports carry (what the scorer reads)."""
    from mtqc.calibration.evaluate import kendall_tau_b, pearson

    pairs = []
    for article in ours.get("per_article", []):
        report = json.loads((reports / f"{Path(article['article']).stem}.json").read_text(encoding="utf-8"))
        if article["gold_quality"] is not None:
            pairs.append((article["gold_quality"], float(report["score"])))
    rounded = {"article_pearson": pearson(pairs), "article_kendall": kendall_tau_b(pairs)}
    return {k: None if v is None else round(v, 3) for k, v in rounded.items()}  # as EvalResult.to_dict rounds


def compare(ours: dict[str, Any], theirs: dict[str, Any], reports: Path) -> list[tuple[str, Any, Any, bool | None]]:
    rows: list[tuple[str, Any, Any, bool | None]] = []
    for key in EXACT:
        rows.append((key, ours.get(key), theirs.get(key), ours.get(key) == theirs.get(key)))
    written = correlations_as_written(ours, reports)
    for key in CORRELATIONS:
        rows.append((key, written[key], theirs.get(key), written[key] == theirs.get(key)))
        rows.append(("  (mtqc eval, unrounded)", ours.get(key), "", None))
    mine = {a["article"]: tuple(a[k] for k in PER_ARTICLE) for a in ours.get("per_article", [])}
    other = {a["article"]: tuple(a[k] for k in PER_ARTICLE) for a in theirs.get("per_article", [])}
    differing = sorted(name for name in mine.keys() | other.keys() if mine.get(name) != other.get(name))
    rows.append(("per-article tp/fp/fn", f"{len(mine)} articles", f"{len(other)} articles", not differing))
    for name in differing:
        rows.append((f"  {name}", mine.get(name), other.get(name), False))
    if theirs.get("missing_reports"):
        rows.append(("missing reports", 0, len(theirs["missing_reports"]), False))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scorer", type=Path, help="the reference scorer, score_flags.py")
    ap.add_argument("gold_dir", type=Path, help="a folder of *.gold.json files beside their articles")
    ap.add_argument("--engine", default="offline", help="mtqc's engine [default: offline]")
    ap.add_argument("--keep-reports", type=Path, default=None, help="write mtqc's reports here (else a temp folder)")
    ap.add_argument("--mtqc-args", default="", help="more options for `mtqc eval`, as one string")
    args = ap.parse_args()
    if not args.scorer.is_file():
        ap.error(f"{args.scorer}: no such scorer")
    if not args.gold_dir.is_dir():
        ap.error(f"{args.gold_dir}: not a folder")

    with tempfile.TemporaryDirectory(prefix="mtqc-agreement-") as tmp:
        reports = args.keep_reports or Path(tmp) / "reports"
        ours = run_json([sys.executable, "-m", "mtqc.cli", "eval", str(args.gold_dir), "--json", "--bootstrap", "0",
                         "--reports", str(reports), "--engine", args.engine, *shlex.split(args.mtqc_args)])
        print(f"mtqc eval: {ours['evaluated_with']}, engine {ours['engine']}, "
              f"{ours['all_flags']['articles']} articles; reports in {args.keep_reports or 'a temporary folder'}")
        agree = True
        for severity, key in (("minor", "all_flags"), ("major", "major_flags")):
            theirs = run_json([sys.executable, str(args.scorer), str(args.gold_dir), str(reports),
                               "--min-severity", severity, "--json"])
            print(f"\nflags of severity >= {severity}:")
            print(f"  {'metric':24s} {'mtqc':>14s} {'scorer':>14s}")
            for name, a, b, same in compare(ours[key], theirs, reports):
                agree &= same is not False
                verdict = "" if same is None else "ok" if same else "DIFFERS"
                print(f"  {name:24s} {a!s:>14} {b!s:>14}  {verdict}")
    print("\nmtqc eval and the reference scorer " + ("agree" if agree else "DISAGREE"))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
