"""The signal registry, and the one rule that picks the signals a run uses.

Signals declare what they require (`Signal.requires`), engines what they provide
(`Engine.provides`), and `select_signals` matches the two: no list says which signal runs with
which engine. The registry's order is the order signals run in, and so the order of a
sentence's flags and values in the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import AbstractSet, Iterable, Mapping

from ..errors import UsageError
from .base import Signal
from .consistency import CONSISTENCY_SIGNALS
from .fluency import NgramFluencySignal
from .gendered_pronouns import GenderedPronounSignal
from .likelihood import LikelihoodSignal
from .llm_mqm import LlmMqmSignal
from .lm_fluency import LMFluencySignal
from .mechanics import MechanicsSignal
from .roundtrip import RoundTripSignal
from .terminology import TerminologySignal
from .untranslated import UntranslatedSignal

# Every registered signal is built with no arguments (SIGNALS[name]()); model outputs reach it
# through ArticleContext, computed by the pipeline.
_REGISTERED: tuple[type[Signal], ...] = (
    UntranslatedSignal, TerminologySignal, NgramFluencySignal, MechanicsSignal, *CONSISTENCY_SIGNALS,
    GenderedPronounSignal, RoundTripSignal, LikelihoodSignal, LMFluencySignal, LlmMqmSignal,
)
SIGNALS: dict[str, type[Signal]] = {cls.name: cls for cls in _REGISTERED}

# A dotted name belongs to a family ("consistency.names" to "consistency"); `--disable` takes a
# family name to turn all of its signals off.
FAMILIES: dict[str, tuple[str, ...]] = {}
for _name in SIGNALS:
    if "." in _name:
        FAMILIES.setdefault(_name.split(".", 1)[0], ())
        FAMILIES[_name.split(".", 1)[0]] += (_name,)

for _cls in SIGNALS.values():
    if _cls.replaces is not None and _cls.replaces not in SIGNALS:
        raise TypeError(f"signal {_cls.name!r} replaces {_cls.replaces!r}, which is not registered")

DISABLE_NAMES: tuple[str, ...] = tuple(sorted({*SIGNALS, *FAMILIES}))


def disabled_signals(disabled: Iterable[str]) -> frozenset[str]:
    """The registered signals that `--disable` names turn off.

    A family name turns off its every member; a stand-in and the signal it replaces are one check
    in two forms (lm_fluency for fluency), so turning either off turns both off.

    Raises:
        UsageError: a name that is neither a signal nor a family.
    """
    off: set[str] = set()
    for name in disabled:
        if name in SIGNALS:
            off.add(name)
        elif name in FAMILIES:
            off.update(FAMILIES[name])
        else:
            raise UsageError(f"unknown signal {name!r}; known: {', '.join(DISABLE_NAMES)}")
    for name, cls in SIGNALS.items():
        if cls.replaces is not None and {name, cls.replaces} & off:
            off |= {name, cls.replaces}
    return frozenset(off)


def select_signals(provides: AbstractSet[str], lm_loaded: bool, disabled: Iterable[str] = ()) -> list[Signal]:
    """The signals a run uses, in registry order, given what its engine provides.

    A signal runs when the run provides all it requires (the engine's capabilities, and
    "lm_scores" when a language model is loaded) and it is not disabled. A signal that stands in
    for another (`Signal.replaces`) takes that one's place when it can run.
    """
    available = set(provides) | ({"lm_scores"} if lm_loaded else set())
    off = disabled_signals(disabled)
    runnable = [name for name, cls in SIGNALS.items() if set(cls.requires) <= available]
    stand_ins = {SIGNALS[name].replaces: name for name in runnable if SIGNALS[name].replaces}
    chosen = [stand_ins.get(name, name) for name in runnable if SIGNALS[name].replaces is None]
    return [SIGNALS[name]() for name in chosen if name not in off]


@dataclass(frozen=True)
class SignalInfo:
    """What `mtqc signals` shows of one signal."""

    name: str
    about: str  # the first line of its docstring
    requires: tuple[str, ...]
    optional: tuple[str, ...]
    flag_types: tuple[str, ...]
    engines: tuple[str, ...]  # the engines it runs with
    condition: str  # "with a language model", "without a language model", or ""
    replaces: str | None  # the signal it stands in for when it can run


def _about(cls: type[Signal]) -> str:
    import sys

    doc = cls.__doc__ or sys.modules[cls.__module__].__doc__ or ""
    return doc.strip().split("\n", 1)[0]


def describe_signals(engines: Mapping[str, AbstractSet[str]], lm_engines: AbstractSet[str]) -> list[SignalInfo]:
    """Each registered signal, and the engines (name -> what it provides) it runs with.

    `lm_engines` are the engines with which a language model may be loaded: with those, a signal
    that requires (or is replaced by one that requires) "lm_scores" runs only with (or without) it.
    """
    runs: dict[tuple[str, bool], set[str]] = {
        (engine, lm): {s.name for s in select_signals(provides, lm)}
        for engine, provides in engines.items() for lm in ((False, True) if engine in lm_engines else (False,))
    }
    out = []
    for name, cls in SIGNALS.items():
        with_lm = {engine for (engine, lm), names in runs.items() if lm and name in names}
        without_lm = {engine for (engine, lm), names in runs.items() if not lm and name in names}
        condition = ""
        if with_lm and not without_lm:
            condition = "with a language model"
        elif without_lm & lm_engines and not with_lm:  # it could have had one, and then it does not run
            condition = "without a language model"
        out.append(SignalInfo(name, _about(cls), cls.requires, cls.optional, tuple(cls.flag_types),
                              tuple(e for e in engines if e in with_lm | without_lm), condition, cls.replaces))
    return out
