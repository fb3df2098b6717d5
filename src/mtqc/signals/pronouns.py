"""Gendered pronouns: a guess the machine translation had to make.

Indonesian pronouns carry no gender ("dia", "ia", "-nya" are he, she or it), so every "he" or
"she" in the English was chosen by the MT system, most often "he", whoever is meant. Where a
pronoun attributes speech ("he said", "according to him"), the editor knows the speaker and can
check it at a glance. The signal counts gendered pronouns (a feature the calibration weighs)
and offers the attributing ones as hints, located, with the other gender as the suggestion.
"""
from __future__ import annotations

import re

from .base import ArticleContext, Signal, SignalOutput

_MASCULINE = re.compile(r"\b(?:he|him|his|himself)\b", re.IGNORECASE)
_FEMININE = re.compile(r"\b(?:she|her|hers|herself)\b", re.IGNORECASE)
_SPEECH = r"(?:said|says|added|explained|stated|told|asked|stressed|emphasized|emphasised|revealed|continued|conveyed)"
# a pronoun attributing speech: "he said", "he also said", "said he", "according to him"
_ATTRIBUTION = re.compile(
    rf"\b(?P<a>he|she)(?:\s+(?:also|then|further|later))?\s+{_SPEECH}\b"
    rf"|\b{_SPEECH}\s+(?P<b>he|she)\b"
    r"|\baccording\s+to\s+(?P<c>him|her)\b",
    re.IGNORECASE,
)
_SWAP = {"he": "she", "she": "he", "him": "her", "her": "him"}


def _swap_case(word: str) -> str:
    other = _SWAP[word.lower()]
    return other.capitalize() if word[0].isupper() else other


class PronounSignal(Signal):
    name = "pronouns"

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        outputs = []
        for sentence in ctx.sentences:
            text = sentence.text
            hints = []
            for match in _ATTRIBUTION.finditer(text):
                group = next(g for g in ("a", "b", "c") if match.group(g))
                start, end = match.span(group)
                pronoun = text[start:end]
                phrase = match.group(0)
                suggestion = phrase[:start - match.start()] + _swap_case(pronoun) + phrase[end - match.start():]
                hints.append(self.flag(
                    "mistranslation", "minor", match.span(),
                    f"Indonesian does not mark gender ('dia', 'ia', '-nya'): the translation chose '{pronoun}'. "
                    "Check it against the person quoted.",
                    suggestion,
                ))
            outputs.append(SignalOutput(
                {"pronouns.masculine": float(len(_MASCULINE.findall(text))),
                 "pronouns.feminine": float(len(_FEMININE.findall(text))),
                 "pronouns.attributing": float(len(hints))},
                hints=tuple(hints),
            ))
        return outputs
