"""The back-translation engine interface: translate a batch, score a batch, annotate a batch.

An engine declares what it gives the signals (`Engine.provides`, named from CAPABILITIES), as
spaCy components declare what they assign; each signal declares what it requires, and
`mtqc.signals.registry.select_signals` matches the two.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ..errors import EngineError
from ..neural.manifest import ModelInfo


@dataclass(frozen=True)
class TokenScores:
    """Forced-decoding log-probabilities of a given output, token by token.

    `spans` locate each token in the scored text (start, end), or (-1, -1) for special tokens.
    """

    tokens: tuple[str, ...]
    logprobs: tuple[float, ...]
    spans: tuple[tuple[int, int], ...]

    @property
    def mean_logprob(self) -> float:
        return sum(self.logprobs) / len(self.logprobs) if self.logprobs else 0.0


@dataclass(frozen=True)
class MqmError:
    """One error an annotating engine found in a sentence, its span verified against the text.

    `span` is (start, end) in the sentence, or None for an error of the whole sentence (an
    omission has no words to point at); `category` is the MQM category as the engine gave it.
    """

    span: tuple[int, int] | None
    category: str
    severity: str  # minor | major | critical
    correction: str | None = None
    explanation: str = ""


@dataclass(frozen=True)
class SentenceAnnotation:
    """An annotating engine's verdict on one sentence, and what it answered that could not be used."""

    errors: tuple[MqmError, ...] = ()
    dropped: int = 0  # errors whose span does not occur in the sentence (or otherwise invalid)
    malformed: bool = False  # the reply for this sentence's request could not be read at all


# What a run can give the signals besides the text, by name: `Signal.requires` and `Engine.provides`
# use these. An engine provides the first three; "lm_scores" comes with a loaded language model,
# "phrase_embeddings" with the sentence-embedding model (no signal requires it: it is a bonus).
CAPABILITIES: dict[str, str] = {
    "backtranslations": "back-translations and round trips (an engine that translates)",
    "likelihoods": "forced-decoding token scores (an engine that translates and scores)",
    "annotations": "MQM error annotations (an engine that annotates)",
    "lm_scores": "token log-probabilities from a causal language model",
    "phrase_embeddings": "sentence-embedding vectors of phrases (when the MiniLM model is installed)",
}


def provided_by(engine: "Engine | type[Engine]") -> frozenset[str]:
    """The capabilities an engine (or engine class: nothing is loaded) gives the signals.

    Derived from the `can_*` flags, so that there is one declaration to keep right: scores are of
    a back-translation, so an engine that cannot translate provides none.
    """
    out = set()
    if engine.can_translate:
        out.add("backtranslations")
        if engine.can_score:
            out.add("likelihoods")
    if engine.can_annotate:
        out.add("annotations")
    return frozenset(out)


class Engine(ABC):
    """Back-translation engine. Every method works on a batch; callers never loop per sentence."""

    name: ClassVar[str]
    can_translate: ClassVar[bool] = True
    can_score: ClassVar[bool] = True  # forced decoding (token log-probabilities); an LLM server gives none
    can_annotate: ClassVar[bool] = False  # MQM error annotation (the `llm_mqm` signal)
    # an engine whose cache entries hold more than the output (the LLM's record which model
    # served them) keeps its own cache; `engines.cached.with_cache` hands it the cache instead of
    # wrapping it in a CachedEngine
    caches_own_outputs: ClassVar[bool] = False
    notes: tuple[str, ...] = ()  # what it could not use at load (a GPU it fell back from), for the report

    @property
    def provides(self) -> frozenset[str]:
        """What this engine gives the signals (see CAPABILITIES)."""
        return provided_by(self)

    def attach_cache(self, cache: Any) -> None:
        """Keep outputs in `cache` (an engine that `caches_own_outputs` overrides this)."""
        raise EngineError(f"engine {self.name!r} keeps no cache of its own; wrap it in a CachedEngine")

    def translate(self, texts: Sequence[str], *, src: str, tgt: str) -> list[str]:
        """Translate a batch of sentences from `src` to `tgt` (ISO 639-1 codes)."""
        if not self.can_translate:
            raise EngineError(f"engine {self.name!r} does not translate")
        texts = list(texts)
        if not texts:
            return []
        out = self._translate(texts, src=src, tgt=tgt)
        if len(out) != len(texts):
            raise EngineError(f"engine {self.name!r} returned {len(out)} translations for {len(texts)} inputs")
        return out

    def score(self, sources: Sequence[str], targets: Sequence[str], *, src: str, tgt: str) -> list[TokenScores]:
        """Log-probability of each target given its source, per token."""
        if not self.can_translate:
            raise EngineError(f"engine {self.name!r} does not score")
        if len(sources) != len(targets):
            raise EngineError(f"score() needs as many sources as targets ({len(sources)} != {len(targets)})")
        if not sources:
            return []
        return self._score(list(sources), list(targets), src=src, tgt=tgt)

    def annotate(self, texts: Sequence[str]) -> list[SentenceAnnotation]:
        """MQM errors in each sentence of one article (in order; sentences give each other context)."""
        if not self.can_annotate:
            raise EngineError(f"engine {self.name!r} does not annotate errors")
        texts = list(texts)
        if not texts:
            return []
        out = self._annotate(texts)
        if len(out) != len(texts):
            raise EngineError(f"engine {self.name!r} returned {len(out)} annotations for {len(texts)} sentences")
        return out

    def _annotate(self, texts: list[str]) -> list[SentenceAnnotation]:
        raise EngineError(f"engine {self.name!r} does not annotate errors")

    def begin_article(self) -> None:
        """Start one article's accounting (usage, time budget); engines that keep none ignore it."""

    def article_usage(self) -> dict[str, Any]:
        """What the current article cost (requests, tokens, money); empty for local engines."""
        return {}

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return ()

    def settings_key(self) -> str:
        """Decoding settings that change outputs; part of the cache key and the signature."""
        return ""

    def signature_fields(self) -> dict[str, Any]:
        """The engine's part of a report signature: its name with decoding settings, and its models."""
        key = self.settings_key()
        return {"engine": self.name + (f"({key})" if key else ""), "models": tuple(str(m) for m in self.models)}

    @abstractmethod
    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]: ...

    @abstractmethod
    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]: ...
