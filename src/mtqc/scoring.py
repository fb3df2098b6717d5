"""Scoring: merge the signals' flags per sentence and compute an MQM-style article score."""
from __future__ import annotations

from typing import Iterable

from .results import Flag

# MQM-DQF severity weights (minor 1, major 5, critical 10), the usual choice in MT evaluation
SEVERITY_WEIGHTS: dict[str, float] = {"minor": 1.0, "major": 5.0, "critical": 10.0}
_RANK = {"minor": 0, "major": 1, "critical": 2}


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
