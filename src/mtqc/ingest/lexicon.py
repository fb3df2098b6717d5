"""Offline word statistics shared by signals: wordfreq (English, Indonesian) and symspellpy counts."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*[A-Za-z]|[A-Za-z]")


@lru_cache(maxsize=200_000)
def zipf_en(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


@lru_cache(maxsize=200_000)
def zipf_id(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "id")


@dataclass(frozen=True)
class NgramCounts:
    """English unigram and bigram counts (symspellpy's frequency dictionaries)."""

    unigrams: dict[str, int]
    bigrams: dict[tuple[str, str], int]
    total_unigrams: int

    def unigram_logprob(self, word: str) -> float:
        # add-one over a vocabulary that includes one unknown slot
        count = self.unigrams.get(word, 0)
        return math.log((count + 1) / (self.total_unigrams + len(self.unigrams) + 1))


@lru_cache(maxsize=1)
def ngram_counts() -> NgramCounts:
    """Load symspellpy's English counts once per process (about a second)."""
    pkg = resources.files("symspellpy")
    unigrams: dict[str, int] = {}
    with (pkg / "frequency_dictionary_en_82_765.txt").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 2:
                unigrams[parts[0]] = int(parts[1])
    bigrams: dict[tuple[str, str], int] = {}
    with (pkg / "frequency_bigramdictionary_en_243_342.txt").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3:
                bigrams[(parts[0], parts[1])] = int(parts[2])
    return NgramCounts(unigrams, bigrams, sum(unigrams.values()))


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Word tokens of `text` with their character offsets."""
    return [(m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(text)]


def english_share_of_words(words: list[str]) -> tuple[float, int]:
    """Share of known words that are likelier English than Indonesian, and how many were known."""
    english = known = 0
    for word in words:
        lower = word.lower()
        en, idn = zipf_en(lower), zipf_id(lower)
        if en == 0 and idn == 0:
            continue
        known += 1
        english += en >= idn
    return (english / known if known else 0.0), known
