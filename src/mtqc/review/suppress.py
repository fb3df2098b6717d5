"""A report step: flags editors dismissed in earlier reviews are not raised again."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Iterable

from ..results import ArticleReport, Flag, SentenceResult
from .file import Review


SuppressionKey = tuple[str, "str | None", str]  # sentence text, span text, flag type


@dataclass(frozen=True)
class Suppression:
    """The flags editors dismissed: matched by sentence, span text and type, wherever they occur."""

    keys: frozenset[SuppressionKey] = frozenset()

    @classmethod
    def from_reviews(cls, reviews: Iterable[Review]) -> "Suppression":
        return cls(frozenset((d.sentence, d.span_text, d.type) for r in reviews for d in r.decisions
                             if d.decision == "dismissed"))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def matches(self, sentence: SentenceResult, flag: Flag) -> bool:
        span_text = sentence.text[flag.span[0]:flag.span[1]] if flag.span else None
        return (sentence.text, span_text, flag.type) in self.keys


def suppress_dismissed(report: ArticleReport, suppression: Suppression) -> ArticleReport:
    """`report` without the flags editors dismissed; they are listed in `report.suppressed`.

    The score is left to `scoring.score`, which the checker applies after every step.
    """
    if not suppression:
        return report
    sentences: list[SentenceResult] = []
    suppressed: list[tuple[int, Flag]] = list(report.suppressed)
    for s in report.sentences:
        gone = [f for f in s.flags if suppression.matches(s, f)]
        if not gone:
            sentences.append(s)
            continue
        suppressed += [(s.index, f) for f in gone]
        sentences.append(replace(s, flags=tuple(f for f in s.flags if not suppression.matches(s, f))))
    if len(suppressed) == len(report.suppressed):
        return report
    return replace(report, sentences=tuple(sentences), suppressed=tuple(suppressed))


@dataclass(frozen=True)
class SuppressDismissed:
    """The report step that drops the flags dismissed in `reviews` (see `Suppression`)."""

    suppression: Suppression

    @classmethod
    def from_reviews(cls, reviews: Iterable[Review]) -> "SuppressDismissed":
        return cls(Suppression.from_reviews(reviews))

    def signature_fields(self) -> dict[str, Any]:
        # dismissed flags change what is reported: a rerun with other reviews must not reuse reports
        keys = sorted("\t".join(map(str, k)) for k in self.suppression.keys)
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
        return {"reviews": f"{len(keys)}@{digest[:12]}"}

    def apply(self, report: ArticleReport) -> ArticleReport:
        return suppress_dismissed(report, self.suppression)
