"""Signals, each a small class, all registered here; the CLI's choices come from this dict."""
from __future__ import annotations

from .base import ArticleContext, Signal, SignalOutput
from .consistency import ConsistencySignal
from .fluency import NgramFluencySignal
from .likelihood import LikelihoodSignal
from .llm_mqm import LlmMqmSignal
from .lm_fluency import LMFluencySignal
from .mechanics import MechanicsSignal
from .pronouns import PronounSignal
from .roundtrip import RoundTripSignal
from .terminology import TerminologySignal
from .untranslated import UntranslatedSignal

SIGNALS: dict[str, type[Signal]] = {
    cls.name: cls
    for cls in (
        UntranslatedSignal, TerminologySignal, NgramFluencySignal, MechanicsSignal, ConsistencySignal, PronounSignal,
        RoundTripSignal, LikelihoodSignal, LMFluencySignal, LlmMqmSignal,
    )
}

# Every registered signal is built with no arguments (SIGNALS[name]()); model outputs reach it
# through ArticleContext, computed by the pipeline. Signals that need nothing but the text:
OFFLINE_SIGNALS: tuple[str, ...] = ("untranslated", "terminology", "fluency", "mechanics", "consistency", "pronouns")
BACKTRANSLATION_SIGNALS: tuple[str, ...] = ("roundtrip", "likelihood")
ANNOTATION_SIGNALS: tuple[str, ...] = ("llm_mqm",)  # run when the engine annotates errors (--engine llm)

__all__ = ["SIGNALS", "OFFLINE_SIGNALS", "BACKTRANSLATION_SIGNALS", "ANNOTATION_SIGNALS", "Signal", "SignalOutput", "ArticleContext"]
