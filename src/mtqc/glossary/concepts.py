"""Concepts and glossaries: what a glossary says, and where its terms occur in a text.

A concept names the Indonesian term(s), the preferred English term, accepted variants, known
wrong renderings (machine calques), a note and where the fact was verified. Reading glossary
files is `formats` (and `tbx`); layering user glossaries over the built-in one is `builtin`;
the matching rules are `matcher`'s.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

from ..results import Severity
from .matcher import TermMatcher, find_term


@dataclass(frozen=True)
class Concept:
    """One concept: how Indonesian news names it, and how English should render it."""

    preferred: str
    indonesian: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    wrong: tuple[str, ...] = ()
    note: str = ""
    source: str = ""
    severity: Severity = "minor"
    origin: str = ""  # "file:line" where the concept is defined
    layer: str = ""  # "user" or "builtin" once layered: a user's own entries are flagged as written


@dataclass(frozen=True)
class TermMatch:
    """A glossary hit in a sentence."""

    start: int
    end: int
    concept: Concept
    kind: str  # "wrong" (a known bad rendering) or "source" (the Indonesian term left in English)


@dataclass(frozen=True)
class Glossary:
    """A set of concepts from one or more files, with a matcher over all of them.

    Where two concepts match the same text, the one listed first wins: `load_glossaries` lists
    user glossaries before the built-in one.
    """

    concepts: tuple[Concept, ...] = ()
    names: tuple[str, ...] = ()  # for the report signature: name@sha256-prefix, in precedence order

    @cached_property
    def _terms(self) -> tuple[list[tuple[Concept, str]], TermMatcher]:
        """(concept, kind) per term, wrong renderings before Indonesian terms, and their matcher."""
        kinds: list[tuple[Concept, str]] = []
        terms: list[str] = []
        for concept in self.concepts:
            for kind, group in (("wrong", concept.wrong), ("source", concept.indonesian)):
                for term in group:
                    terms.append(term)
                    kinds.append((concept, kind))
        return kinds, TermMatcher(terms)

    @cached_property
    def _preferred(self) -> tuple[dict[int, int], list[int], TermMatcher]:
        """Concept positions by id, the concept of each preferred or accepted term, and a matcher
        over those terms (in any case: "The National Police" explains "Polri" as well)."""
        positions = {id(c): i for i, c in enumerate(self.concepts)}
        owners = [i for i, c in enumerate(self.concepts) for _ in (c.preferred, *c.accepted)]
        terms = [t for c in self.concepts for t in (c.preferred, *c.accepted)]
        return positions, owners, TermMatcher(terms, fold=True)

    @cached_property
    def _mentions_cache(self) -> dict[str, frozenset[int]]:
        return {}

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches, longest first where two overlap, then the earlier concept."""
        if not self.concepts:
            return []
        kinds, matcher = self._terms
        hits = matcher.find(text)
        hits.sort(key=lambda h: (h.start - h.end, h.start, h.term))
        starts: list[int] = []
        ends: list[int] = []
        chosen: list[TermMatch] = []
        for start, end, term in hits:
            k = bisect_right(starts, start)
            if (k > 0 and ends[k - 1] > start) or (k < len(starts) and starts[k] < end):
                continue  # overlaps a longer (or earlier) match
            starts.insert(k, start)
            ends.insert(k, end)
            concept, kind = kinds[term]
            chosen.append(TermMatch(start, end, concept, kind))
        return sorted(chosen, key=lambda h: h.start)

    def mentions_preferred(self, text: str, concept: Concept) -> bool:
        """True when `text` already uses the preferred term or an accepted variant."""
        positions, owners, matcher = self._preferred
        position = positions.get(id(concept))
        if position is None:  # a concept from elsewhere: search for its terms one by one
            return any(find_term(text, term, fold=True) for term in (concept.preferred, *concept.accepted))
        cache = self._mentions_cache
        if text not in cache:
            if len(cache) >= 8:  # callers ask about one article many times, then move on
                cache.clear()
            cache[text] = frozenset(owners[hit.term] for hit in matcher.scan(text))
        return position in cache[text]
