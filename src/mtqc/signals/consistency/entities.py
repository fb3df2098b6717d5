"""Noun phrases for one entity with near-synonymous heads ("Malaysian workers" / "the labourers of Malaysia")."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Mapping, Sequence

from ...results import Flag
from ..base import ArticleContext, PhraseRequest
from .common import ConsistencyMechanism, Mention, minority
from .index import EntityFamilies, article_index

_CALQUE_ORDER = re.compile(r"^(?:the\s+)?[a-z]+\s+of\s|['\u2019]s\s", re.IGNORECASE)


def is_calque_order(phrase: str) -> bool:
    """'the escape of Ruritania', "Ruritania's escape": head before modifier, as in Indonesian."""
    return bool(_CALQUE_ORDER.search(phrase))


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
        for by_head in families.values():
            for group in self._same_concept_groups(sorted(by_head), by_head, back, vectors):
                counts = Counter({h: len(by_head[h]) for h in group})
                wrong_hint = self._glossary_hint(ctx, [m for h in group for m in by_head[h]])
                if wrong_hint:  # the glossary knows this concept: every rendering but the preferred one is off
                    to_flag, suggestion = list(group), wrong_hint
                else:
                    to_flag, suggestion = self._against_calques(group, by_head, counts)
                for head in to_flag:
                    others = "', '".join(sorted({by_head[h][0].text for h in group if h != head}))
                    for m in by_head[head]:
                        if self._glossary_hint(ctx, [m]):
                            continue  # a known wrong rendering: the terminology signal flags it
                        out += self._flag_all(
                            [m], f"'{m.text}' and '{others}' look like one concept rendered differently in this article.",
                            suggestion,
                        )
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

    @staticmethod
    def _glossary_hint(ctx: ArticleContext, mentions: list[Mention]) -> str | None:
        for m in mentions:
            for match in ctx.glossary.find(m.text):
                if match.kind == "wrong":
                    return match.concept.preferred
        return None
