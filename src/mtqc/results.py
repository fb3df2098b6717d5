"""Frozen result types; the JSON report is built from their to_dict()."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

Severity = Literal["minor", "major", "critical"]
FlagType = Literal[
    "terminology", "mistranslation", "fluency", "untranslated", "consistency", "meaning", "other"
]
SEVERITIES: tuple[Severity, ...] = ("minor", "major", "critical")
# what each severity tells an editor, in the words reports use (major only at P(major) >= 0.5)
SEVERITY_WORDS: dict[str, str] = {"critical": "wrong or untranslated", "major": "likely wrong meaning",
                                  "minor": "check wording"}
FLAG_TYPES: tuple[FlagType, ...] = (
    "terminology", "mistranslation", "fluency", "untranslated", "consistency", "meaning", "other"
)


@dataclass(frozen=True)
class Flag:
    """One suspected error in a sentence. `span` is relative to the sentence text."""

    type: FlagType
    severity: Severity
    span: tuple[int, int] | None
    message: str
    # a replacement for exactly the span's text (what "accept" puts in its place), never advice
    suggestion: str | None = None
    signal: str = ""
    # calibrated probability behind the flag: of a major error when severity is major or
    # critical, of any error otherwise; None when the report was not calibrated
    probability: float | None = None
    # raised by a rule the user supplied (their own glossary): the calibration neither hides it
    # nor changes its severity, because the newsroom said so explicitly
    pinned: bool = False
    # the glossary concept behind a terminology flag (preferred term, variants, note, source,
    # origin "file:line"), so the editor can judge the entry; not part of equality or hashing
    glossary_entry: dict[str, Any] | None = field(default=None, compare=False)
    # what the editor could do, in words ("Spell it out in English at first mention"): shown,
    # never applied; kept apart from `suggestion` so that accepting a flag cannot paste it in
    advice: str | None = None

    def __post_init__(self) -> None:
        if self.type not in FLAG_TYPES:
            raise ValueError(f"unknown flag type {self.type!r}; expected one of {FLAG_TYPES}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}; expected one of {SEVERITIES}")
        if self.span is not None and not (0 <= self.span[0] < self.span[1]):
            raise ValueError(f"bad span {self.span!r}: expected 0 <= start < end")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "severity": self.severity,
            "span": list(self.span) if self.span else None,
            "message": self.message,
            "suggestion": self.suggestion,
            "signal": self.signal,
            "probability": None if self.probability is None else round(self.probability, 4),
            "pinned": self.pinned,
            "glossary_entry": None if self.glossary_entry is None else dict(self.glossary_entry),
            "advice": self.advice,
        }


@dataclass(frozen=True)
class SentenceResult:
    """A segment of the article with everything mtqc found about it."""

    index: int
    text: str
    start: int
    end: int
    scored: bool
    kind: str = "sentence"  # sentence | heading | dateline | boilerplate
    backtranslation: str | None = None
    roundtrip: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    # calibrated probabilities that an editor would mark this sentence erroneous / major
    p_error: float | None = None
    p_major: float | None = None
    expected_errors: float | None = None  # calibrated expected number of errors (the score's penalty)
    # what signals raised that is not shown as a flag: weaker hints, or flags that the
    # calibration judged unlikely to be errors (kept for transparency and re-calibration)
    candidates: tuple[Flag, ...] = ()
    paragraph: int | None = None  # which paragraph of the article (for the corrected text's layout)
    # the article text between the previous segment (or the article's start) and this one, as
    # read: the line breaks and spacing that the corrected text keeps (None in older reports)
    text_before: str | None = None

    @property
    def risk(self) -> tuple[int, float, float]:
        """Sort key, riskiest first when reversed: worst shown severity, then P(major), then P(error)."""
        worst = max((SEVERITIES.index(f.severity) + 1 for f in self.flags), default=0)
        return worst, self.p_major or 0.0, self.p_error or 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "scored": self.scored,
            "kind": self.kind,
            "backtranslation": self.backtranslation,
            "roundtrip": self.roundtrip,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "flags": [f.to_dict() for f in self.flags],
            "p_error": None if self.p_error is None else round(self.p_error, 4),
            "p_major": None if self.p_major is None else round(self.p_major, 4),
            "expected_errors": None if self.expected_errors is None else round(self.expected_errors, 4),
            "candidates": [f.to_dict() for f in self.candidates],
            "paragraph": self.paragraph,
            "text_before": self.text_before,
        }


@dataclass(frozen=True)
class Signature:
    """Everything needed to reproduce a score, printed sacrebleu-style."""

    version: str
    engine: str
    models: tuple[str, ...]
    thresholds: tuple[tuple[str, float], ...]
    glossaries: tuple[str, ...]
    signals: tuple[str, ...]
    weights: tuple[tuple[str, float], ...]
    calibration: str | None = None  # "name@sha256-prefix" of the calibration file, None = uncalibrated
    reviews: str | None = None  # "N@sha256-prefix" of the dismissed flags applied (`--review`), None = none

    @classmethod
    def assemble(cls, version: str, parts: "Iterable[Mapping[str, Any]]") -> "Signature":
        """The signature from each component's own fields: tuple fields add up, the rest are set."""
        values: dict[str, Any] = {"version": version, "engine": "", "models": (), "thresholds": (), "glossaries": (),
                                  "signals": (), "weights": ()}
        for part in parts:
            values = cls._merge(values, part)
        return cls(**values)

    def extended(self, fields: "Mapping[str, Any]") -> "Signature":
        """This signature with a further component's fields (a report step's, say)."""
        return Signature(**self._merge(dict(vars(self)), fields))

    @staticmethod
    def _merge(values: dict[str, Any], part: "Mapping[str, Any]") -> dict[str, Any]:
        out = dict(values)
        for key, value in part.items():
            out[key] = tuple(out.get(key) or ()) + tuple(value) if isinstance(value, tuple) else value
        return out

    def __str__(self) -> str:
        parts = [
            f"mtqc:{self.version}",
            f"engine:{self.engine}",
            "models:" + (",".join(self.models) or "none"),
            "signals:" + ",".join(self.signals),
            "glossaries:" + (",".join(self.glossaries) or "none"),
            "weights:" + ",".join(f"{k}={v:g}" for k, v in self.weights),
            "thresholds:" + ",".join(f"{k}={v:g}" for k, v in self.thresholds),
            "calibration:" + (self.calibration or "none"),
        ]
        if self.reviews:
            parts.append(f"reviews:{self.reviews}")
        return "|".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "engine": self.engine,
            "models": list(self.models),
            "thresholds": dict(self.thresholds),
            "glossaries": list(self.glossaries),
            "signals": list(self.signals),
            "weights": dict(self.weights),
            "calibration": self.calibration,
            "reviews": self.reviews,
        }


@dataclass(frozen=True)
class ArticleReport:
    """The result of checking one article."""

    mtqc_version: str
    source: str
    engine: str
    score: float
    signature: Signature
    sentences: tuple[SentenceResult, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()  # plain-language notes on what did not run and how to enable it
    word_count: int = 0
    # how the score was computed: "expected-penalty" (calibrated) or "mqm-flags" (raw flags)
    score_method: str = "mqm-flags"
    # what the article cost where an engine counts it: {"llm": {requests, tokens, cost_usd, ...}}
    usage: dict[str, Any] = field(default_factory=dict)
    # flags an editor dismissed in a review (`--review`), not raised again: (sentence index, flag)
    suppressed: tuple[tuple[int, Flag], ...] = ()

    @property
    def flags(self) -> list[Flag]:
        return [f for s in self.sentences for f in s.flags]

    def sentence_counts(self) -> dict[str, int]:
        """Sentences by the worst severity they show (an editor reads sentences, not flags)."""
        out: dict[str, int] = {s: 0 for s in SEVERITIES}
        for sentence in self.sentences:
            if sentence.flags:
                out[max((f.severity for f in sentence.flags), key=SEVERITIES.index)] += 1
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        by_type: dict[str, int] = {}
        by_severity: dict[str, int] = {s: 0 for s in SEVERITIES}
        for flag in self.flags:
            by_type[flag.type] = by_type.get(flag.type, 0) + 1
            by_severity[flag.severity] += 1
        return {"by_type": by_type, "by_severity": by_severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "mtqc_version": self.mtqc_version,
            "signature": str(self.signature),
            "signature_fields": self.signature.to_dict(),
            "source": self.source,
            "engine": self.engine,
            "score": round(self.score, 2),
            "score_method": self.score_method,
            "word_count": self.word_count,
            "metadata": dict(self.metadata),
            "skipped": list(self.skipped),
            "counts": self.counts(),
            "sentence_counts": self.sentence_counts(),
            "usage": dict(self.usage),
            "sentences": [s.to_dict() for s in self.sentences],
            "suppressed": [{"sentence": i, **f.to_dict()} for i, f in self.suppressed],
        }
