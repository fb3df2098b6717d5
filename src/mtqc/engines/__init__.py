"""Back-translation engines, registered in one place, and the choice of engine for a run."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..config import Settings
from ..errors import EngineError, UsageError
from ..neural.manifest import ModelInfo
from .base import CAPABILITIES, Engine, MqmError, SentenceAnnotation, TokenScores, provided_by
from .cached import with_cache
from .offline import OfflineEngine

__all__ = ["Engine", "ModelInfo", "TokenScores", "MqmError", "SentenceAnnotation", "EngineChoice", "ENGINE_NAMES",
           "CAPABILITIES", "select_engine", "engine_provides"]


@dataclass(frozen=True)
class EngineChoice:
    """The engine a run uses, and plain-language notes on what it could not use."""

    engine: Engine
    notes: tuple[str, ...] = ()


def _offline(settings: Settings) -> Engine:
    return OfflineEngine()


def _marian(settings: Settings) -> Engine:
    from .marian import create_marian_engine  # torch/transformers are imported inside, lazily

    return create_marian_engine(settings)  # beams, batch size: from settings


def _ct2(settings: Settings) -> Engine:
    from .ct2 import create_ct2_engine  # converts the Marian models to int8 on first use

    return create_ct2_engine(settings)


def _llm(settings: Settings) -> Engine:
    from .llm import create_llm_engine  # needs the optional openai package; checks the server at once

    return create_llm_engine(settings)


# name -> factory; `auto` tries _AUTO_ORDER in turn, which never holds `llm`: sending the
# article to a server is the user's explicit choice. A factory raises EngineError (incl.
# ModelNotFoundError) fast when its models are missing, and `auto` falls back to offline.
_FACTORIES: dict[str, Callable[[Settings], Engine]] = {"offline": _offline, "marian": _marian, "ct2": _ct2,
                                                       "llm": _llm}
_AUTO_ORDER: tuple[str, ...] = ("ct2", "marian")
ENGINE_NAMES: tuple[str, ...] = ("auto", *_FACTORIES)


def _engine_classes() -> dict[str, type[Engine]]:
    # imported here, not at package import: the modules are light (torch and the like load when an
    # engine is built), but the offline path need not read them at all
    from .ct2 import CTranslate2Engine
    from .llm import LlmEngine
    from .marian import MarianEngine

    return {"offline": OfflineEngine, "marian": MarianEngine, "ct2": CTranslate2Engine, "llm": LlmEngine}


def engine_provides() -> dict[str, frozenset[str]]:
    """What each engine gives the signals, by engine name, read from the classes: no model loads."""
    return {name: provided_by(cls) for name, cls in _engine_classes().items()}


BACKTRANSLATION_SKIPPED = (
    "Back-translation skipped: no neural MT engine is available, so round-trip meaning checks "
    "and forced-decoding scores did not run; terminology, untranslated-word, fluency (n-gram) "
    "and mechanical checks ran offline."
)


def _failure_notes(failures: dict[str, list[str]]) -> list[str]:
    return [f"{', '.join(names)}: {message}" for message, names in failures.items()]


def select_engine(name: str, settings: Settings) -> EngineChoice:
    """Build the named engine; `auto` picks the best one available, else `offline` with a notice.

    The engine comes behind the persistent cache (`with_cache`, unless --no-cache): this is the
    one place it is applied, whichever engine is chosen.
    """
    if name == "auto":
        failures: dict[str, list[str]] = {}  # message -> engines that failed with it (said once)
        for candidate in _AUTO_ORDER:
            try:
                engine = _FACTORIES[candidate](settings)
            except EngineError as exc:
                failures.setdefault(str(exc), []).append(candidate)
                continue
            return EngineChoice(with_cache(engine, settings), (*engine.notes, *_failure_notes(failures)))
        return EngineChoice(OfflineEngine(), (BACKTRANSLATION_SKIPPED, *_failure_notes(failures)))
    if name not in _FACTORIES:
        raise UsageError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")
    engine = _FACTORIES[name](settings)
    notes = (BACKTRANSLATION_SKIPPED,) if not engine.can_translate else engine.notes
    return EngineChoice(with_cache(engine, settings), notes)
