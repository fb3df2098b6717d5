"""Applying a calibration: the report step that decides what an editor is shown, and at what severity."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..results import ArticleReport, Flag, SentenceResult
from ..scoring import EXPECTED_PENALTY, merge_flags
from .features import sentence_features
from .model import Calibration, SentencePrediction


@dataclass(frozen=True)
class CalibrationStep:
    """The report step (see `scoring.ReportStep`) that applies `calibration`."""

    calibration: Calibration

    def signature_fields(self) -> dict[str, Any]:
        return {"calibration": self.calibration.label, "thresholds": self.calibration.thresholds()}

    def apply(self, report: ArticleReport) -> ArticleReport:
        return calibrate_report(report, self.calibration)


def calibrate_report(raw: ArticleReport, calibration: Calibration) -> ArticleReport:
    """Turn an uncalibrated report (signals' own flags and candidates) into the calibrated one.

    Sets each sentence's probabilities and what is shown; the score is `scoring.score`'s.
    """
    n = len(raw.sentences)
    ran = set(raw.signature.signals)
    sentences: list[SentenceResult] = []
    for s in raw.sentences:
        if not s.scored:
            sentences.append(s)
            continue
        pred = calibration.predict(sentence_features(s, n), ran)
        major = pred.p_major >= calibration.major_threshold
        flagged = major or pred.p_error >= calibration.flag_threshold
        sentences.append(replace(_decide(s, pred, flagged, major), expected_errors=pred.expected_errors))
    return replace(raw, sentences=tuple(sentences), score_method=EXPECTED_PENALTY)


def _decide(s: SentenceResult, pred: SentencePrediction, flagged: bool, major: bool) -> SentenceResult:
    raised, candidates = list(s.flags), list(s.candidates)
    # a user's own rule (pinned) is shown as written, whatever the sentence's probability
    pinned = [replace(f, probability=pred.p_error) for f in raised if f.pinned]
    if not flagged:
        below = tuple(replace(f, probability=pred.p_error) for f in (*raised, *candidates) if not f.pinned)
        return replace(s, flags=tuple(pinned), candidates=below, p_error=pred.p_error, p_major=pred.p_major)
    severity = "major" if major else "minor"
    probability = pred.p_major if major else pred.p_error
    shown: list[Flag] = list(pinned)
    for flag in (*raised, *candidates):
        if flag.pinned:
            continue
        # the calibration decides severity; a glossary's "critical" survives only in a major sentence
        sev = "critical" if flag.severity == "critical" and major else severity
        shown.append(replace(flag, severity=sev, probability=probability))  # type: ignore[arg-type]
    if not shown:
        shown.append(Flag(
            "mistranslation" if major else "fluency", severity, None,  # type: ignore[arg-type]
            f"This sentence resembles those editors corrected (probability of an error {pred.p_error:.0%}, "
            f"of a major error {pred.p_major:.0%}); no single signal points at one place: read it against its meaning.",
            None, "calibration", probability,
        ))
    return replace(s, flags=merge_flags(shown), candidates=(), p_error=pred.p_error, p_major=pred.p_major)
