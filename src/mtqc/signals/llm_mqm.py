"""MQM error spans from an LLM (GEMBA-MQM style), turned into mtqc flags.

The pipeline asks the LLM engine once per article (`ArticleContext.llm_annotations`); the spans
arrive already verified against each sentence, and those that did not occur were dropped and
counted there. This signal maps MQM categories onto mtqc's flag types and keeps the severity
and the correction.
"""
from __future__ import annotations

from ..engines.base import MqmError
from ..results import FLAG_TYPES, FlagType
from .base import ArticleContext, Signal, SignalOutput


def flag_type(category: str) -> FlagType:
    """mtqc's flag type for an MQM category ("accuracy/omission", or a model's own wording)."""
    c = category.strip().lower()
    main, _, sub = c.partition("/")
    if "untranslated" in c:
        return "untranslated"
    if "inconsisten" in c:
        return "consistency"
    if "terminolog" in main:
        return "terminology"
    if "accuracy" in main:
        return "meaning" if any(w in sub for w in ("addition", "omission")) else "mistranslation"
    if "fluency" in main or "style" in main:
        return "fluency"
    if "mistranslat" in c:
        return "mistranslation"
    if "omission" in c or "addition" in c:
        return "meaning"
    if any(w in c for w in ("grammar", "spelling", "punctuation", "awkward", "register", "fluency")):
        return "fluency"
    return "other"


class LlmMqmSignal(Signal):
    """MQM error spans annotated by an LLM, shown as given."""

    name = "llm_mqm"
    requires = ("annotations",)
    needs = ("llm_annotations",)
    flag_types = FLAG_TYPES  # any MQM category, mapped by `flag_type`
    # its flags are weighed as a kind of evidence like any other (`calibration.apply`): strong by
    # prior, measured once a calibration is fitted with the engine

    def _message(self, error: MqmError) -> str:
        why = f": {error.explanation}" if error.explanation else ""
        return f"The LLM marks a {error.severity} {error.category} error (MQM){why}"

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        assert ctx.llm_annotations is not None
        outputs = []
        for annotation in ctx.llm_annotations:
            flags = tuple(
                self.flag(flag_type(e.category), e.severity, e.span, self._message(e), e.correction)
                for e in annotation.errors
            )
            judged = not annotation.malformed
            values = {"llm_mqm.judged": float(judged),  # it read the sentence: "no error" is a judgement
                      "llm_mqm.clean": float(judged and not flags),
                      "llm_mqm.errors": float(len(flags)),
                      "llm_mqm.major_errors": float(sum(e.severity != "minor" for e in annotation.errors)),
                      "llm_mqm.dropped_spans": float(annotation.dropped),
                      "llm_mqm.unreadable": float(annotation.malformed)}
            outputs.append(SignalOutput(values, flags))
        return outputs
