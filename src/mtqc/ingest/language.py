"""Is the article English? Language identification with lingua, offline, on the article's own words."""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from ..errors import InputError
from .lexicon import english_share_of_words, words_with_offsets
from .segments import Article

if TYPE_CHECKING:
    from lingua import LanguageDetector

# The languages a file given to mtqc is likely to be in: English, the Indonesian source and its
# neighbours, and the other languages news sites translate into. A short list keeps lingua fast
# and small; its models load lazily, only for the scripts a text uses.
_LANGUAGES = (
    "ENGLISH", "INDONESIAN", "MALAY", "TAGALOG", "FRENCH", "GERMAN", "SPANISH", "PORTUGUESE", "DUTCH",
    "ITALIAN", "VIETNAMESE", "CHINESE", "JAPANESE", "KOREAN", "ARABIC", "RUSSIAN", "THAI",
)
# Enough text (about 250 words) to tell a language reliably; longer articles are sampled evenly,
# since lingua's time grows with the length of the text.
_SAMPLE_CHARS = 1500
# Capitalised words: names of people, places and institutions, which in an English article about
# Indonesia are mostly Indonesian and would outvote the English around them.
_CAPITALISED = re.compile(r"(?<![\w'\u2019-])[A-Z][\w'\u2019.-]*")
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    # low-accuracy mode uses trigram models only: a fraction of the memory and load time, and as
    # accurate as the full models on text longer than a sentence, which is what articles are
    return (LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in _LANGUAGES))
            .with_low_accuracy_mode().build())


def _sample(texts: list[str]) -> str:
    """About _SAMPLE_CHARS of the texts, every n-th one, so the sample spans the whole article."""
    total = sum(len(t) + 1 for t in texts)
    stride = max(1, math.ceil(total / _SAMPLE_CHARS))
    return " ".join(texts[::stride])[:_SAMPLE_CHARS + 500]


def detect_language(text: str) -> str | None:
    """The language `text` is written in, as a lowercase English name ("french"), or None if unclear.

    Capitalised words are left out where enough other words remain, so that Indonesian names do
    not make an English article look Indonesian.
    """
    common = _CAPITALISED.sub(" ", text)
    sample = common if len(_LETTER.findall(common)) >= 20 else text
    language = _detector().detect_language_of(sample)
    return language.name.lower() if language is not None else None


def check_english(article: Article) -> None:
    """Refuse text that is not English: mtqc checks English translations.

    Raises:
        InputError: no words at all, or text in another language (named in the message).
    """
    texts = [s.text for s in article.scored_segments]
    body = _sample(texts)
    if not _LETTER.search(body):
        raise InputError(f"{article.source}: no words found; mtqc checks English text")
    language = detect_language(body)
    if language is None:  # lingua cannot tell (too little text): fall back to word frequencies
        share, known = english_share_of_words([w for w, _, _ in words_with_offsets(body)])
        if known < 3:
            raise InputError(f"{article.source}: no English words found; mtqc checks English text")
        if share < 0.5:
            raise InputError(
                f"{article.source}: this does not look like English ({share:.0%} of known words are English); "
                "mtqc checks the English translation, not the Indonesian source"
            )
        return
    if language == "english":
        return
    hint = ("mtqc checks the English translation, not the Indonesian source" if language in ("indonesian", "malay")
            else "mtqc checks English text")
    raise InputError(f"{article.source}: this looks like {language.capitalize()}, not English; {hint}")
