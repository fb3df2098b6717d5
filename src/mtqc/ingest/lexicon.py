"""Offline word statistics shared by signals: wordfreq (English, Indonesian) and symspellpy counts."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# Characters a CMS leaves in text that show nothing: soft hyphen, zero-width space, non-joiner and
# joiner, word joiner, and a BOM inside the text (zero-width no-break space). Analysis skips them
# inside a word ("laun\u00adched" is one word, "launched"); offsets still index the text as read.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
WORD_RE = re.compile(
    rf"[A-Za-z](?:[A-Za-z'\u2019{INVISIBLE}-]*[A-Za-z])?"
)


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


def without_invisibles(text: str) -> str:
    """`text` with the invisible characters (`INVISIBLE`) removed: what a reader sees."""
    return _INVISIBLE_RE.sub("", text)


class VisibleText:
    """A text without its invisible characters, and the way back to offsets in the text as read.

    For analyses that look at more than single words (glossary terms, phrases): they read
    `visible`, and `span` turns a span of it into the span of the same characters in `text`.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        if _INVISIBLE_RE.search(text) is None:
            self.visible, self._index = text, None
        else:
            self._index = [i for i, c in enumerate(text) if c not in INVISIBLE]
            self.visible = "".join(text[i] for i in self._index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `text` that `visible[start:end]` was read from (invisibles inside it included)."""
        if self._index is None:
            return start, end
        if end <= start:
            at = self._index[start] if start < len(self._index) else len(self.text)
            return at, at
        return self._index[start], self._index[end - 1] + 1


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """Word tokens of `text` with their character offsets.

    Invisible characters inside a word are not part of the word as returned, but its offsets
    span them: `text[start:end]` is the word as written ("laun\u00adched" -> "launched").
    """
    return [(without_invisibles(m.group(0)), m.start(), m.end()) for m in WORD_RE.finditer(text)]


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
