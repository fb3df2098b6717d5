"""Noun phrases for one entity with near-synonymous heads ("Malaysian workers" / "the labourers of Malaysia")."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Mapping, Sequence

from ...glossary import Concept
from ...results import Flag
from ..base import ArticleContext, PhraseRequest
from .common import (
    ConsistencyMechanism,
    Mention,
    english_forms,
    form_key,
    is_glossary_wrong,
    is_plural,
    minority,
    pluralise,
)
from .index import EntityFamilies, article_index

_CALQUE_ORDER = re.compile(r"^(?:the\s+)?[a-z]+\s+of\s|['\u2019]s\s", re.IGNORECASE)
_OF_HEAD = re.compile(r"^(?:the\s+)?([a-z]+)\s+of\s", re.IGNORECASE)
_LEADING_THE = re.compile(r"^(the)\s+", re.IGNORECASE)


def is_calque_order(phrase: str) -> bool:
    """'the escape of Ruritania', "Ruritania's escape": head before modifier, as in Indonesian."""
    return bool(_CALQUE_ORDER.search(phrase))


def _head_word(phrase: str) -> str:
    """The head noun of an entity phrase: 'escape' in 'the escape of X', else the last word."""
    m = _OF_HEAD.match(phrase)
    return m.group(1) if m else phrase.rsplit(" ", 1)[-1]


def _form_keys(phrase: str) -> tuple[str, ...]:
    """How a rendering may meet a glossary term: as a whole ("North Korean escapees") or by its head."""
    return (form_key(phrase), form_key(_head_word(phrase)))


def _demonym(entity: str, texts: Sequence[str]) -> str | None:
    """'Korea' -> 'Korean' (the index files 'X-n heads' under X, see index._demonym_base), where the
    article itself writes it: '-n' makes no adjective of many places ("West Java", "Jakarta")."""
    demonym = entity + "n"
    pattern = re.compile(rf"\b{re.escape(demonym)}\b")
    return demonym if entity.endswith("a") and any(pattern.search(t) for t in texts) else None


def _compose(preferred: str, premodifier: str | None, entity: str, plural: bool, span: str) -> str:
    """The preferred term as a replacement for `span`: premodified as the article names the entity,
    in the number wanted, with `span`'s leading "the" kept only where a singular needs it."""
    term = pluralise(preferred) if plural else preferred
    words = set(re.findall(r"[\w'\u2019-]+", preferred.lower()))
    if not words & set(entity.lower().split()) and not (premodifier and set(premodifier.lower().split()) <= words):
        # the preferred term names no entity ("defector"): say whose, as the article does
        term = f"{premodifier or entity} {term}"
    the = _LEADING_THE.match(span)
    if the and not plural:  # "the escape of X said" -> "the X-n defector said"; a generic plural needs none
        term = f"{the.group(1)} {term}"
    elif the and the.group(1) == "The":  # the dropped "The" opened the sentence
        term = term[:1].upper() + term[1:]
    return term


class EntityPhrasesSignal(ConsistencyMechanism):
    """Phrases for one entity with near-synonymous heads ("Indonesian migrants" / "the migration of Indonesia").

    The phrases are one concept when they back-translate to the same Indonesian (an engine that
    translates) or, failing that, when MiniLM finds both the phrases and their heads similar.
    """

    name = "consistency.entities"
    optional = ("backtranslations", "phrase_embeddings")  # without either it finds nothing
    THRESHOLDS = {
        "phrase_similarity": 0.60,  # MiniLM similarity of two entity phrases...
        "head_similarity": 0.40,  # ...and of their head nouns alone, to call them one concept
        "min_repeats": 2.0,  # each embedding-matched rendering must recur: a single mention is often a different thing
    }

    def _entity_families(self, texts: Sequence[str], can_translate: bool) -> EntityFamilies:
        families = {e: by_head for e, by_head in article_index(texts).entity_families.items() if len(by_head) >= 2}
        if not can_translate:
            # embeddings only compare renderings that each recur: ask for none when none do
            min_repeats = self.thresholds["min_repeats"]
            families = {e: b for e, b in families.items() if sum(len(m) >= min_repeats for m in b.values()) >= 2}
        return families

    def phrase_requests(self, texts: Sequence[str], *, can_translate: bool) -> PhraseRequest:
        """Entity phrases to back-translate (engine permitting) and, with their heads, to embed."""
        families = self._entity_families(texts, can_translate)
        phrases = tuple(sorted({by_head[h][0].text for by_head in families.values() for h in by_head}))
        heads = tuple(sorted({h for by_head in families.values() for h in by_head}))
        if not phrases:
            return PhraseRequest()
        return PhraseRequest(translate=phrases if can_translate else (), embed=phrases + heads)

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        families = self._entity_families(texts, ctx.engine.can_translate)
        # the pipeline computed the phrases' outputs (see `phrase_requests`); missing ones count as absent
        translated = ctx.phrase_backtranslations or {}
        back = {p: re.sub(r"\W+", " ", t).strip().lower() for p, t in translated.items()}
        vectors: Mapping[str, Sequence[float]] = ctx.phrase_embeddings or {}
        out: list[tuple[int, Flag]] = []
        for entity, by_head in families.items():
            for group in self._same_concept_groups(sorted(by_head), by_head, back, vectors):
                counts = Counter({h: len(by_head[h]) for h in group})
                concept = self._group_concept(ctx, group, by_head, back)
                if concept:  # the glossary knows this concept: its preferred term, not the article's majority
                    to_fix = self._against_glossary(concept, entity, group, by_head, texts)
                    known = f" The glossary's term is '{concept.preferred}'."
                else:
                    to_flag, suggestion = self._against_calques(group, by_head, counts)
                    to_fix = [(h, m, suggestion) for h in to_flag for m in by_head[h]]
                    known = ""
                for head, m, suggestion in to_fix:
                    if is_glossary_wrong(ctx.glossary, m.text):
                        continue  # a known wrong rendering: the terminology signal flags it
                    others = "', '".join(sorted({by_head[h][0].text for h in group if h != head}))
                    out += self._flag_all(
                        [m], f"'{m.text}' and '{others}' look like one concept rendered differently in this article.{known}",
                        suggestion,
                    )
        return out

    @staticmethod
    def _group_concept(ctx: ArticleContext, group: list[str], by_head: Mapping[str, Sequence[Mention]],
                       back: Mapping[str, str]) -> Concept | None:
        """The glossary concept the group's renderings name, if the glossary knows it.

        Strongest first: a rendering the glossary lists as wrong; a back-translation containing
        the concept's Indonesian term (lower-cased, so acronyms, which match by case, never do);
        a rendering that is the concept's preferred term, or one of its accepted terms of two or
        more words. A one-word accepted term alone does not name the concept: such words are loose
        ("fugitive" is accepted for a wanted person) and would pull in an unrelated concept.
        """
        mentions = [m for h in group for m in by_head[h]]
        for m in mentions:
            for match in ctx.glossary.find(m.text):
                if match.kind == "wrong":
                    return match.concept
        for h in group:
            for match in ctx.glossary.find(back.get(by_head[h][0].text, "")):
                if match.kind == "source":
                    return match.concept
        forms = english_forms(ctx.glossary)
        for kinds in (("preferred",), ("accepted",)):
            for m in mentions:
                for key in _form_keys(m.text):
                    for concept, kind, _ in forms.get(key, ()):
                        if kind in kinds and (kind == "preferred" or " " in key):
                            return concept
        return None

    @staticmethod
    def _against_glossary(concept: Concept, entity: str, group: list[str], by_head: Mapping[str, Sequence[Mention]],
                          texts: Sequence[str]) -> list[tuple[str, Mention, str]]:
        """(head, mention, suggestion) for each rendering of a concept the glossary knows that is not
        its preferred or accepted term in English order.

        The suggestion is the preferred term, with the premodifier of the group's best premodified
        rendering ("North Korean" + "defector"), in the number the flagged rendering needs; with
        none, the entity's demonym where the article uses it, else its name ("West Java province").
        """
        good = {form_key(t) for t in (concept.preferred, *concept.accepted)}

        def ok_form(m: Mention) -> bool:
            return any(k in good for k in _form_keys(m.text))

        mentions = [(h, m) for h in group for m in by_head[h]]
        natural = [m for _, m in mentions if not is_calque_order(m.text)]
        # the best premodified rendering: one in the glossary's terms first, then the commonest
        by_text = Counter(m.text for m in natural)
        best = max(natural, key=lambda m: (ok_form(m), by_text[m.text]), default=None)
        # a sentence's opening "The" can sit inside a premodified rendering ("The Malaysian workers")
        premodifier = _LEADING_THE.sub("", best.text.rsplit(" ", 1)[0]) if best else _demonym(entity, texts)
        best_plural = best is not None and is_plural(_head_word(best.text))
        out = []
        for head, m in mentions:
            if ok_form(m) and not is_calque_order(m.text):
                continue
            word = _head_word(m.text)
            # Indonesian marks no number: a calque with a singular head ("the escape of X") takes the
            # number of the article's own premodified rendering
            plural = is_plural(word) or (is_calque_order(m.text) and best_plural)
            out.append((head, m, _compose(concept.preferred, premodifier, entity, plural, m.text)))
        return out

    @staticmethod
    def _against_calques(group: list[str], by_head: Mapping[str, Sequence[Mention]],
                         counts: Counter[str]) -> tuple[list[str], str]:
        """Renderings to flag and the suggestion, for one concept the glossary does not know.

        Indonesian puts the modifier after its head ("pengungsi Suriah"), and MT often keeps that
        order as "the refugees of Syria" or "Syria's refugees"; English names a group of people
        with the modifier first ("Syrian refugees"). So where some renderings are premodified and
        others are of-/possessive forms, the latter are flagged whatever their count, and the
        commonest premodified rendering is suggested. Otherwise the minority is flagged.
        """
        natural = [h for h in group if not any(is_calque_order(m.text) for m in by_head[h])]
        calqued = [h for h in group if h not in natural]
        if natural and calqued:
            best = max(natural, key=lambda h: (counts[h], -natural.index(h)))
            return calqued, by_head[best][0].text
        return (minority(counts, sorted(group, key=lambda h: counts[h])),
                by_head[counts.most_common(1)[0][0]][0].text)

    def _same_concept_groups(self, heads: list[str], by_head: Mapping[str, Sequence[Mention]], back: dict[str, str],
                             vectors: Mapping[str, Sequence[float]]) -> list[list[str]]:
        if back:
            # the strongest evidence: the phrases go back to one Indonesian term
            groups: dict[str, list[str]] = defaultdict(list)
            for head in heads:
                translation = back.get(by_head[head][0].text)
                if translation:
                    groups[translation].append(head)
            found = [g for g in groups.values() if len(g) > 1]
            if found:
                return found
        repeated = [h for h in heads if len(by_head[h]) >= self.thresholds["min_repeats"]
                    and h in vectors and by_head[h][0].text in vectors]
        if len(repeated) < 2 or not vectors:
            return []

        def sim(a: str, b: str) -> float:
            return sum(x * y for x, y in zip(vectors[a], vectors[b]))

        parent = {h: h for h in repeated}

        def root(h: str) -> str:
            while parent[h] != h:
                h = parent[h]
            return h

        for i, a in enumerate(repeated):
            for b in repeated[i + 1:]:
                if (sim(by_head[a][0].text, by_head[b][0].text) >= self.thresholds["phrase_similarity"]
                        and sim(a, b) >= self.thresholds["head_similarity"]):
                    parent[root(b)] = root(a)
        clusters: dict[str, list[str]] = defaultdict(list)
        for head in repeated:
            clusters[root(head)].append(head)
        return [c for c in clusters.values() if len(c) > 1]

