"""Signals, each a small class, all registered here; the CLI's choices come from this dict."""
from __future__ import annotations

from .base import ArticleContext, Signal, SignalOutput
from .fluency import NgramFluencySignal
from .mechanics import MechanicsSignal
from .terminology import TerminologySignal
from .untranslated import UntranslatedSignal

SIGNALS: dict[str, type[Signal]] = {
    cls.name: cls
    for cls in (UntranslatedSignal, TerminologySignal, NgramFluencySignal, MechanicsSignal)
}

__all__ = ["SIGNALS", "Signal", "SignalOutput", "ArticleContext"]
