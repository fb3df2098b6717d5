"""The back-translation engine interface: translate a batch, score a batch."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Sequence

from ..errors import EngineError


@dataclass(frozen=True)
class ModelInfo:
    """A model as it appears in a report signature."""

    name: str
    hub_id: str
    revision: str

    def __str__(self) -> str:
        return f"{self.name}@{self.revision[:12]}"


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


class Engine(ABC):
    """Back-translation engine. Every method works on a batch; callers never loop per sentence."""

    name: ClassVar[str]
    can_translate: ClassVar[bool] = True
    notes: tuple[str, ...] = ()  # what it could not use at load (a GPU it fell back from), for the report

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

    @property
    def models(self) -> tuple[ModelInfo, ...]:
        return ()

    def settings_key(self) -> str:
        """Decoding settings that change outputs; part of the cache key and the signature."""
        return ""

    @abstractmethod
    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]: ...

    @abstractmethod
    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]: ...
