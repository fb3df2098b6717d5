"""The offline engine: no back-translation; the checks that run locally still run."""
from __future__ import annotations

from ..errors import EngineError
from .base import Engine, TokenScores


class OfflineEngine(Engine):
    name = "offline"
    can_translate = False
    can_score = False

    def _translate(self, texts: list[str], *, src: str, tgt: str) -> list[str]:
        raise EngineError("the offline engine does not translate")

    def _score(self, sources: list[str], targets: list[str], *, src: str, tgt: str) -> list[TokenScores]:
        raise EngineError("the offline engine does not score")
