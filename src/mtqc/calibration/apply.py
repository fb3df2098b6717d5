"""Applying a calibration: the report step that decides what an editor is shown, and at what severity.

Evidence is weighed by kind (`features.flag_kind`), strongest first:

1. **Strong kinds** — rules whose flags sit on sentences editors corrected nearly always (measured
   per kind by `mtqc calibrate`, `fit.kind_stats`; a kind never seen starts from `fit.RULE_PRIOR`)
   — are shown whatever the sentence model says, and lift the sentence's probability to their
   precision, so the numbers agree with what is shown.
2. **An annotating engine's judgement** (the LLM): when the calibration was fitted with it
   (`mtqc calibrate --engine llm`), its values are features like any other; when not, a
   documented prior leads (`ENGINE_PRIOR_*`): its errors are shown with its severity and set the
   sentence's expected errors (a GEMBA-MQM score), and a sentence it judged clean keeps only
   strong evidence.
3. **The sentence model** decides where the evidence is diffuse (fluency, round trips): a
   flagged sentence shows its specific flags, and diffuse evidence as one sentence-level flag
   with at most one location, the least likely word pair, and only when that pair is very
   unlikely (`LOCATE_PMI`): ordinary collocations are not highlighted.

Severity follows the probabilities by fixed thresholds, so words and numbers agree: a flag says
major only at P(major) >= MAJOR_SEVERITY_P.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..results import ArticleReport, Flag, SentenceResult
from ..scoring import EXPECTED_PENALTY, merge_flags
from .features import DIFFUSE_SIGNALS, RULE_PRIOR, STRONG_PRECISION, feature_signal, flag_kind, sentence_features
from .model import Calibration, SentencePrediction

# "major" claims a major error is more likely than not
MAJOR_SEVERITY_P = 0.5
# The annotating engine with no calibration of its own: its errors are taken to be real this
# often, and it is taken to find this share of the erroneous sentences (GEMBA-MQM-style engines
# on news; `mtqc calibrate --engine llm` on a newsroom's annotated articles replaces both).
ENGINE_PRIOR_PRECISION = 0.95
ENGINE_PRIOR_RECALL = 0.7
ENGINE_SIGNAL = "llm_mqm"
# Beta prior on "a sentence this kind points at holds a major error", by the severity the rule
# raised: a major rule starts at 2 in 3, a minor one at 1 in 4 (about the share of major errors
# among erroneous news sentences).
MAJOR_PRIOR = {True: (2.0, 1.0), False: (1.0, 3.0)}
# A diffuse fluency judgement points at its least likely word pair only when the pair is this
# unlikely (PMI, natural log): rarer pairs overlap an annotated error more often than not, while
# pairs nearer the "rare" line are mostly ordinary collocations the counts happen to lack.
LOCATE_PMI = -7.0


@dataclass(frozen=True)
class CalibrationStep:
    """The report step (see `scoring.ReportStep`) that applies `calibration`."""

    calibration: Calibration

    def signature_fields(self) -> dict[str, Any]:
        return {"calibration": self.calibration.label, "thresholds": self.calibration.thresholds()}

    def apply(self, report: ArticleReport) -> ArticleReport:
        return calibrate_report(report, self.calibration)


def kind_precision(calibration: Calibration, kind: str) -> tuple[float, float, bool]:
    """A kind's precision, its precision as a major error, and whether it is strong: measured, else
    from the prior. Whether its sentences hold a major error starts from the severity the rule
    raised, weakly (MAJOR_PRIOR: a few flags of data overturn it)."""
    a, b = RULE_PRIOR
    raised_major = kind.rsplit(":", 1)[-1] != "minor"
    stats = calibration.kinds.get(kind)
    if stats is not None:
        ma, mb = MAJOR_PRIOR[raised_major]
        return stats.precision, (ma + stats.in_major) / (ma + mb + stats.flags), stats.strong
    if kind.split(":", 1)[0] in DIFFUSE_SIGNALS:
        return 0.5, 0.0, False
    prior = a / (a + b)
    return prior, prior if raised_major else 0.0, prior >= STRONG_PRECISION


def calibrate_report(raw: ArticleReport, calibration: Calibration) -> ArticleReport:
    """Turn an uncalibrated report (signals' own flags and candidates) into the calibrated one.

    Sets each sentence's probabilities and what is shown; the score is `scoring.score`'s.
    """
    n = len(raw.sentences)
    ran = set(raw.signature.signals)
    engine_fused = any(feature_signal(f) == ENGINE_SIGNAL for f in calibration.features)
    sentences: list[SentenceResult] = []
    for s in raw.sentences:
        if not s.scored:
            sentences.append(s)
            continue
        pred = calibration.predict(sentence_features(s, n), ran)
        if ENGINE_SIGNAL in ran and not engine_fused:
            pred = _engine_prior(s, pred)
        sentences.append(_decide(s, pred, calibration))
    return replace(raw, sentences=tuple(sentences), score_method=EXPECTED_PENALTY)


def _engine_prior(s: SentenceResult, pred: SentencePrediction) -> SentencePrediction:
    """The sentence's probabilities when the engine's judgement leads (no calibration learned it)."""
    if not s.signals.get(f"{ENGINE_SIGNAL}.judged"):
        return pred  # the engine could not read this sentence: the other evidence stands
    errors = [f for f in (*s.flags, *s.candidates) if f.signal == ENGINE_SIGNAL]
    if not errors:
        keep = 1.0 - ENGINE_PRIOR_RECALL
        return SentencePrediction(pred.p_error * keep, pred.p_major * keep, pred.expected_errors * keep)
    major = any(f.severity != "minor" for f in errors)
    return SentencePrediction(
        max(pred.p_error, ENGINE_PRIOR_PRECISION),
        max(pred.p_major, ENGINE_PRIOR_PRECISION) if major else pred.p_major * (1.0 - ENGINE_PRIOR_PRECISION),
        float(len(errors)),
    )


def _decide(s: SentenceResult, pred: SentencePrediction, calibration: Calibration) -> SentenceResult:
    raised = [*s.flags, *s.candidates]
    strong, specific, diffuse = [], [], []
    lift = lift_major = 0.0
    for flag in raised:
        precision, major_precision, is_strong = kind_precision(calibration, flag_kind(flag))
        if flag.pinned or is_strong:  # a user's own rule, or evidence that is nearly always right
            strong.append(flag)
            if is_strong:
                lift, lift_major = max(lift, precision), max(lift_major, major_precision)
        elif flag.signal in DIFFUSE_SIGNALS:
            diffuse.append(flag)
        else:
            specific.append(flag)
    p_error = max(pred.p_error, lift)
    p_major = max(pred.p_major, lift_major)
    expected = max(pred.expected_errors, p_error if strong else 0.0)
    flagged = p_error >= calibration.flag_threshold or p_major >= calibration.major_threshold
    major = p_major >= MAJOR_SEVERITY_P

    def shown_as(flag: Flag) -> Flag:
        if flag.pinned and flag.signal != ENGINE_SIGNAL:
            return replace(flag, probability=p_error)  # a user's rule: as written
        critical = flag.severity == "critical"
        severity = "critical" if critical else ("major" if major else "minor")
        return replace(flag, severity=severity, probability=p_major if severity != "minor" else p_error)  # type: ignore[arg-type]

    shown = [shown_as(f) for f in strong]
    hidden = [*specific, *diffuse]
    if flagged:
        shown += [shown_as(f) for f in specific]
        hidden = diffuse
        if not any(f.span for f in shown):  # nothing specific points at a place: one sentence-level judgement
            shown.append(_sentence_flag(s, p_error, p_major, major))
    candidates = tuple(replace(f, probability=p_error) for f in hidden)
    return replace(s, flags=merge_flags(shown), candidates=candidates, p_error=p_error, p_major=p_major,
                   expected_errors=expected)


def _sentence_flag(s: SentenceResult, p_error: float, p_major: float, major: bool) -> Flag:
    """The diffuse judgement on a sentence, at its least likely word pair when that pair is very unlikely."""
    pairs = [f for f in s.flags + s.candidates if f.signal == "fluency" and f.span]
    located = pairs[0] if pairs and s.signals.get("fluency.min_pmi", 0.0) <= LOCATE_PMI else None
    where = (f" The least likely word pair is '{s.text[located.span[0]:located.span[1]]}'."
             if located and located.span else "")
    return Flag(
        "mistranslation" if major else "fluency", "major" if major else "minor",
        located.span if located else None,
        f"Likely wrong meaning: read this sentence against what it must say (probability of a major error "
        f"{p_major:.0%})." + where if major else
        f"Check the wording: sentences like this are usually corrected by editors (probability of an error "
        f"{p_error:.0%}).{where}",
        None, "calibration", p_major if major else p_error,
    )
