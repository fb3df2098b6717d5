"""What the consistency mechanisms share: mentions, the minority rule, and the mechanism base class."""
from __future__ import annotations

import re
from abc import abstractmethod
from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

from ...glossary import Concept, Glossary
from ...glossary.matcher import term_key
from ...ingest.lexicon import VisibleText
from ...results import Flag
from ..base import ArticleContext, Signal, SignalOutput


@dataclass(frozen=True)
class Mention:
    """One occurrence of a rendering, located by sentence index and span within that sentence."""

    sentence: int
    start: int
    end: int
    text: str


def squash(name: str) -> str:
    """A name's letters alone, lowercased: "Tirta Mulya", "Tirta-Mulya" and "TirtaMulya" agree."""
    return re.sub(r"[\s-]", "", name).lower()


def minority(counts: Counter[str], rarer_first: Sequence[str]) -> list[str]:
    """Renderings to flag: all but the most frequent; a tie keeps the one listed last in `rarer_first`."""
    if len(counts) < 2:
        return []
    order = {k: i for i, k in enumerate(rarer_first)}
    ranked = sorted(counts, key=lambda k: (-counts[k], -order.get(k, len(order))))
    return ranked[1:]


def mentions_of(texts: Sequence[str], pattern: re.Pattern[str], group: int = 0) -> list[tuple[Mention, re.Match[str]]]:
    """Every match of `pattern` in the article, as a mention (of `group`) and the match itself."""
    return [(Mention(i, m.start(group), m.end(group), m.group(group)), m) for i, t in enumerate(texts)
            for m in pattern.finditer(t)]


def drop_overlaps(mentions: list[Mention]) -> list[Mention]:
    """Mentions in text order, a mention inside (or overlapping) an earlier, longer one dropped."""
    kept: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.sentence, m.start, -(m.end - m.start))):
        if kept and kept[-1].sentence == m.sentence and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


# plurals that do not end in -s
_IRREGULAR_PLURALS = {"people": "person", "men": "man", "women": "woman", "children": "child"}
_IRREGULAR_SINGULARS = {v: k for k, v in _IRREGULAR_PLURALS.items()}
_SAME_BOTH = frozenset({"news", "series", "species", "police", "media"})  # one form for both numbers


def noun_lemma(word: str) -> str:
    """A noun's singular, lowercased, by English spelling rules ("agencies" -> "agency")."""
    w = word.lower()
    if w in _SAME_BOTH:
        return w
    if w in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[w]
    if w.endswith("men") and len(w) > 4:  # fishermen, chairmen
        return w[:-3] + "man"
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if re.search(r"(?:ss|x|z|ch|sh)es$", w):
        return w[:-2]
    if w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        return w[:-1]
    return w


def is_plural(word: str) -> bool:
    return noun_lemma(word) != word.lower()


def pluralise(phrase: str) -> str:
    """`phrase` with its last word made plural; a name, an of-phrase or an already plural word is kept."""
    words = phrase.split(" ")
    last = words[-1]
    if (not last.isalpha() or last[0].isupper() or " of " in phrase or is_plural(last)
            or last.lower() in _SAME_BOTH):
        return phrase  # "Bank Indonesia", "House of Representatives", "netizens"
    low = last.lower()
    if low in _IRREGULAR_SINGULARS:
        last = _IRREGULAR_SINGULARS[low]
    elif low.endswith("man"):
        last = last[:-3] + "men"
    elif re.search(r"[^aeiou]y$", low):
        last = last[:-1] + "ies"
    elif re.search(r"(?:s|x|z|ch|sh)$", low):
        last += "es"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def form_key(phrase: str) -> str:
    """A rendering as glossary forms are compared: no leading "the" or possessive, case-folded,
    the last word singular ("the North Korean escapees'" and "North Korean escapee" agree)."""
    words = term_key(re.sub(r"['\u2019]s?$", "", phrase)).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join([*words[:-1], noun_lemma(words[-1])]) if words else ""


# the glossaries whose English forms are indexed, most recent last: a checker keeps one glossary
# for every article, and a big user glossary is slow to index
_FORM_INDEXES: list[tuple[Glossary, dict[str, list[tuple[Concept, str, str]]]]] = []


def english_forms(glossary: Glossary) -> Mapping[str, list[tuple[Concept, str, str]]]:
    """Each English form a glossary names, by `form_key`: (concept, "preferred" | "accepted" |
    "wrong", the term as written), in the glossary's order (a user's concepts come first)."""
    for known, built in _FORM_INDEXES:
        if known is glossary:
            return built
    index: dict[str, list[tuple[Concept, str, str]]] = {}
    for concept in glossary.concepts:
        for kind, terms in (("preferred", (concept.preferred,)), ("accepted", concept.accepted), ("wrong", concept.wrong)):
            for term in terms:
                index.setdefault(form_key(term), []).append((concept, kind, term))
    _FORM_INDEXES.append((glossary, index))
    del _FORM_INDEXES[:-4]
    return index


def glossary_choice(glossary: Glossary, forms: Iterable[str]) -> str | None:
    """The one form among `forms` that the glossary gives as a preferred or accepted English term
    (a spelling of a name it lists, say), written exactly so or else alike but for case, spacing
    and number; None where none or several are."""
    index = english_forms(glossary)
    candidates = list(forms)
    good = {f: [t for _, kind, t in index.get(form_key(f), ()) if kind != "wrong"] for f in candidates}
    for chosen in ([f for f in candidates if f in good[f]], [f for f in candidates if good[f]]):
        if chosen:
            return chosen[0] if len(chosen) == 1 else None
    return None


def is_glossary_wrong(glossary: Glossary, text: str) -> bool:
    """True when the glossary lists `text` as a wrong rendering: the terminology signal flags it."""
    return any(m.kind == "wrong" for m in glossary.find(text))


_LEADING_ARTICLE = re.compile(r"the\s+", re.IGNORECASE)
_ARTICLE_BEFORE = re.compile(r"(?:^|[^\w'\u2019-])(?:the|a|an)\s+$", re.IGNORECASE)
_OPENS = re.compile(r"[\s\"'\u201c\u2018(\[-]*")


def fit_to_span(suggestion: str, sentence: str, start: int, end: int) -> str:
    """`suggestion` rewritten to replace exactly `sentence[start:end]`, whatever article stands around it.

    A suggestion that opens with "the" ("The media") would double it where the sentence
    already has one just before the span ("to the awak media" -> "to the The media"): the
    article is dropped there. Elsewhere the article is kept, as the span writes it where the
    span has one, else capitalised where the span opens the sentence and lowercase before a
    common noun (a name's "The Hague" stays as written).
    """
    lead = _LEADING_ARTICLE.match(suggestion)
    if lead is None or lead.end() >= len(suggestion):
        return suggestion
    rest = suggestion[lead.end():]
    span = sentence[start:end]
    own = _LEADING_ARTICLE.match(span)
    if own is not None:  # the span carries its own article: keep it as written there
        return span[:own.end()] + rest
    if _ARTICLE_BEFORE.search(sentence[:start]):
        return rest
    article = suggestion[:lead.end()]
    opens = _OPENS.fullmatch(sentence[:start]) is not None
    if opens:
        article = article[:1].upper() + article[1:]
    elif rest[:1].islower():  # a common noun phrase; a name's "The" ("The Hague") stays as written
        article = article.lower()
    return article + rest


class ConsistencyMechanism(Signal):
    """One way of finding a thing rendered two ways in one article; flags the minority rendering(s).

    Each mechanism is a signal of its own (`consistency.<mechanism>`), so that `--disable` turns
    it off and the calibration weighs it by its own precision. Its one value, `<name>.count`, is
    the number of flags it raised in the sentence.
    """

    flag_types = ("consistency",)

    def _compute(self, ctx: ArticleContext) -> list[SignalOutput]:
        # renderings are compared as a reader sees them (a CMS's soft hyphens left out); flags'
        # spans index the sentences as read
        seen = [VisibleText(s.text) for s in ctx.sentences]
        texts = [v.visible for v in seen]
        flags: list[list[Flag]] = [[] for _ in texts]
        for index, flag in self._find(ctx, texts):
            if flag.suggestion and flag.span:  # a suggestion replaces exactly its span
                flag = replace(flag, suggestion=fit_to_span(flag.suggestion, texts[index], *flag.span))
            if flag.span:
                flag = replace(flag, span=seen[index].span(*flag.span))
            flags[index].append(flag)
        return [SignalOutput({f"{self.name}.count": float(len(f))}, tuple(f)) for f in flags]

    @abstractmethod
    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        """(sentence index, flag) for each minority rendering in the article."""

    def _flag_all(self, mentions: Iterable[Mention], message: str, suggestion: str | None,
                  severity: str = "minor") -> list[tuple[int, Flag]]:
        return [(m.sentence, self.flag("consistency", severity, (m.start, m.end), message, suggestion)) for m in mentions]
