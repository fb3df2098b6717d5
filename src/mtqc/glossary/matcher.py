"""Term matching: where glossary terms occur in a text, inflected as English inflects them.

The matching rules, stated once here (`is_acronym`, `_forms`, `_suffix_ends` and `_surround`):

* case is ignored, except in acronyms ("RT", a neighbourhood unit, is not "rt");
* the words of a term may be joined by any run of spaces and hyphens ("duty-unit", "Duty  Unit");
* a leading "the" is optional, and part of the match where the text has it ("the agency");
* an ASCII head word may take a plural (s, es; a y-word: y -> ies) and a possessive ('s, ');
* a match is whole words: no word character or hyphen may touch it on either side.

`TermMatcher` finds many terms at once with one Aho-Corasick automaton (pyahocorasick), so its
time is linear in the text and the number of hits whatever the number of terms; `find_term`
finds one term.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator, NamedTuple, Sequence

import ahocorasick

_SEPARATORS = re.compile(r"[\s\-]+")
_WORD_CHAR = r"[\w-]"  # what may not touch a match on either side
_is_word_char = re.compile(_WORD_CHAR).match
_APOSTROPHES = "'\u2019"

# flags of a surface form: what may surround the form's words
_LEAD_THE = 1  # "the " before the form is part of the match ("the apparatus")
_PLURAL = 2  # s/es may follow the head word
_POSSESSIVE = 4  # 's, ' may follow (after the plural, if any)


class _Form(NamedTuple):
    """One surface form of a term: its words (as written in the term) and what may surround them."""

    words: tuple[str, ...]
    flags: int


def is_acronym(term: str) -> bool:
    """Acronyms are matched case-sensitively: "RT" (a neighbourhood unit) is not "rt"."""
    return term.isupper() and len(term) <= 6


def term_key(term: str) -> str:
    """A term as compared across glossaries: case-folded, runs of spaces and hyphens alike."""
    return _SEPARATORS.sub(" ", term.strip()).casefold()


def _forms(term: str) -> list[_Form]:
    """The surface forms of a term; none when it has no words.

    A y-word head has two forms ("agency", "agencies") rather than a stem and two endings, so
    that each form's words are whole words.
    """
    words = [w for w in (_SEPARATORS.split(term.strip()) if "-" in term else term.split()) if w]
    lead = len(words) > 1 and words[0].lower() == "the"
    if lead:
        words = words[1:]
    if not words:
        return []
    head = words[-1]
    flags = _LEAD_THE if lead else 0
    if not (head.isascii() and head.isalpha()):  # "Plt.", "19": no inflection
        return [_Form(tuple(words), flags)]
    if head.endswith("y"):
        plural = (*words[:-1], head[:-1] + "ies")
        return [_Form(tuple(words), flags | _POSSESSIVE), _Form(plural, flags | _POSSESSIVE)]
    return [_Form(tuple(words), flags | _PLURAL | _POSSESSIVE)]


def _suffix_ends(text: str, end: int, flags: int, fold: bool) -> list[int]:
    """Where a form whose words end at `end` may end, with the plural and possessive it allows."""
    ends = [end]
    if flags & _PLURAL:
        after = text[end:end + 2]
        after = after.lower() if fold else after
        if after == "es":
            ends.append(end + 2)
        if after[:1] == "s":
            ends.append(end + 1)
    if flags & _POSSESSIVE:
        for e in list(ends):
            if text[e:e + 1] and text[e] in _APOSTROPHES:
                ends.append(e + 1)
                if text[e + 1:e + 2] == "s" or (fold and text[e + 1:e + 2] == "S"):
                    ends.append(e + 2)
    return ends


def _fold(text: str) -> str:
    """Lower-case `text` character by character, so that offsets stay aligned."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # a few characters lower-case to two ("İ"); keep those as they are
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


# a separator that `_normalise` changes: a run of two or more, or one that is not a plain space
_CHANGED_SEPARATOR = re.compile(r"[\s\-]{2,}|[^\S ]|-")


@lru_cache(maxsize=16384)  # each signal scans every sentence, one signal after another: room for a long article
def _normalise(text: str, fold: bool) -> tuple[str, Sequence[int]]:
    """`text` with each run of spaces and hyphens made one space, and each character's origin."""
    source = _fold(text) if fold else text
    if _CHANGED_SEPARATOR.search(source) is None:
        return source, range(len(source))  # nothing moves: most sentences
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for m in _SEPARATORS.finditer(source):
        start, end = m.span()
        parts.append(source[last:start])
        origin.extend(range(last, start))
        parts.append(" ")
        origin.append(start)
        last = end
    parts.append(source[last:])
    origin.extend(range(last, len(source)))
    return "".join(parts), origin


class TermHit(NamedTuple):
    """Where a term matched: text[start:end], and the term's position in the matcher's list.

    A tuple, not a dataclass: a large glossary yields thousands per article, sorted as tuples.
    """

    start: int
    end: int
    term: int


class TermMatcher:
    """Every occurrence of any of many terms in a text.

    Args:
        terms: The terms; hits name them by position.
        fold: Ignore case in every term (True), in none (False), or in all but acronyms (None).

    The automata are keyed by each term's first word (a far smaller trie than whole terms: it
    builds in a fraction of the time for a glossary of hundreds of thousands of terms); the rest
    of the term is compared where the first word is found. Two automata: one over lower-cased
    text for terms matched in any case, one over the text as written for the others.
    """

    def __init__(self, terms: Iterable[str], *, fold: bool | None = None) -> None:
        groups: dict[bool, dict[str, list[tuple[str, int, int]]]] = {True: {}, False: {}}
        for index, term in enumerate(terms):
            term_fold = not is_acronym(term) if fold is None else fold
            by_first = groups[term_fold]
            for words, flags in _forms(term):
                first, rest = words[0], "".join(" " + w for w in words[1:])
                if term_fold:
                    first, rest = _fold(first), _fold(rest)
                entry = (rest, index, flags)
                if first in by_first:
                    by_first[first].append(entry)
                else:
                    by_first[first] = [entry]
        self._automata: dict[bool, ahocorasick.Automaton] = {}
        for group_fold, by_first in groups.items():
            if by_first:
                automaton = self._automata[group_fold] = ahocorasick.Automaton(ahocorasick.STORE_ANY)
                for first, entries in by_first.items():
                    automaton.add_word(first, (len(first), tuple(entries)))
                automaton.make_automaton()

    def scan(self, text: str) -> Iterator[TermHit]:
        """Each place a term matches, in no particular order; one term's matches may overlap."""
        for fold, automaton in self._automata.items():
            normal, origin = _normalise(text, fold)
            for last, (length, entries) in automaton.iter(normal):
                start = origin[last - length + 1]
                if start > 0 and _is_word_char(text, start - 1):
                    continue  # inside a word ("media" in "multimedia"); a leading "the" needs a space anyway
                for rest, term, flags in entries:
                    if rest and not normal.startswith(rest, last + 1):
                        continue
                    end = origin[last + len(rest)] + 1
                    span = _surround(text, start, end, flags, fold)
                    if span is not None:
                        yield TermHit(span[0], span[1], term)

    def find(self, text: str) -> list[TermHit]:
        """Each term's matches, sorted by term then start; one term's matches do not overlap.

        Of overlapping matches of one term the leftmost is kept, as `re.finditer` keeps it.
        """
        kept: list[TermHit] = []
        last_term, last_end = -1, -1
        for hit in sorted(self.scan(text), key=lambda h: (h.term, h.start)):
            if hit.term != last_term:
                last_term, last_end = hit.term, -1
            if hit.start >= last_end:
                kept.append(hit)
                last_end = hit.end
        return kept


def _surround(text: str, start: int, end: int, flags: int, fold: bool) -> tuple[int, int] | None:
    """The match's full span around a form found at text[start:end] (whose left edge is a word
    boundary), or None where it is no match."""
    right = max((e for e in _suffix_ends(text, end, flags, fold) if not _is_word_char(text, e)), default=None)
    if right is None:
        return None
    if flags & _LEAD_THE:  # an optional "the" and spaces before the form
        i = start
        while i > 0 and text[i - 1].isspace():
            i -= 1
        the = text[max(0, i - 3):i]
        if i < start and (the.lower() if fold else the) == "the" and not (i > 3 and _is_word_char(text, i - 4)):
            return i - 3, right
    return start, right


@lru_cache(maxsize=1024)
def _one_term(term: str, fold: bool | None) -> TermMatcher:
    # callers look for the same few terms in sentence after sentence
    return TermMatcher((term,), fold=fold)


def find_term(text: str, term: str, *, fold: bool | None = None) -> list[tuple[int, int]]:
    """Where `term` occurs in `text`: (start, end) spans, left to right, not overlapping.

    Args:
        fold: Ignore case (True), match it exactly (False), or ignore it unless the term is an
            acronym (None, what glossaries do).
    """
    return [(hit.start, hit.end) for hit in _one_term(term, fold).find(text)]
