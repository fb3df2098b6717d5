"""Signals, each a small class, all registered here; the CLI's choices come from this dict."""
from __future__ import annotations

from .base import ArticleContext, Signal, SignalOutput
from .consistency import ConsistencySignal
from .fluency import NgramFluencySignal
from .likelihood import LikelihoodSignal
from .lm_fluency import LMFluencySignal
from .mechanics import MechanicsSignal
from .roundtrip import RoundTripSignal
from .terminology import TerminologySignal
from .untranslated import UntranslatedSignal

SIGNALS: dict[str, type[Signal]] = {
    cls.name: cls
    for cls in (
        UntranslatedSignal, TerminologySignal, NgramFluencySignal, MechanicsSignal, ConsistencySignal,
        RoundTripSignal, LikelihoodSignal, LMFluencySignal,
    )
}

# Every registered signal is built with no arguments (SIGNALS[name]()); model outputs reach it
# through ArticleContext, computed by the pipeline. Signals that need nothing but the text:
OFFLINE_SIGNALS: tuple[str, ...] = ("untranslated", "terminology", "fluency", "mechanics", "consistency")
BACKTRANSLATION_SIGNALS: tuple[str, ...] = ("roundtrip", "likelihood")

__all__ = ["SIGNALS", "OFFLINE_SIGNALS", "BACKTRANSLATION_SIGNALS", "Signal", "SignalOutput", "ArticleContext"]
