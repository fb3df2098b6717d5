"""Signals: per-sentence checks, each a small class, all registered in `registry`.

Naming. A signal's name is what `--disable` takes and what its flags carry in their `signal`
field; a family of related mechanisms shares a dotted prefix (`consistency.names`,
`consistency.he_she`, ...), and `--disable consistency` turns the whole family off. Every value
a signal writes is keyed by its own name and a dot (`lm_fluency.slor`,
`consistency.names.count`); `Signal.run` refuses any other key, because the calibration files
each value under its signal by that prefix (`calibration.model.feature_signal`, the longest
registered name that prefixes the key) and ignores the values of signals that did not run.

Requirements. A signal declares the capabilities it requires (`Signal.requires`: back-
translations, likelihoods, annotations, LM scores) and engines declare what they provide
(`Engine.provides`); `registry.select_signals` is the one place that decides which signals run.
"""
from __future__ import annotations

from .base import ArticleContext, Signal, SignalOutput
from .registry import DISABLE_NAMES, FAMILIES, SIGNALS, describe_signals, disabled_signals, select_signals

__all__ = ["SIGNALS", "FAMILIES", "DISABLE_NAMES", "Signal", "SignalOutput", "ArticleContext", "select_signals",
           "disabled_signals", "describe_signals"]
