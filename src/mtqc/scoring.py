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
    # advice counts as "informative" as a replacement does (it did, before it had its own field)
    ordered = sorted(flags, key=lambda f: (f.suggestion is None and f.advice is None, -_RANK[f.severity],
                                           f.span or (0, 0)))
    kept: list[Flag] = []
    for flag in ordered:
        if any(_overlaps(flag, k) and (flag.type == k.type or k.suggestion is not None or k.advice is not None)
               for k in kept):
            continue
        kept.append(flag)
    return tuple(sorted(kept, key=lambda f: (f.span or (0, 0))))


# The MQM penalty per 100 words that halves an article's score: 100 is nothing expected wrong, 50
# is 14 points per 100 words (say two major errors and four minor ones), 25 twice that. A per-word
# penalty subtracted from 100 would squeeze real articles into a few points (89-93 on the
# annotated news), where a ranking cannot be read; halving keeps the order and spreads it.
SCORE_HALF_LIFE = 14.0


def mqm_penalty(flags: Iterable[Flag], weights: dict[str, float] = SEVERITY_WEIGHTS) -> float:
    """MQM's penalty of a set of flags: the sum of their severity weights."""
    return sum(weights[f.severity] for f in flags)


def penalty_score(penalty: float, word_count: int) -> float:
    """0-100 from an MQM penalty: 100 x 0.5 ^ (penalty per 100 words / SCORE_HALF_LIFE)."""
    if word_count <= 0:
        return 100.0 if penalty <= 0 else 0.0
    return 100.0 * 0.5 ** (100.0 * max(0.0, penalty) / word_count / SCORE_HALF_LIFE)


def score(report: ArticleReport) -> float:
    """The article's 0-100 score: the one place it is computed (`penalty_score` of its penalty).

    Calibrated reports: the expected MQM penalty, each sentence's expected number of errors plus
    MAJOR_EXTRA_PENALTY x its probability of a major error (the annotation's gold weights).
    Uncalibrated ones: the flags' MQM severity weights (`mqm_penalty`).
    """
    if report.score_method == EXPECTED_PENALTY:
        penalty = sum((s.expected_errors or 0.0) + MAJOR_EXTRA_PENALTY * (s.p_major or 0.0)
                      for s in report.sentences if s.scored)
    else:
        penalty = mqm_penalty(report.flags)
    return penalty_score(penalty, report.word_count)
