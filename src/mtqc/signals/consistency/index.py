"""Per-article indexes of what an article names: entity phrases and people, built once per article.

An index depends on the article's sentences alone, and more than one caller reads it (the
entity mechanism asks for phrase outputs before the context exists, then reads the same
families from it; any mechanism may read the people), so it is memoised by the sentences:
a mechanism calls `article_index(texts)` and gets the one already built for that article.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterable, Mapping, Sequence

from ...ingest.lexicon import zipf_en
from .common import Mention

# Families of renderings: entity -> head lemma -> its mentions ("Malaysia" -> "worker" -> [...])
EntityFamilies = Mapping[str, Mapping[str, tuple[Mention, ...]]]

_HEAD_STOPWORDS = frozenset(
    "a an the one some any all part most many several each both this that these those who which what "
    "and or of in on at to for by with from as is are was were be been has have had will would can could "
    "said says".split()
)
_ENTITY = r"((?:[A-Z][a-z]+\s)?[A-Z][a-z]+)"
# (pattern, entity group, head group): 'X-n heads', "X's head", 'the head of X'
_ENTITY_PATTERNS = (
    (re.compile(_ENTITY + r"n\s+([a-z]+)"), 1, 2),  # Malaysian migrants
    (re.compile(_ENTITY + r"['\u2019]s\s+([a-z]+)"), 1, 2),  # Malaysia's migration
    (re.compile(r"\b(?:[Tt]he\s+)?([a-z]+)\s+of\s+" + _ENTITY + r"\b"), 2, 1),  # the migration of Malaysia
)

_PRONOUNS = {"he": "m", "him": "m", "his": "m", "she": "f", "her": "f", "hers": "f"}
_PRONOUN_RE = re.compile(r"\b(he|him|his|she|her|hers)\b", re.IGNORECASE)
_TITLES = frozenset(
    "mr mrs ms dr prof minister governor president vice head chief director general secretary mayor regent "
    "finance foreign home defence defense coordinating deputy acting ambassador chairman chairwoman "
    "speaker professor analyst commander admiral colonel lieutenant sergeant captain inspector police "
    "according meanwhile however".split()
)
# words that make a capitalised run an organisation or place rather than a person
_NOT_PERSON = frozenset(
    "ministry minister agency party council office bank university police army court house street road "
    "village district city province regency island river government commission board company group "
    "national regional central north south east west jakarta indonesia".split()
)


def _demonym_base(word: str) -> str:
    """'Korean' -> 'Korea', 'Indonesian' -> 'Indonesia': demonyms that add -n to a name in -a."""
    return word[:-1] if word.endswith("an") and len(word) > 4 else word


_PERSON_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*\b")
_NAME_SEPARATOR = re.compile(r"[ -]")


def _person_mentions(text: str, people: dict[str, list[tuple[str, Mention]]],
                     first_with_word: dict[str, int], order: list[str]) -> Iterable[tuple[int, int, str]]:
    """(start, end, person) for each person named in `text`; titles are stripped, and later short
    mentions ("Wahyuningsih") map to the full name first seen ("Sri Wahyuningsih").

    `order` lists the people in the order they were first named and `first_with_word` maps each
    word of their names to the first of them it occurs in: a mention finds the earliest person
    sharing a word with it by looking up its words, not by scanning every person.
    """
    for m in _PERSON_RUN.finditer(text):
        words = _NAME_SEPARATOR.split(m.group(0))
        while words and words[0].lower() in _TITLES:
            words = words[1:]
        if not words or any(w.lower() in _NOT_PERSON for w in words):
            continue
        firsts = [first_with_word[w] for w in words if w in first_with_word]
        if firsts:
            yield m.start(), m.end(), order[min(firsts)]
        elif len(words) >= 2 and any(zipf_en(w.lower()) < 3.0 for w in words):
            name = " ".join(words)
            if name not in people:
                for w in name.split():
                    first_with_word.setdefault(w, len(order))
                order.append(name)
            people[name] = []
            yield m.start(), m.end(), name


@dataclass(frozen=True)
class ArticleIndex:
    """The indexes of one article's sentences, each built on first use."""

    texts: tuple[str, ...]

    @cached_property
    def entity_families(self) -> EntityFamilies:
        """Phrases that name a kind of thing by a named entity: 'X-n heads', "X's head", 'the head of X'."""
        found: dict[str, dict[str, list[Mention]]] = defaultdict(lambda: defaultdict(list))
        for i, text in enumerate(self.texts):
            for pattern, entity_group, head_group in _ENTITY_PATTERNS:
                for m in pattern.finditer(text):
                    head = m.group(head_group)
                    if head in _HEAD_STOPWORDS or len(head) < 4 or zipf_en(head) < 2.5:
                        continue
                    name = _demonym_base(m.group(entity_group).strip())
                    lemma = head[:-1] if head.endswith("s") and not head.endswith("ss") else head
                    found[name][lemma].append(Mention(i, m.start(), m.end(), m.group(0)))
        # read-only from here: every caller shares it
        return {name: {head: tuple(ms) for head, ms in by_head.items()} for name, by_head in found.items()}

    @cached_property
    def people_pronouns(self) -> Mapping[str, tuple[tuple[str, Mention], ...]]:
        """Each person the article names (full name), with the gendered pronouns that follow a
        mention of them before another person is named: ("m" | "f", mention) in text order."""
        people: dict[str, list[tuple[str, Mention]]] = {}
        first_with_word: dict[str, int] = {}
        order: list[str] = []
        last_person: str | None = None
        for i, text in enumerate(self.texts):
            events = [(start, "person", name, end) for start, end, name in _person_mentions(text, people, first_with_word, order)]
            events += [(m.start(), "pronoun", m.group(0), m.end()) for m in _PRONOUN_RE.finditer(text)]
            for start, kind, value, end in sorted(events):
                if kind == "person":
                    last_person = value
                elif last_person:
                    people[last_person].append((_PRONOUNS[value.lower()], Mention(i, start, end, value)))
        return {person: tuple(pronouns) for person, pronouns in people.items()}


@lru_cache(maxsize=8)
def _index(texts: tuple[str, ...]) -> ArticleIndex:
    return ArticleIndex(texts)


def article_index(texts: Sequence[str]) -> ArticleIndex:
    """The index of the article with these sentences (the same object for the same sentences)."""
    return _index(tuple(texts))
