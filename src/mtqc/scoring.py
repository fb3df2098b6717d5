"""Scoring: merge the signals' flags per sentence, run the report steps, and compute the article score."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping, Protocol, Sequence

from .results import ArticleReport, Flag

# MQM-DQF severity weights (minor 1, major 5, critical 10), the usual choice in MT evaluation
SEVERITY_WEIGHTS: dict[str, float] = {"minor": 1.0, "major": 5.0, "critical": 10.0}
_RANK = {"minor": 0, "major": 1, "critical": 2}
# a major error costs MQM 5 where a minor one costs 1: the expected penalty adds 4 per expected major
MAJOR_EXTRA_PENALTY = 4.0
EXPECTED_PENALTY, FLAG_COUNT = "expected-penalty", "mqm-flags"  # ArticleReport.score_method


class ReportStep(Protocol):
    """A step from the signals' report to the one shown (calibration, review suppression, ...).

    Steps change sentences and flags; `score` then follows the result, and the step's
    `signature_fields` join the checker's signature, so a report says which steps made it.
    """

    def signature_fields(self) -> Mapping[str, Any]: ...

    def apply(self, report: ArticleReport) -> ArticleReport: ...


def run_steps(report: ArticleReport, steps: Sequence[ReportStep]) -> ArticleReport:
    """`report` through each step in order; its signature gains each step's fields; scored at the end."""
    for step in steps:
        report = step.apply(report)
        report = replace(report, signature=report.signature.extended(step.signature_fields()))
    return replace(report, score=score(report))


def _overlaps(a: Flag, b: Flag) -> bool:
    if a.span is None or b.span is None:
        return False
    return a.span[0] < b.span[1] and b.span[0] < a.span[1]


def merge_flags(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    """Drop a flag whose span overlaps a more informative one of the same error.

    Two signals often see one error (a glossary entry and the word-frequency check both catch an
    Indonesian term); the editor should see it once, with the flag that carries a suggestion,
    then the more severe one.
    """
    ordered = sorted(flags, key=lambda f: (f.suggestion is None, -_RANK[f.severity], f.span or (0, 0)))
    kept: list[Flag] = []
    for flag in ordered:
        if any(_overlaps(flag, k) and (flag.type == k.type or k.suggestion is not None) for k in kept):
            continue
        kept.append(flag)
    return tuple(sorted(kept, key=lambda f: (f.span or (0, 0))))


def mqm_score(flags: Iterable[Flag], word_count: int, weights: dict[str, float] = SEVERITY_WEIGHTS) -> float:
    """100 * (1 - penalty per word), floored at 0: MQM's per-word normalised quality score."""
    penalty = sum(weights[f.severity] for f in flags)
    if word_count <= 0:
        return 100.0 if penalty == 0 else 0.0
    return max(0.0, 100.0 * (1.0 - penalty / word_count))


def score(report: ArticleReport) -> float:
    """The article's 0-100 score: the one place it is computed.

    Calibrated reports: 100 x (1 - expected MQM penalty per word), the penalty of a sentence being
    its expected number of errors plus MAJOR_EXTRA_PENALTY x its probability of a major error.
    Uncalibrated ones: the same per-word formula over the flags' severity weights (`mqm_score`).
    """
    if report.score_method == EXPECTED_PENALTY:
        penalty = sum((s.expected_errors or 0.0) + MAJOR_EXTRA_PENALTY * (s.p_major or 0.0)
                      for s in report.sentences if s.scored)
        words = report.word_count
        return 100.0 if words <= 0 else max(0.0, min(100.0, 100.0 * (1.0 - penalty / words)))
    return mqm_score(report.flags, report.word_count)
