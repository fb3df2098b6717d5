"""A glossary concept named by both its Indonesian and its English form in one article ("Polri" / "National Police")."""
from __future__ import annotations

from collections import Counter
from typing import Any

from ...glossary.matcher import TermMatcher
from ...results import Flag
from ..base import ArticleContext
from .common import ConsistencyMechanism, Mention, drop_overlaps


class GlossaryFormsSignal(ConsistencyMechanism):
    """A glossary concept named both in Indonesian and in English ("IHSG" beside "JCI")."""

    name = "consistency.glossary_forms"

    def _find(self, ctx: ArticleContext, texts: list[str]) -> list[tuple[int, Flag]]:
        found_source: dict[int, tuple[Any, list[Mention]]] = {}
        for i, text in enumerate(texts):
            for match in ctx.glossary.find(text):
                if match.kind == "source":
                    found_source.setdefault(id(match.concept), (match.concept, []))[1].append(
                        Mention(i, match.start, match.end, text[match.start:match.end]))
        # every English form of every concept found, searched in one pass over the article (one
        # matcher per case rule: an all-capitals term keeps its case), not term by sentence
        terms = list(dict.fromkeys(t for concept, _ in found_source.values() for t in (concept.preferred, *concept.accepted)))
        by_fold = {fold: [t for t in terms if (not t.isupper()) == fold] for fold in (True, False)}
        where: dict[tuple[bool, str], list[Mention]] = {}
        for fold, fold_terms in by_fold.items():
            if not fold_terms:
                continue
            matcher = TermMatcher(fold_terms, fold=fold)
            for i, text in enumerate(texts):
                for hit in matcher.find(text):  # per term: sorted by start, not overlapping
                    where.setdefault((fold, fold_terms[hit.term]), []).append(Mention(i, hit.start, hit.end, text[hit.start:hit.end]))
        out: list[tuple[int, Flag]] = []
        for concept, source_mentions in found_source.values():
            english: list[Mention] = []
            for term in (concept.preferred, *concept.accepted):
                english += where.get((not term.isupper(), term), [])
            english = drop_overlaps(english)

            def defining(m: Mention) -> bool:  # "English name (ACR)" or "ACR (English name)" introduces a form
                text = texts[m.sentence]
                return text[m.end:m.end + 2].startswith(" (") or text[max(0, m.start - 1):m.start] == "("

            src = [m for m in source_mentions if not defining(m)]
            eng = [m for m in english if not defining(m)]
            if not src or not eng:
                continue
            # an Indonesian form the article introduced itself may be used; flag it only when the
            # English form clearly took over (3x), else when it is the minority
            introduced = len(src) < len(source_mentions)
            if len(eng) < (3 * len(src) if introduced else len(src) + 1):
                continue
            usual = Counter(m.text for m in eng).most_common(1)[0][0]
            out += self._flag_all(
                src, f"This article mostly calls {concept.preferred} '{usual}'; the Indonesian form is the odd one out.", usual
            )
        return out
