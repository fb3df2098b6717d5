"""Span recall per annotated error type: the share of gold error spans of each type that some flag overlaps.

Usage:
    python scripts/span_recall_by_type.py GOLD_DIR REPORT_DIR SCORER

SCORER is the path of score_flags.py, whose sentence alignment (norm, locate) is reused so the
numbers agree with its overall span recall. The corpus is read, never copied.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from collections import Counter
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold_dir", type=Path)
    ap.add_argument("report_dir", type=Path)
    ap.add_argument("scorer", type=Path)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("score_flags", args.scorer)
    assert spec and spec.loader
    sf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sf)

    total: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    sentence_hit: Counter[str] = Counter()
    for gold_path in sorted(args.gold_dir.glob("*.gold.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        article = sf.norm((gold_path.parent / gold["article"]).read_text(encoding="utf-8"))
        report_path = sf.find_report(args.report_dir, gold["article"])
        if report_path is None:
            continue
        report = json.loads(report_path.read_text(encoding="utf-8"))
        rsents = report.get("sentences", [])
        rranges = sf.locate(article, [s.get("text", "") for s in rsents])
        granges = sf.locate(article, [s["text"] for s in gold["sentences"]])
        for gs, gr in zip(gold["sentences"], granges):
            if gr is None:
                continue
            flags = [(f, r) for s, r in zip(rsents, rranges) if r is not None
                     and min(r[1], gr[1]) - max(r[0], gr[0]) > 0.5 * min(r[1] - r[0], gr[1] - gr[0])
                     for f in s.get("flags", [])]
            for err in gs.get("errors", []):
                kind = err["type"]
                total[kind] += 1
                sentence_hit[kind] += bool(flags)
                start = sf.norm(gs["text"]).find(sf.norm(err["span"]))
                if start < 0:
                    continue
                g0, g1 = gr[0] + start, gr[0] + start + len(sf.norm(err["span"]))
                if any(f.get("span") and min(r[0] + f["span"][1], g1) > max(r[0] + f["span"][0], g0) for f, r in flags):
                    hit[kind] += 1
    print(f"{'type':16s} {'errors':>6s} {'span recall':>11s} {'sentence flagged':>16s}")
    for kind in sorted(total):
        print(f"{kind:16s} {total[kind]:6d} {hit[kind] / total[kind]:11.3f} {sentence_hit[kind] / total[kind]:16.3f}")


if __name__ == "__main__":
    main()
