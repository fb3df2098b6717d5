"""Precision of each rule: for every kind of flag, how many flagged sentences are annotated clean or erroneous.

Usage:
    python scripts/flags_by_rule.py GOLD_DIR REPORT_DIR SCORER [--show TEXT]

A rule is a signal, a flag type and the flag's message with quoted parts and numbers masked
(so every "'X' looks like an Indonesian word" flag counts as one rule). For each rule it prints
how many flags fell on sentences annotated ok / minor / major, and how many flag spans overlap
an annotated error span. A rule whose share of flags on ok sentences is above the corpus's share
of ok sentences does worse than flagging at random. `--show TEXT` lists each flag of the rules
whose name contains TEXT. SCORER is score_flags.py, whose sentence alignment is reused; the
corpus is read, never copied.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
from collections import Counter, defaultdict
from pathlib import Path


def rule_of(flag: dict) -> str:
    message = re.sub(r"'[^']*'", "'X'", flag.get("message", ""))
    message = re.sub(r"\d+(?:\.\d+)?", "N", message)
    # glossary notes and person names vary per flag: keep the part of the message that names the rule
    message = message[:40] if flag.get("signal") == "terminology" else message[:60]
    return f"{flag.get('signal')}|{flag.get('type')}|{message}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold_dir", type=Path)
    ap.add_argument("report_dir", type=Path)
    ap.add_argument("scorer", type=Path)
    ap.add_argument("--show", default=None)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("score_flags", args.scorer)
    assert spec and spec.loader
    sf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sf)

    stats: dict[str, Counter[str]] = defaultdict(Counter)
    shown: dict[str, list[tuple[str, bool, str, str]]] = defaultdict(list)
    labels: Counter[str] = Counter()
    for gold_path in sorted(args.gold_dir.glob("*.gold.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        labels.update(s["label"] for s in gold["sentences"])
        article = sf.norm((gold_path.parent / gold["article"]).read_text(encoding="utf-8"))
        report_path = sf.find_report(args.report_dir, gold["article"])
        if report_path is None:
            continue
        rsents = json.loads(report_path.read_text(encoding="utf-8")).get("sentences", [])
        rranges = sf.locate(article, [s.get("text", "") for s in rsents])
        granges = sf.locate(article, [s["text"] for s in gold["sentences"]])
        for sentence, r in zip(rsents, rranges):
            if r is None:
                continue
            matches = [(g, gr) for g, gr in zip(gold["sentences"], granges) if gr is not None
                       and min(r[1], gr[1]) - max(r[0], gr[0]) > 0.5 * min(r[1] - r[0], gr[1] - gr[0])]
            if not matches:
                continue
            gs, gr = matches[0]
            for flag in sentence.get("flags", []):
                rule = rule_of(flag)
                stats[rule]["flags"] += 1
                stats[rule][gs["label"]] += 1
                hit = False
                if flag.get("span"):
                    f0, f1 = r[0] + flag["span"][0], r[0] + flag["span"][1]
                    for err in gs.get("errors", []):
                        start = sf.norm(gs["text"]).find(sf.norm(err["span"]))
                        if start >= 0 and min(f1, gr[0] + start + len(sf.norm(err["span"]))) > max(f0, gr[0] + start):
                            hit = True
                stats[rule]["span_hits"] += hit
                if args.show and args.show in rule:
                    text = sentence["text"][flag["span"][0]:flag["span"][1]] if flag.get("span") else ""
                    shown[rule].append((gs["label"], hit, text, gold_path.name))
    total = sum(labels.values())
    print(f"sentences: {total}, share annotated ok: {labels['ok'] / total:.3f}" if total else "no sentences")
    print(f"{'rule':72s} {'flags':>5s} {'ok':>4s} {'minor':>5s} {'major':>5s} {'span':>4s}")
    for rule, st in sorted(stats.items(), key=lambda kv: -kv[1]["flags"]):
        print(f"{rule[:72]:72s} {st['flags']:5d} {st['ok']:4d} {st['minor']:5d} {st['major']:5d} {st['span_hits']:4d}")
        for row in shown.get(rule, []):
            print("    ", row)


if __name__ == "__main__":
    main()
