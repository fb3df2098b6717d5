"""Gendered pronouns: a guess the machine translation had to make.

Indonesian pronouns carry no gender ("dia", "ia", "-nya" are he, she or it), so every "he" or
"she" in the English was chosen by the MT system, most often "he", whoever is meant. The signal
counts gendered pronouns, and those that attribute speech ("he said", "according to him"), as
features the calibration weighs. It raises no flag and no hint: out of sample, a pronoun shown
as a flag pointed at a real error about one time in six, too often wrong to show an editor.
(One person called both "he" and "she" is a flag: `consistency.he_she`.)
"""
from __future__ import annotations

import re

from .base import ArticleContext, Signal, SignalOutput

_MASCULINE = re.compile(r"\b(?:he|him|his|himself)\b", re.IGNORECASE)
_FEMININE = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)
_SPEECH = r"(?:said|says|added|explained|stated|told|asked|stressed|emphasized|emphasised|revealed|continued|conveyed)"
# a pronoun attributing speech: "he said", "he also said", "said he", "according to him"
_ATTRIBUTION = re.compile(
    rf"\b(?:he|she)(?:\s+(?:also|then|further|later))?\s+{_SPEECH}\b"
    rf"|\b{_SPEECH}\s+(?:he|she)\b"
    r"|\baccording\s+to\s+(?:him|her)\b",
    re.IGNORECASE,
)


class GenderedPronounSignal(Signal):
    """Counts the gendered pronouns MT chose, and those attributing speech (features only, no flags)."""

    name = "gendered_pronouns"

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        return [SignalOutput({
            "gendered_pronouns.masculine": float(len(_MASCULINE.findall(s.text))),
            "gendered_pronouns.feminine": float(len(_FEMININE.findall(s.text))),
            "gendered_pronouns.attributing": float(len(_ATTRIBUTION.findall(s.text))),
        }) for s in ctx.sentences]
