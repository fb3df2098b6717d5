"""Is the article English? Language identification with lingua, offline, on the article's own words."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Mapping

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
# Text is judged in chunks of whole sentences, never across a paragraph, of at least this many
# characters where the paragraph has them: about two sentences, enough for lingua to tell a
# language reliably, and small enough that an article whose later paragraphs (or the second half
# of a long paragraph) were left in Indonesian is measured as partly English, not as one language.
_CHUNK_CHARS = 200
# Accept an article when at least this share of its prose (by letters, which count words in
# every script) is English. A translation that stopped part-way, or skipped paragraphs, is still
# the English the user means to check, and refusing it leaves the worst article of a batch with no
# report; its Indonesian sentences are flagged as untranslated instead. The English inside an
# Indonesian article (quotes, names of bodies, a caption) stays well under a tenth of its prose,
# so a fifth is a clear margin over that: below it, the text is the source or another language.
MIN_ENGLISH_SHARE = 0.2
# Capitalised words: names of people, places and institutions, which in an English article about
# Indonesia are mostly Indonesian and would outvote the English around them.
_CAPITALISED = re.compile(r"(?<![\w'\u2019-])[A-Z][\w'\u2019.-]*")
_LETTER = re.compile(r"[^\W\d_]")
# addresses are letters in no language (lingua calls a list of links "Portuguese")
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.-]+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    # low-accuracy mode uses trigram models only: a fraction of the memory and load time, and as
    # accurate as the full models on text longer than a sentence, which is what articles are
    return (LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in _LANGUAGES))
            .with_low_accuracy_mode().build())


def detect_language(text: str) -> str | None:
    """The language `text` is written in, as a lowercase English name ("french"), or None if unclear.

    Capitalised words are left out where enough other words remain, so that Indonesian names do
    not make an English article look Indonesian.
    """
    common = _CAPITALISED.sub(" ", text)
    sample = common if len(_LETTER.findall(common)) >= 20 else text
    language = _detector().detect_language_of(sample)
    return language.name.lower() if language is not None else None


@dataclass(frozen=True)
class LanguageShares:
    """How much of an article's prose (in letters) each language holds; None: no language told."""

    letters: Mapping[str | None, int]

    @property
    def total(self) -> int:
        return sum(self.letters.values())

    @property
    def english(self) -> float:
        """The share of the prose that is English (0 when there is no prose)."""
        return self.letters.get("english", 0) / self.total if self.total else 0.0

    def main_other(self) -> str | None:
        """The language holding most of the prose that is not English (None: no language told)."""
        others = [(n, lang is not None, lang) for lang, n in self.letters.items() if lang != "english"]
        return max(others, key=lambda o: o[:2])[2] if others else None


def _chunks(article: Article) -> list[str]:
    """The article's prose in chunks of whole sentences (at least _CHUNK_CHARS where a paragraph
    has them), never across paragraphs; headings only when there is nothing else."""
    segments = [s for s in article.scored_segments if s.kind == "sentence"] or article.scored_segments
    chunks: list[str] = []
    current: list[str] = []
    paragraph: int | None = None
    for seg in segments:
        text = _ADDRESS.sub(" ", seg.text)
        if seg.paragraph != paragraph or sum(len(t) for t in current) >= _CHUNK_CHARS:
            if current:
                chunks.append(" ".join(current))
            current, paragraph = [], seg.paragraph
        current.append(text)
    if current:
        chunks.append(" ".join(current))
    return chunks


def _chunk_language(chunk: str) -> str | None:
    """lingua's language for a chunk; where lingua cannot tell (a few words), English when most
    known words are likelier English than Indonesian, else None."""
    language = detect_language(chunk)
    if language is not None:
        return language
    share, known = english_share_of_words([w for w, _, _ in words_with_offsets(chunk)])
    return "english" if known >= 3 and share >= 0.5 else None


def language_shares(article: Article) -> LanguageShares:
    """The languages of the article's prose, weighted by letters (see `MIN_ENGLISH_SHARE`)."""
    letters: dict[str | None, int] = {}
    for chunk in _chunks(article):
        n = len(_LETTER.findall(chunk))
        if n:
            language = _chunk_language(chunk)
            letters[language] = letters.get(language, 0) + n
    return LanguageShares(letters)


# Words frequent in any English prose and (as words) in none of the other languages above: in
# English news they are about a sixth of all words; in an Indonesian or French text, next to none.
_ENGLISH_MARKERS = frozenset("the and to that were said with for by from has have which this are".split())
# An article at least this share marker words (and this long) is English beyond doubt (at least
# half of it must be), so it is accepted without lingua, whose models take a third of a second
# to load: the check exists to refuse sources and other languages, not to measure English ones.
_CLEARLY_ENGLISH_SHARE = 0.10
_CLEARLY_ENGLISH_WORDS = 40


def _clearly_english(article: Article) -> bool:
    words = [w.lower() for s in article.scored_segments for w, _, _ in words_with_offsets(s.text)]
    if len(words) < _CLEARLY_ENGLISH_WORDS:
        return False
    return sum(w in _ENGLISH_MARKERS for w in words) >= _CLEARLY_ENGLISH_SHARE * len(words)


def check_english(article: Article) -> None:
    """Refuse text with (almost) no English: mtqc checks English translations.

    An article at least `MIN_ENGLISH_SHARE` English is accepted even where the rest is
    Indonesian: the `untranslated` signal flags what the MT left untranslated.

    Raises:
        InputError: no words at all, or too little English (the main other language named).
    """
    if _clearly_english(article):
        return
    shares = language_shares(article)
    if not shares.total:
        raise InputError(f"{article.source}: no words found; mtqc checks English text")
    if shares.english >= MIN_ENGLISH_SHARE:
        return
    english = f" (only {shares.english:.0%} of it is English)" if shares.english else ""
    language = shares.main_other()
    if language is None:  # lingua could not tell: say what the words are, name no language
        text = " ".join(s.text for s in article.scored_segments)
        share, known = english_share_of_words([w for w, _, _ in words_with_offsets(_ADDRESS.sub(" ", text))])
        if known < 3:
            raise InputError(f"{article.source}: no English words found; mtqc checks English text")
        raise InputError(
            f"{article.source}: this does not look like English ({share:.0%} of known words are English); "
            "mtqc checks the English translation, not the Indonesian source"
        )
    hint = ("mtqc checks the English translation, not the Indonesian source" if language in ("indonesian", "malay")
            else "mtqc checks English text")
    raise InputError(f"{article.source}: this looks like {language.capitalize()}, not English{english}; {hint}")
