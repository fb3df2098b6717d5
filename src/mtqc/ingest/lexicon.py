"""Offline word statistics shared by signals: wordfreq (English, Indonesian) and symspellpy counts.

Both come as word lists that take half a second each to parse (and wordfreq a quarter of a
second more to import), while an article looks up a few hundred words. So they are parsed once
per machine into sorted tables under the cache folder (`<cache>/lexicon/`), which a process reads
in a few milliseconds and searches by bisection (`SortedTable`). Where the cache folder cannot be
written the lists are parsed as before. Values are exactly the libraries' own: a table holds what
wordfreq's `zipf_frequency` gives for each plain word of its list (other words still ask wordfreq).
"""
from __future__ import annotations

import array
import bisect
import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Iterable

# Characters a CMS leaves in text that show nothing: soft hyphen, zero-width space, non-joiner and
# joiner, word joiner, and a BOM inside the text (zero-width no-break space). Analysis skips them
# inside a word ("laun\u00adched" is one word, "launched"); offsets still index the text as read.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
WORD_RE = re.compile(
    rf"[A-Za-z](?:[A-Za-z'\u2019{INVISIBLE}-]*[A-Za-z])?"
)


TABLE_FORMAT = "2"  # bump when the stored layout changes
_HEADER = 21  # typecode, then the number of keys in 20 digits
_BLOCK = 64
_MEMO_LIMIT = 500_000  # distinct words remembered per table: a whole archive's vocabulary fits


class _ByteKeys:
    """The sorted keys as one UTF-8 blob and offsets: a sequence `bisect` can search without a
    Python string per key (UTF-8 bytes sort as their code points, so the order is the str order)."""

    def __init__(self, blob: bytes, offsets: "array.array[int]") -> None:
        self.blob, self.offsets = blob, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return self.blob[self.offsets[i]:self.offsets[i + 1]]


class SortedTable:
    """A read-only map from strings to numbers, as sorted keys and a parallel array: loads from
    disk in a few milliseconds (no string per key, no hashing) and looks up by bisection."""

    def __init__(self, keys: _ByteKeys, values: "array.array[float] | array.array[int]") -> None:
        if len(keys) != len(values):
            raise ValueError("a table needs one value per key")
        self._keys = keys
        self._values = values
        # every BLOCK-th key as a real bytes object: a lookup bisects these in C, then only its
        # block through `_ByteKeys` (about 6 Python-level reads instead of 19)
        self._index = [keys[i] for i in range(0, len(keys), _BLOCK)]
        self._memo: dict[str, float | int | None] = {}  # words repeat: most lookups are answered here

    @classmethod
    def from_items(cls, items: Iterable[tuple[str, float | int]], typecode: str) -> "SortedTable":
        pairs = sorted(items)
        encoded = [k.encode("utf-8") for k, _ in pairs]
        offsets = array.array("I", [0])
        for key in encoded:
            offsets.append(offsets[-1] + len(key))
        return cls(_ByteKeys(b"".join(encoded), offsets), array.array(typecode, [v for _, v in pairs]))

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key: str, default: float | int = 0) -> float | int:
        try:
            found = self._memo[key]
        except KeyError:
            encoded = key.encode("utf-8", "surrogatepass")
            lo = max(0, bisect.bisect_right(self._index, encoded) - 1) * _BLOCK
            i = bisect.bisect_left(self._keys, encoded, lo, min(lo + _BLOCK, len(self._keys)))
            found = self._values[i] if i < len(self._keys) and self._keys[i] == encoded else None
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return default if found is None else found

    def total(self) -> float | int:
        """The sum of the values (no key decoded)."""
        return sum(self._values)

    def items(self) -> Iterable[tuple[str, float | int]]:
        return ((self._keys[i].decode("utf-8"), self._values[i]) for i in range(len(self._keys)))

    def dump(self, path: Path) -> None:
        """Write atomically (a temp file renamed into place): processes building it at once do not clash."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(f"{self._values.typecode}{len(self._keys):020d}".encode("ascii"))
            fh.write(self._keys.offsets.tobytes())
            fh.write(self._keys.blob)
            fh.write(self._values.tobytes())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "SortedTable":
        """A stored table; ValueError for anything that is not one whole (a damaged cache file)."""
        data = path.read_bytes()
        if len(data) < _HEADER or chr(data[0]) not in "dq" or not data[1:_HEADER].isdigit():
            raise ValueError(f"{path} is not a table")
        typecode, n = chr(data[0]), int(data[1:_HEADER])
        offsets = array.array("I")
        end_offsets = _HEADER + (n + 1) * offsets.itemsize
        offsets.frombytes(data[_HEADER:end_offsets])
        if len(offsets) != n + 1 or offsets[0] != 0 or end_offsets + offsets[-1] > len(data):
            raise ValueError(f"{path} is truncated")  # (written atomically: damage is a cut, not a shuffle)
        end_keys = end_offsets + offsets[-1]
        values = array.array(typecode)
        if (len(data) - end_keys) % values.itemsize:
            raise ValueError(f"{path} is truncated")
        values.frombytes(data[end_keys:])
        if len(values) != n:
            raise ValueError(f"{path} is truncated")
        return cls(_ByteKeys(data[end_offsets:end_keys], offsets), values)


def _store_dir() -> Path | None:
    """Where parsed tables are kept: `<cache dir>/lexicon`, None where settings cannot be read."""
    from ..config import load_settings
    from ..errors import UsageError

    try:
        return Path(load_settings().cache_dir) / "lexicon"
    except (UsageError, OSError):
        return None


def _table(name: str, source_version: str, typecode: str, build: Callable[[], Iterable[tuple[str, float | int]]]) -> SortedTable:
    """The table NAME: read from the store, else built from the source list and stored for next time."""
    folder = _store_dir()
    path = folder / f"{name}-{source_version}-v{TABLE_FORMAT}.bin" if folder is not None else None
    if path is not None:
        try:
            return SortedTable.load(path)
        except (OSError, ValueError):
            pass  # not built yet, or damaged: build it again
    table = SortedTable.from_items(build(), typecode)
    if path is not None:
        try:
            table.dump(path)
        except OSError:
            pass  # a read-only cache: parse again next time
    return table


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


# Words that wordfreq's tokenizer splits only at hyphens (into lowercase tokens): ASCII letters,
# with at most one apostrophe per part ("jakarta's", "it's"; but one or two letters, an apostrophe
# and a vowel or "h" split, as in "l'oreal": those go to wordfreq). For these the table gives
# exactly `zipf_frequency`; anything else (digits, accents, curly quotes) goes to wordfreq itself.
_TABLE_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?(?:-[A-Za-z]+(?:'[A-Za-z]+)?)*")
_LIST_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_MIN_FREQ = 1e-9  # wordfreq's floor for zipf_frequency(minimum=0): zipf 0


_ELIDING = frozenset("aehiouy")  # wordfreq's INITIAL_VOWEL_EXPR, ASCII part


def _one_token(part: str) -> bool:
    """Whether wordfreq keeps a lowercase part with at most one apostrophe as one token."""
    at = part.find("'")
    return at < 0 or at >= 3 or part[at + 1] not in _ELIDING


def _wordfreq_items(lang: str) -> Iterable[tuple[str, float]]:
    """wordfreq's list frequency of each word the table can answer for."""
    from wordfreq import get_frequency_dict

    return ((w, f) for w, f in get_frequency_dict(lang).items() if _LIST_WORD.fullmatch(w))


@lru_cache(maxsize=4)
def _freq_table(lang: str) -> SortedTable:
    return _table(f"wordfreq-{lang}", _version("wordfreq"), "d", lambda: _wordfreq_items(lang))


def _zipf(word: str, lang: str) -> float:
    """wordfreq's `zipf_frequency(word, lang)`, from the table where the word's tokens are plain.

    The arithmetic is wordfreq's own (`_word_frequency`): tokens combine as 1/f = 1/f1 + 1/f2 + ...,
    a missing token gives the floor, the result is rounded to 3 significant digits, then to
    hundredths on the Zipf scale (`tests/test_lexicon.py` compares the two).
    """
    if _TABLE_WORD.fullmatch(word):
        tokens = word.lower().split("-")
        if all(_one_token(t) for t in tokens):
            table = _freq_table(lang)
            one_over = 0.0
            for token in tokens:
                freq = float(table.get(token, 0.0))
                if not freq:
                    return round(math.log(_MIN_FREQ, 10) + 9, 2)
                one_over += 1.0 / freq
            unrounded = max(1.0 / one_over, _MIN_FREQ)
            rounded = round(unrounded, math.floor(-math.log(unrounded, 10)) + 3)
            return round(math.log(rounded, 10) + 9, 2)
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


@lru_cache(maxsize=200_000)
def zipf_en(word: str) -> float:
    return _zipf(word, "en")


@lru_cache(maxsize=200_000)
def zipf_id(word: str) -> float:
    return _zipf(word, "id")


@dataclass(frozen=True)
class NgramCounts:
    """English unigram and bigram counts (symspellpy's frequency dictionaries); bigram keys are
    "first second" (one space)."""

    unigrams: SortedTable
    bigrams: SortedTable
    total_unigrams: int

    def unigram_logprob(self, word: str) -> float:
        # add-one over a vocabulary that includes one unknown slot
        count = self.unigrams.get(word, 0)
        return math.log((count + 1) / (self.total_unigrams + len(self.unigrams) + 1))

    def bigram(self, first: str, second: str) -> int:
        return int(self.bigrams.get(f"{first} {second}", 0))


def _symspell_counts(file: str, words: int) -> Iterable[tuple[str, int]]:
    """(key, count) of each well-formed line of a symspellpy dictionary: `words` words, then the count."""
    counts: dict[str, int] = {}  # a repeated key keeps its last count, as a dict built line by line does
    with (resources.files("symspellpy") / file).open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == words + 1:
                counts[" ".join(parts[:words])] = int(parts[words])
    return counts.items()


@lru_cache(maxsize=1)
def ngram_counts() -> NgramCounts:
    """symspellpy's English counts, once per process (milliseconds from the stored tables)."""
    source = _version("symspellpy")
    unigrams = _table("symspell-unigrams", source, "q", lambda: _symspell_counts("frequency_dictionary_en_82_765.txt", 1))
    bigrams = _table("symspell-bigrams", source, "q",
                     lambda: _symspell_counts("frequency_bigramdictionary_en_243_342.txt", 2))
    return NgramCounts(unigrams, bigrams, int(unigrams.total()))


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
    return list(_words(text))


@lru_cache(maxsize=8192)  # each signal reads the words of each sentence: tokenized once
def _words(text: str) -> tuple[tuple[str, int, int], ...]:
    if _INVISIBLE_RE.search(text) is None:  # nearly always: no word to clean
        return tuple((m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(text))
    return tuple((without_invisibles(m.group(0)), m.start(), m.end()) for m in WORD_RE.finditer(text))


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
